import { describe, expect, it } from '@jest/globals'
import { execFileSync, spawnSync } from 'node:child_process'
import { run, type ActionCore } from '../src/main.js'
import type { InputName } from '../src/constants.js'
import { RUNNER_ENV, SECRET, fakeClock, fakeJwt, jsonAnswer, scriptedSender } from './helpers/fakes.js'

// The job summary is Markdown that GitHub renders on the run's page: nothing from an input may
// form a link, an image or HTML there. Checked with cmark-gfm, GitHub's own renderer (Debian
// packages it; .ci/run installs it), with the extensions GitHub turns on: autolink makes links of
// bare https://…, www.… and e-mail addresses, which no escaping of Markdown's characters prevents.
const CMARK = 'cmark-gfm'
// Required on Linux (CI installs it); elsewhere the suite is skipped when it is missing.
const describeRendered = spawnSync(CMARK, ['--version']).status === 0 || process.platform === 'linux' ? describe : describe.skip

function render(markdown: string): string {
  const extensions = ['autolink', 'table', 'strikethrough', 'tagfilter', 'tasklist'].flatMap((e) => ['--extension', e])
  return execFileSync(CMARK, extensions, { input: markdown, encoding: 'utf8' })
}

async function summaryFor(inputs: Partial<Record<InputName, string>>, extra: Record<string, string> = {}): Promise<string> {
  const NOW = 1_800_000_000_000
  const summaries: string[] = []
  const core: ActionCore = {
    getInput: (name: string) =>
      ({ url: 'https://runai.example.com', 'client-secret': SECRET, 'job-summary': 'true', ...inputs })[name as InputName] ?? '',
    setSecret: () => undefined,
    setOutput: () => undefined,
    exportVariable: () => undefined,
    setFailed: (message) => {
      throw new Error(`the run failed: ${String(message)}`)
    },
    info: () => undefined,
    warning: () => undefined,
    debug: () => undefined,
    isDebug: () => false,
    appendSummary: async (markdown) => void summaries.push(markdown)
  }
  const answer = jsonAnswer(200, { access_token: fakeJwt(NOW / 1000 + 3600, 'summary'), ...extra })
  await run({ core, clock: fakeClock(NOW), env: RUNNER_ENV, createSender: () => scriptedSender([answer]) })
  expect(summaries).toHaveLength(1)
  return summaries[0] ?? ''
}

const HOSTILE_CLIENT_IDS = [
  'https://evil.example/login',
  'www.evil.example',
  'evil@example.com',
  'mailto:evil@example.com',
  'xmpp:evil@example.com',
  '<img src=x onerror=alert(1)>',
  '<a href="https://evil.example">x</a>',
  '[sign in](https://evil.example/login)',
  '![logo](https://evil.example/logo.png)',
  '<https://evil.example>',
  '`https://evil.example`',
  '``a`` https://evil.example ```',
  '`',
  'x` https://evil.example `y',
  '\\` https://evil.example',
  '| a | b |\n|---|---|\n| https://evil.example | x |',
  '&lt;img src=x&gt; &#x3C;script&#x3E;',
  '# heading https://evil.example',
  '- [x] www.evil.example'
]

describeRendered('the job summary, as GitHub renders it', () => {
  it('renders the client ID and url as code, not as links', async () => {
    const html = render(await summaryFor({ 'client-id': 'team-a-deployer' }))
    expect(html).toMatch(
      /^<p>Run:ai token for client <code>team-a-deployer<\/code> from <code>https:\/\/runai\.example\.com<\/code> \(api-version v2\), expires 2027-01-15T0\d:00:00\.000Z\.<\/p>\n$/
    )
  })

  it.each([
    [
      'a fence and the text after it',
      { url: 'http://localhost:45375', 'client-id': 'ci-runner' },
      { refresh_token: '` from `', id_token: '` (api-v' }
    ],
    ['a fence before a www. client ID', { 'client-id': 'www.evil-example.com' }, { refresh_token: 'client `' }]
  ])('no link when tokens the server sent are redacted out of it: %s', async (_, inputs, tokens) => {
    const html = render(await summaryFor(inputs, tokens))
    expect(html).not.toMatch(/<a[\s>]/)
  })

  it.each(HOSTILE_CLIENT_IDS)('no link, image or HTML from a client ID of %j', async (clientId) => {
    const html = render(await summaryFor({ 'client-id': clientId }))
    expect(html).not.toMatch(/<a[\s>]|<img[\s>]|<script|<h\d|<table|<li|<input/)
    // Only the paragraph and the code spans are elements; everything else is text.
    expect(html.match(/<\/?[a-z][^>]*>/g)?.filter((tag) => !/^<\/?(p|code)>$/.test(tag)) ?? []).toEqual([])
  })
})
