import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'
import { runLikeRunner } from '../../test-server/runner.mjs'
import { leaksOf, maskLineIndex, runAction } from './harness.js'
import {
  DOCUMENTED,
  generationOf,
  loadSpec,
  requestProblems,
  startRecorder,
  type Expected,
  type Generation,
  type OpenApiSpec,
  type RecordedRequest,
  type Recorder
} from './openapi-conformance.js'

// Conformance: the action against Prism, a mock server this project did not write, serving the
// OpenAPI excerpts of NVIDIA's own specification for each control-plane generation
// (test-server/openapi/, documented in docs/runai-token-api.md). Prism answers with the spec's
// examples or values made from its schemas, but its request validation is only as strict as the
// schemas, and the v1 ones require nothing: Prism answers `{}` with a token. So a recording relay
// sits between the action and Prism, and every request the action sent is compared, field by
// field, with the documented request and with the excerpt (requestProblems).

const CLIENT_ID = 'conformance-client'
// Characters that form and JSON encoding must carry through: space, + & = / " \
const SECRET = 'conformance-secret Qm7+&=/"\\'
const credentials = { 'client-id': CLIENT_ID, 'client-secret': SECRET }
const expecting = (generation: Generation): Expected => ({ generation, clientId: CLIENT_ID, clientSecret: SECRET })

const SPEC_FILES = ['tokens-latest.json', 'tokens-2.20.json', 'tokens-2.18.json'] as const
type SpecFile = (typeof SPEC_FILES)[number]
const specs = Object.fromEntries(SPEC_FILES.map((file) => [file, loadSpec(file)])) as Record<SpecFile, OpenApiSpec>

/** The excerpts that declare each generation's endpoint and grant type. */
const DECLARED_BY: Record<Generation, SpecFile[]> = {
  v2: ['tokens-latest.json'],
  v1: ['tokens-2.20.json', 'tokens-latest.json'],
  'v1-app-token': ['tokens-2.18.json', 'tokens-2.20.json', 'tokens-latest.json']
}

/** The documented request of a generation, as bytes on the wire. */
function documentedRequest(generation: Generation, overrides: Partial<RecordedRequest> = {}): RecordedRequest {
  const doc = DOCUMENTED[generation]
  const fields: [string, string][] = [
    [doc.grantField, doc.grantType],
    [doc.idField, CLIENT_ID],
    [doc.secretField, SECRET]
  ]
  const body = Buffer.from(
    doc.contentType === 'application/json' ? JSON.stringify(Object.fromEntries(fields)) : new URLSearchParams(fields).toString()
  )
  return {
    method: 'POST',
    target: doc.path,
    headers: { 'content-type': doc.contentType, 'content-length': String(body.length), accept: 'application/json' },
    body,
    ...overrides
  }
}
const json = (value: unknown) => ({ body: Buffer.from(JSON.stringify(value)), headers: { 'content-type': 'application/json' } })
const form = (pairs: [string, string][]) => ({
  body: Buffer.from(new URLSearchParams(pairs).toString()),
  headers: { 'content-type': 'application/x-www-form-urlencoded' }
})

describe('the request comparison', () => {
  it.each(Object.entries(DECLARED_BY).flatMap(([generation, files]) => files.map((file) => [generation as Generation, file] as const)))(
    'accepts the documented %s request against %s',
    (generation, file) => {
      expect(requestProblems(documentedRequest(generation), specs[file], expecting(generation))).toEqual([])
    }
  )

  it('rejects a misspelt v1 field (clientIdd)', () => {
    const request = documentedRequest('v1', json({ grantType: 'client_credentials', clientIdd: CLIENT_ID, clientSecret: SECRET }))
    expect(requestProblems(request, specs['tokens-2.20.json'], expecting('v1'))).toEqual([
      'lacks field `clientId` (expected exactly `grantType`, `clientId`, `clientSecret`)',
      'sends field `clientIdd`, which is not documented (expected exactly `grantType`, `clientId`, `clientSecret`)',
      "tokens-2.20.json, v1: field `clientIdd` is not a property of the spec's schema (compared without regard to case) " +
        '(declared: `grantType`, `appID`, `appSecret`, `code`, `redirectUri`, `refreshToken`, `username`, `password`, `clientID`, `clientSecret`)'
    ])
  })

  it('rejects a misspelt v2 field (client-id), exactly as OAuth2 names it', () => {
    const request = documentedRequest(
      'v2',
      form([
        ['grant_type', 'client_credentials'],
        ['client-id', CLIENT_ID],
        ['client_secret', SECRET]
      ])
    )
    const problems = requestProblems(request, specs['tokens-latest.json'], expecting('v2'))
    expect(problems).toContain('lacks field `client_id` (expected exactly `grant_type`, `client_id`, `client_secret`)')
    expect(problems).toContain(
      'sends field `client-id`, which is not documented (expected exactly `grant_type`, `client_id`, `client_secret`)'
    )
    expect(problems).toContainEqual(
      expect.stringMatching(/^tokens-latest.json, v2: field `client-id` is not a property of the spec's schema \(declared: /)
    )
    // A form field differing only in case is still wrong: OAuth2 parameter names are case-sensitive.
    const upper = documentedRequest(
      'v2',
      form([
        ['grant_type', 'client_credentials'],
        ['Client_Id', CLIENT_ID],
        ['client_secret', SECRET]
      ])
    )
    expect(requestProblems(upper, specs['tokens-latest.json'], expecting('v2'))).toContainEqual(
      expect.stringContaining('`Client_Id` is not a property')
    )
  })

  it("rejects the spec's own v1 spelling (clientID): the action sends the documented one", () => {
    const request = documentedRequest('v1', json({ grantType: 'client_credentials', clientID: CLIENT_ID, clientSecret: SECRET }))
    expect(requestProblems(request, specs['tokens-latest.json'], expecting('v1'))).toEqual([
      'sends `clientID`, but the documented spelling is `clientId`'
    ])
  })

  it('rejects the wrong Content-Type', () => {
    const asJson = documentedRequest('v2', json({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: SECRET }))
    expect(requestProblems(asJson, specs['tokens-latest.json'], expecting('v2'))).toEqual(
      expect.arrayContaining([
        'Content-Type is "application/json", expected application/x-www-form-urlencoded',
        'tokens-latest.json, v2: the spec declares a request body only for `application/x-www-form-urlencoded`, not for "application/json"'
      ])
    )
    const textPlain = documentedRequest('v1', { headers: { 'content-type': 'text/plain' } })
    expect(requestProblems(textPlain, specs['tokens-2.20.json'], expecting('v1'))).toEqual([
      'Content-Type is "text/plain", expected application/json',
      'tokens-2.20.json, v1: the spec declares a request body only for `application/json`, not for "text/plain"'
    ])
  })

  it('rejects an empty body, the one Prism answered with a token', () => {
    expect(requestProblems(documentedRequest('v1', json({})), specs['tokens-2.20.json'], expecting('v1'))).toEqual([
      'lacks field `grantType` (expected exactly `grantType`, `clientId`, `clientSecret`)',
      'lacks field `clientId` (expected exactly `grantType`, `clientId`, `clientSecret`)',
      'lacks field `clientSecret` (expected exactly `grantType`, `clientId`, `clientSecret`)'
    ])
    expect(requestProblems(documentedRequest('v2', form([])), specs['tokens-latest.json'], expecting('v2'))).toContain(
      "tokens-latest.json, v2: lacks `grant_type`, which the spec's schema requires"
    )
  })

  it('rejects wrong values: grant type, client ID, secret', () => {
    const request = documentedRequest('v1', json({ grantType: 'client_credential', clientId: 'someone-else', clientSecret: 'wrong' }))
    expect(requestProblems(request, specs['tokens-2.20.json'], expecting('v1'))).toEqual([
      '`grantType` is "client_credential", expected "client_credentials"',
      'tokens-2.20.json, v1: `grantType` "client_credential" is not in the spec\'s enum ' +
        '(`app_token`, `client_credentials`, `refresh_token`, `exchange_token`, `password`)',
      '`clientId` is "someone-else", expected the client ID "conformance-client"',
      '`clientSecret` does not carry the client secret (it carries another value, 5 characters long)'
    ])
  })

  it('rejects a generation the excerpt does not declare', () => {
    expect(requestProblems(documentedRequest('v1'), specs['tokens-2.18.json'], expecting('v1'))).toEqual([
      "tokens-2.18.json, v1: field `clientSecret` is not a property of the spec's schema (compared without regard to case) " +
        '(declared: `grantType`, `appID`, `appSecret`, `code`, `redirectUri`, `refreshToken`, `username`, `password`, `clientID`)',
      'tokens-2.18.json, v1: `grantType` "client_credentials" is not in the spec\'s enum (`app_token`, `refresh_token`, `exchange_token`, `password`)'
    ])
    expect(requestProblems(documentedRequest('v2'), specs['tokens-2.20.json'], expecting('v2'))).toEqual([
      'tokens-2.20.json declares no POST /api/v2/token'
    ])
  })

  it('rejects the wrong method, path, query string, duplicated fields and framing', () => {
    const spec = specs['tokens-latest.json']
    expect(requestProblems(documentedRequest('v2', { method: 'PUT' }), spec, expecting('v2'))).toEqual(['method is PUT, expected POST'])
    expect(requestProblems(documentedRequest('v2', { target: '/api/v2/token/' }), spec, expecting('v2'))).toContain(
      'path is /api/v2/token/, expected /api/v2/token'
    )
    expect(requestProblems(documentedRequest('v2', { target: `/api/v2/token?client_secret=x` }), spec, expecting('v2'))).toEqual([
      'the request target carries a query string (client_secret=x); the credentials belong in the body'
    ])
    const twice = documentedRequest('v2')
    twice.body = Buffer.concat([twice.body, Buffer.from('&client_id=other')])
    twice.headers['content-length'] = String(twice.body.length)
    expect(requestProblems(twice, spec, expecting('v2'))).toEqual(expect.arrayContaining(['field(s) `client_id` sent more than once']))
    const short = documentedRequest('v2')
    short.headers['content-length'] = '3'
    expect(requestProblems(short, spec, expecting('v2'))).toEqual([`Content-Length is 3 but the body has ${short.body.length} bytes`])
    const xml = documentedRequest('v1', { headers: { 'content-type': 'application/json', accept: 'application/xml' } })
    expect(requestProblems(xml, spec, expecting('v1'))).toEqual(['Accept "application/xml" admits none of `application/json`'])
  })

  it("rejects a request whose keys differ from the spec's documented example", () => {
    // The same excerpt with one key added to its client_credentials example: the comparison must notice.
    const altered = structuredClone(specs['tokens-latest.json'])
    type Media = { examples: Record<string, { value: Record<string, string> }> }
    type Paths = Record<string, { post: { requestBody: { content: Record<string, Media> } } }>
    const paths = altered.document.paths as unknown as Paths
    const example = paths['/api/v2/token']?.post.requestBody.content['application/x-www-form-urlencoded']?.examples.client_credentials
    if (example === undefined) throw new Error('tokens-latest.json lost its v2 client_credentials example')
    example.value = { ...example.value, scope: 'openid' }
    expect(requestProblems(documentedRequest('v2'), altered, expecting('v2'))).toEqual([
      'tokens-latest.json, v2: the spec\'s example "client_credentials" has the keys `grant_type`, `client_id`, `client_secret`, `scope`; ' +
        'the request has `grant_type`, `client_id`, `client_secret`'
    ])
  })
})

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

async function startPrism(spec: string): Promise<{ url: string; process: ChildProcess }> {
  const port = await freePort()
  // --errors: an answer that violates the excerpt becomes an error too. Requests that violate it get
  // a 4xx either way; with these excerpts the flag changes nothing observable, since their schemas
  // forbid so little (hence the recorder and requestProblems).
  const child = spawn(
    process.execPath,
    [
      'node_modules/@stoplight/prism-cli/dist/index.js',
      'mock',
      '--errors',
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      `test-server/openapi/${spec}`
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe']
    }
  )
  let log = ''
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      log += chunk.toString()
      if (/Prism is listening/.test(log)) resolve()
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.on('exit', (code) => reject(new Error(`prism exited with ${code}: ${log}`)))
  })
  await ready
  return { url: `http://127.0.0.1:${port}`, process: child }
}

// All three Prisms start at once; each sits behind its own recorder.
const servers = new Map<SpecFile, { prism: Awaited<ReturnType<typeof startPrism>>; recorder: Recorder }>()
beforeAll(async () => {
  await Promise.all(
    SPEC_FILES.map(async (file) => {
      const prism = await startPrism(file)
      servers.set(file, { prism, recorder: await startRecorder(prism.url) })
    })
  )
}, 60_000)
afterAll(async () => {
  for (const { prism, recorder } of servers.values()) {
    prism.process.kill()
    await recorder.close()
  }
})

describe.each([
  // spec, the generation it serves, what `auto` asks in turn and the status Prism answers each with
  ['tokens-latest.json', 'v2', [['v2', 200]]],
  [
    'tokens-2.20.json',
    'v1',
    [
      ['v2', 404],
      ['v1', 200]
    ]
  ],
  [
    'tokens-2.18.json',
    'v1-app-token',
    [
      ['v2', 404],
      ['v1', 400],
      ['v1-app-token', 200]
    ]
  ]
] as const)('against Prism serving %s', (spec, expected, negotiation) => {
  let recorder: Recorder
  beforeEach(() => {
    const server = servers.get(spec)
    if (server === undefined) throw new Error(`Prism for ${spec} did not start`)
    recorder = server.recorder
    recorder.requests.length = 0
  })

  it.each(['auto', expected])(
    `api-version %s gets a token from ${expected}, sending exactly the documented request`,
    async (apiVersion) => {
      const run = await runAction({ url: recorder.url, ...credentials, 'api-version': apiVersion })
      expect(run.stdout.split('\n').find((l) => l.startsWith('::error::')) ?? '').toBe('')
      expect(run.exitCode).toBe(0)
      expect(run.outputs['api-version']).toBe(expected)
      const token = run.outputs.token ?? ''
      expect(token).not.toBe('')
      expect(run.exported.RUNAI_TOKEN).toBe(token)
      expect(maskLineIndex(run, SECRET)).toBe(0)
      expect(maskLineIndex(run, token)).toBeGreaterThan(0)
      expect(leaksOf(run, [SECRET, token])).toEqual([])

      // What went over the wire: the generations in the documented order, each answered as expected.
      const asked = apiVersion === 'auto' ? negotiation : negotiation.filter(([generation]) => generation === expected)
      const sent = recorder.requests
      expect(sent.map((request) => [generationOf(request), request.status])).toEqual(asked)
      // Every request the action sent is its generation's documented request, and conforms to every
      // excerpt that declares that generation (the one Prism served here among them for the last).
      sent.forEach((request, index) => {
        const generation = asked[index]?.[0] as Generation
        for (const file of DECLARED_BY[generation])
          expect([file, requestProblems(request, specs[file], expecting(generation))]).toEqual([file, []])
      })
      expect(DECLARED_BY[expected]).toContain(spec)
    }
  )
})

describe('a bundle that misspells a field', () => {
  // dist/index.js with one field renamed, run through the same recorder and Prism: Prism is blind to
  // the misspelling (the excerpts require no credential field, so it answers with a token), the
  // comparison is not.
  const inputs = parse(readFileSync('action.yml', 'utf8')) as { inputs: Record<string, { default?: string }> }
  const defaults = Object.fromEntries(Object.entries(inputs.inputs).map(([name, input]) => [name, input.default ?? '']))
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'runai-misspelt-'))
    writeFileSync(join(dir, 'package.json'), readFileSync('dist/package.json'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  function misspelt(name: string, pattern: RegExp, replacement: string): string {
    const bundle = readFileSync('dist/index.js', 'utf8')
    const changed = bundle.replace(pattern, replacement)
    if (changed === bundle) throw new Error(`dist/index.js no longer matches ${pattern}: update this test`)
    writeFileSync(join(dir, name), changed)
    return join(dir, name)
  }

  it.each([
    [
      'v1',
      'tokens-2.20.json',
      /\bclientId(\s*:\s*credentials\.clientId\b)/,
      'clientIdd$1',
      ['lacks field `clientId`', 'sends field `clientIdd`']
    ],
    [
      'v2',
      'tokens-latest.json',
      /\bclient_id(\s*:\s*credentials\.clientId\b)/,
      "'client-id'$1",
      ['lacks field `client_id`', 'sends field `client-id`']
    ]
  ] as const)('is caught at %s against %s', async (generation, file, pattern, replacement, expectedProblems) => {
    const server = servers.get(file)
    if (server === undefined) throw new Error(`Prism for ${file} did not start`)
    server.recorder.requests.length = 0
    const script = misspelt(`${generation}.js`, pattern, replacement)
    const run = await runLikeRunner(script, { ...defaults, url: server.recorder.url, ...credentials, 'api-version': generation })
    expect([run.exitCode, run.outputs['api-version']]).toEqual([0, generation]) // Prism gave it a token all the same
    const [request, ...more] = server.recorder.requests
    expect(more).toEqual([])
    if (request === undefined) throw new Error('the misspelt bundle sent nothing')
    const problems = requestProblems(request, specs[file], expecting(generation))
    for (const text of expectedProblems) expect(problems).toContainEqual(expect.stringContaining(text))
  })
})
