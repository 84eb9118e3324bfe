/**
 * The whole output of the main scenarios, compared with committed snapshots, as
 * actions/create-github-app-token does (tests/index.js.snapshot): every line the action prints,
 * its outputs, exported variables, job summary and the requests the control plane saw, so that
 * each new or changed log line is reviewed. `node dist/index.js` is started as the runner starts
 * it (runAction). What changes from run to run is normalised: ports, tokens, the secret, dates,
 * durations and delays.
 *
 * After an intended change of the output: rebuild dist/ and run
 *   node --experimental-vm-modules node_modules/jest/bin/jest.js __tests__/e2e/snapshots.test.ts -u
 * then read the diff of __tests__/e2e/__snapshots__/snapshots.test.ts.snap before committing it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { rmSync } from 'node:fs'
import { DEFAULT_CLIENT } from '../../test-server/runai-stand-in.mjs'
import { startConnectProxy } from '../../test-server/connect-proxy.mjs'
import { createTestCa } from '../../test-server/test-ca.mjs'
import { logSafetyProblems } from '../../test-server/runner-log.mjs'
import { runAction, serversClosedAfterEach, type ActionRun, type StandIn } from './harness.js'

const servers = serversClosedAfterEach()

let ca: ReturnType<typeof createTestCa>
beforeAll(() => {
  ca = createTestCa(['localhost', 'runai.internal.test'])
})
afterAll(() => rmSync(ca.dir, { recursive: true, force: true }))

const WRONG_SECRET = 'wrong-secret-DO-NOT-USE'
const credentials = { 'client-id': DEFAULT_CLIENT.id, 'client-secret': DEFAULT_CLIENT.secret }

interface Seen {
  /** Servers in the order they appear, named in the snapshot by their role. */
  servers: { port: number; role: string }[]
  /** Tokens issued, in order: <TOKEN-1>, <TOKEN-2>… */
  tokens: string[]
  requests?: StandIn['requests']
  tunnels?: { authority: string }[]
}

/** Replaces what differs between runs by stable placeholders. */
function normalise(text: string, seen: Seen): string {
  let out = text
  seen.tokens.forEach((token, i) => (out = out.split(token).join(`<TOKEN-${i + 1}>`)))
  out = out.split(DEFAULT_CLIENT.secret).join('<SECRET>').split(WRONG_SECRET).join('<WRONG-SECRET>')
  for (const { port, role } of seen.servers) out = out.replace(new RegExp(`:${port}\\b`, 'g'), `:<PORT-${role}>`)
  return (
    out
      .replace(/\b(127\.0\.0\.1|localhost|\[::1\]):\d{2,5}\b/g, '$1:<PORT>')
      .replace(/eyJ[\w-]+\.[\w-]+\.[\w-]+/g, '<JWT>')
      .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<DATE>')
      .replace(/\b\d+(\.\d+)? ?ms\b/g, '<N> ms')
      // Measured durations; configured ones ("within 2 s", "timeout-seconds (2)") are kept.
      .replace(/\bin \d+(\.\d+)? ?s\b/g, 'in <N> s')
      .replace(/\/tmp\/[\w.-]+/g, '<TMP>')
      // Node 24 adds a hint of its own to OpenSSL's reason; the snapshots are shared by Node 20 and 24.
      .replace(/; if the root CA is installed locally, try running Node\.js with --use-system-ca/g, '')
  )
}

/** The whole run as one text: exit code, stdout, stderr, outputs, exported variables, summary, requests. */
function transcript(run: ActionRun, seen: Seen): string {
  const block = (title: string, body: string) => `--- ${title} ---\n${body === '' ? '(none)' : body}`
  const pairs = (record: Record<string, string>) =>
    Object.entries(record)
      .map(([k, v]) => `${k}=${k === 'expires-in' && /^\d+$/.test(v) && Math.abs(Number(v) - 3600) <= 5 ? '<ABOUT-3600>' : v}`)
      .join('\n')
  const requests = (seen.requests ?? [])
    .map((r) => `${r.method} ${r.path} ${String(r.headers['content-type'] ?? '')}\n  ${r.body}`)
    .join('\n')
  const tunnels = (seen.tunnels ?? []).map((t) => `CONNECT ${t.authority}`).join('\n')
  return normalise(
    [
      `exit code: ${run.exitCode}`,
      block('stdout', run.stdout.replace(/\n$/, '')),
      block('stderr', run.stderr.replace(/\n$/, '')),
      block('outputs', pairs(run.outputs)),
      block('exported', pairs(run.exported)),
      block('summary', run.summary.replace(/\n$/, '')),
      block('requests', requests),
      ...(seen.tunnels === undefined ? [] : [block('proxy tunnels', tunnels)])
    ].join('\n'),
    seen
  )
}

/** Snapshot it, after the log-safety rules (runner-log.mjs) hold for it. */
function expectTranscript(run: ActionRun, seen: Seen, secret = DEFAULT_CLIENT.secret) {
  expect(logSafetyProblems(run.stdout, { masked: [secret, ...seen.tokens] })).toEqual([])
  expect(transcript(run, seen)).toMatchSnapshot()
}

const seenOf = (server: StandIn, role = 'A', more: Partial<Seen> = {}): Seen => ({
  servers: [{ port: server.port, role }],
  tokens: server.tokensIssued,
  requests: server.requests,
  ...more
})

describe('each generation, with api-version auto', () => {
  it.each([
    ['v2 (a current control plane)', 'latest'],
    ['v1 (a 2.20 control plane: no v2)', '2.20'],
    ['v1-app-token (2.18 and 2.19)', '2.18']
  ] as const)('%s', async (_label, generation) => {
    const server = await servers.standIn({ generation })
    const run = await runAction({ url: server.url, ...credentials, 'job-summary': 'true' })
    expect(run.exitCode).toBe(0)
    expectTranscript(run, seenOf(server))
  })
})

describe('refusals', () => {
  it('bad credentials at v2 (OAuth 401 invalid_client)', async () => {
    const server = await servers.standIn()
    const run = await runAction({ url: server.url, 'client-id': DEFAULT_CLIENT.id, 'client-secret': WRONG_SECRET })
    expect(run.exitCode).toBe(1)
    expectTranscript(run, seenOf(server), WRONG_SECRET)
  })

  it('bad credentials at v1 (401), after a 404 at v2', async () => {
    const server = await servers.standIn({ generation: '2.20' })
    const run = await runAction({ url: server.url, 'client-id': DEFAULT_CLIENT.id, 'client-secret': WRONG_SECRET })
    expect(run.exitCode).toBe(1)
    expectTranscript(run, seenOf(server), WRONG_SECRET)
  })

  it('a web page (HTML) where the API should be', async () => {
    const server = await servers.standIn({ faults: { html: true } })
    const run = await runAction({ url: server.url, ...credentials })
    expect(run.exitCode).toBe(1)
    expectTranscript(run, seenOf(server))
  })

  it('a redirect to another host', async () => {
    const elsewhere = await servers.standIn()
    const server = await servers.standIn({ faults: { redirect: { status: 302, location: `${elsewhere.url}/api/v2/token?session=1` } } })
    const run = await runAction({ url: server.url, ...credentials })
    expect(run.exitCode).toBe(1)
    expect(elsewhere.requests).toEqual([])
    expectTranscript(run, {
      ...seenOf(server),
      servers: [
        { port: server.port, role: 'A' },
        { port: elsewhere.port, role: 'ELSEWHERE' }
      ]
    })
  })

  it('no token in the answer', async () => {
    const server = await servers.standIn({ faults: { badAnswer: 'no-token' } })
    const run = await runAction({ url: server.url, ...credentials })
    expect(run.exitCode).toBe(1)
    expectTranscript(run, seenOf(server))
  })

  it('an input missing: no client-secret', async () => {
    const run = await runAction({ url: 'https://runai.example.com', 'client-id': DEFAULT_CLIENT.id, 'client-secret': '' })
    expect(run.exitCode).toBe(1)
    expect(transcript(run, { servers: [], tokens: [] })).toMatchSnapshot()
  })
})

describe('the network', () => {
  it('retry: a 503, then a token', async () => {
    const server = await servers.standIn({ faults: { failFirst: 1, failWith: '503' } })
    const run = await runAction({ url: server.url, ...credentials })
    expect(run.exitCode).toBe(0)
    expectTranscript(run, seenOf(server))
  })

  it('timeout: no answer within timeout-seconds 2', async () => {
    const server = await servers.standIn({ faults: { hang: true } })
    const run = await runAction({ url: server.url, ...credentials, 'timeout-seconds': '2' })
    expect(run.exitCode).toBe(1)
    expectTranscript(run, seenOf(server))
  })

  it('proxy: through a CONNECT tunnel, TLS with the test CA inside it', async () => {
    const server = await servers.standIn({ tls: { key: ca.key, cert: ca.cert } })
    const proxy = servers.track(await startConnectProxy({ hosts: { 'runai.internal.test': '127.0.0.1' } }))
    const run = await runAction(
      { url: `https://runai.internal.test:${server.port}`, ...credentials, 'ca-certificate': ca.caCert },
      { HTTPS_PROXY: proxy.url }
    )
    expect(run.exitCode).toBe(0)
    const proxyPort = Number(new URL(proxy.url).port)
    expectTranscript(run, {
      ...seenOf(server),
      servers: [
        { port: server.port, role: 'A' },
        { port: proxyPort, role: 'PROXY' }
      ],
      tunnels: proxy.tunnels
    })
  })

  it('TLS: a certificate from an unknown CA', async () => {
    const server = await servers.standIn({ tls: { key: ca.key, cert: ca.cert } })
    const run = await runAction({ url: `https://localhost:${server.port}`, ...credentials })
    expect(run.exitCode).toBe(1)
    expectTranscript(run, seenOf(server))
  })
})
