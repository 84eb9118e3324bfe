/**
 * Issue #13 end to end: what a hostile control plane sends cannot stall the step, become an
 * annotation through a problem matcher, choose the runner's masks, reach the "please report it"
 * path, or reach the log re-encoded. Each run is `node <bundle>` as the runner starts it, read by
 * test-server/runner-log.mjs with setup-node's problem matchers and a catch-all of our own.
 */
import { describe, expect, it } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import { json, startHostileServer, type ScriptedAnswer } from '../../test-server/hostile-server.mjs'
import { logSafetyProblems, matcherAnnotations, readRunnerLog } from '../../test-server/runner-log.mjs'
import { MIB } from '../../test-server/pathological-text.mjs'
import { errorOf, runAction, serversClosedAfterEach, type ActionRun } from './harness.js'

const servers = serversClosedAfterEach()
const hostile = async (answers: ScriptedAnswer[]) => servers.track(await startHostileServer({ answers }))

const SECRET = 'fake-Qm4Tz8-secret-Vn2Lw7'
const CLIENT = 'fake-server-text-client'
const credentials = { 'client-id': CLIENT, 'client-secret': SECRET }

function jwt(exp = Math.floor(Date.now() / 1000) + 3600): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
  return `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ sub: CLIENT, exp })}.${randomBytes(24).toString('base64url')}`
}

/** The runner's reading of a run: no broken rule, no plain line with the server's words, no annotation from a matcher. */
function expectSafe(run: ActionRun, masked: string[], serverTexts: string[]) {
  expect(logSafetyProblems(run.stdout, { masked, stderr: run.stderr, serverTexts })).toEqual([])
  expect(matcherAnnotations(run.stdout, { stderr: run.stderr })).toEqual([])
}

const TSC_SHAPED = 'x(1,2): error TS2304: session expired, sign in at https://evil.example/login'
const ESLINT_SHAPED = '/src/a.ts: line 1, col 2, Error - session expired, sign in at https://evil.example/login (no-undef)'

describe('server text never in a plain line, so never an annotation', () => {
  it.each([
    ['tsc', TSC_SHAPED],
    ['eslint (compact)', ESLINT_SHAPED],
    ['eslint (stylish)', '  1:2  error  session expired, sign in at https://evil.example/login  no-undef']
  ])('a v2 404 whose message is shaped for the %s matcher, then a token from v1', async (_, message) => {
    const token = jwt()
    const server = await hostile([json(404, { message }), json(200, { accessToken: token })])
    const run = await runAction({ url: server.url, ...credentials })
    expect(run.exitCode).toBe(0)
    expectSafe(run, [SECRET, token], ['session expired', 'evil.example'])
    // The server's words are still there for whoever turns on debug logging.
    expect(readRunnerLog(run.stdout).commands.some((c) => c.name === 'debug' && c.data.includes('session expired'))).toBe(true)
  })

  it('a v1 401 that quotes compiler output, on the way to v1-app-token', async () => {
    const token = jwt()
    const server = await hostile([
      json(404, { message: 'no v2' }),
      json(401, { code: 401, message: TSC_SHAPED }),
      json(200, { accessToken: token })
    ])
    const run = await runAction({ url: server.url, ...credentials })
    expect(run.exitCode).toBe(0)
    expect(server.requests.map((r) => r.path)).toEqual(['/api/v2/token', '/api/v1/token', '/api/v1/token'])
    expectSafe(run, [SECRET, token], ['session expired', 'evil.example', 'no v2'])
  })

  it('503s that quote compiler output, then a token: the retries say nothing of it at the normal level', async () => {
    const token = jwt()
    const busy = json(503, { message: TSC_SHAPED })
    const server = await hostile([busy, busy, json(200, { access_token: token })])
    const run = await runAction({ url: server.url, ...credentials, 'api-version': 'v2' })
    expect(run.exitCode).toBe(0)
    expectSafe(run, [SECRET, token], ['session expired', 'evil.example'])
  })
})

describe('masks the runner can live with', () => {
  it('a refresh token of "e" and 7 spaces and an ID token of "ab" and 7 newlines are not sent to the runner', async () => {
    const token = jwt()
    const server = await hostile([json(200, { access_token: token, refresh_token: 'e       ', id_token: 'ab\n\n\n\n\n\n\n' })])
    const run = await runAction({ url: server.url, ...credentials })
    expect(run.exitCode).toBe(0)
    expect(readRunnerLog(run.stdout).maskCommands).toEqual([SECRET, token])
    expectSafe(run, [SECRET, token], [])
  })

  it('an access token of "e" is refused as not a Run:ai token, and nothing is masked but the secret', async () => {
    const server = await hostile([json(200, { access_token: 'e' })])
    const run = await runAction({ url: server.url, ...credentials, 'api-version': 'v2' })
    expect(run.exitCode).toBe(1)
    expect(run.outputs.token ?? '').toBe('')
    expect(readRunnerLog(run.stdout).maskCommands).toEqual([SECRET])
    expect(errorOf(run)).toMatch(
      /^Could not get a Run:ai token with api-version v2 \(api-version v2: POST .+ answered HTTP 200 with an access token of 1 characters, too short to be a Run:ai token\)/
    )
  })
})

describe('every JSON shape is an outcome the action defines', () => {
  it.each([
    ['an "error" object with its own toString', '{"error":{"toString":1}}'],
    ['an "error" nested 200,000 arrays deep', `{"error":${'['.repeat(200_000)}${']'.repeat(200_000)}}`]
  ])('a v2 401 with %s: auto moves on to v1 and gets its token', async (_, body) => {
    const token = jwt()
    const server = await hostile([
      { status: 401, headers: { 'Content-Type': 'application/json' }, body },
      json(200, { accessToken: token })
    ])
    const run = await runAction({ url: server.url, ...credentials })
    expect(errorOf(run)).toBe('')
    expect(run.outputs.token).toBe(token)
    expect(run.stdout).not.toContain('failed unexpectedly')
    expectSafe(run, [SECRET, token], [])
  })
})

describe('redacted as the server wrote it, before anything parses it', () => {
  const spaced = 'fake secret{Zx9}<Q>`^|'
  it.each([
    ['its host', `https://${SECRET}.evil.example/login`, SECRET],
    ['its path', `https://evil.example/${SECRET}/login`, SECRET],
    ['its path, with characters a URL parser percent-encodes', `https://evil.example/a/${spaced}/b`, spaced],
    ['its user info', `https://user:${SECRET}@evil.example/`, SECRET],
    ['a path alone', `/${SECRET}/login`, SECRET]
  ])('a secret echoed in a Location, in %s', async (_, location, secret) => {
    const server = await hostile([{ status: 302, headers: { Location: location }, body: '' }])
    const run = await runAction({ url: server.url, 'client-id': CLIENT, 'client-secret': secret, 'api-version': 'v2' })
    expect(run.exitCode).toBe(1)
    expect(errorOf(run)).toMatch(/answered HTTP 302, redirecting to [^ ]*\*\*\*/)
    expectSafe(run, [secret], [])
    // Nor the forms a URL parser makes of it: the host lower-cased, the path percent-encoded.
    const reencoded = [secret.toLowerCase(), encodeURI(secret)].filter((form) => form !== secret)
    expect(reencoded.length).toBeGreaterThan(0)
    const printed = run.stdout
      .split('\n')
      .filter((line) => !line.startsWith('::add-mask::'))
      .join('\n')
    for (const form of reencoded) {
      const runs = Array.from({ length: form.length - 7 }, (_, i) => form.slice(i, i + 8))
      expect(runs.filter((run8) => printed.includes(run8))).toEqual([])
    }
  })

  it('a secret echoed in the query of a Location: the query is not shown at all', async () => {
    const server = await hostile([{ status: 302, headers: { Location: `https://evil.example/login?next=${SECRET}` }, body: '' }])
    const run = await runAction({ url: server.url, ...credentials, 'api-version': 'v2' })
    expect(errorOf(run)).toMatch(/answered HTTP 302, redirecting to https:\/\/evil\.example\/login\. Redirects are not followed/)
    expectSafe(run, [SECRET], [])
  })
})

describe('answers that are not answers', () => {
  it('a 101 Switching Protocols: a clear error at once, not a silent exit', async () => {
    const server = await hostile([
      { kind: 'raw', raw: 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n' }
    ])
    const run = await runAction({ url: server.url, ...credentials, 'api-version': 'v2' })
    expect(run.exitCode).toBe(1)
    expect(errorOf(run)).toMatch(
      /^Could not get a Run:ai token from .+\/api\/v2\/token: 127\.0\.0\.1:\d+ answered HTTP 101 \(switching protocols\) instead of answering the request; `url` does not point at the Run:ai API\.$/
    )
    expect(run.durationMs).toBeLessThan(10_000)
    expectSafe(run, [SECRET], [])
  })
})

describe('time', () => {
  it('a 503 of 1 MiB of dots ends the step by timeout-seconds: 2, not minutes later', async () => {
    const dots = json(503, { message: `${'.'.repeat(MIB - 64)}x` })
    const server = await hostile([dots, dots, dots, dots, dots])
    const run = await runAction({ url: server.url, ...credentials, 'api-version': 'v2', 'timeout-seconds': '2' })
    expect(run.exitCode).toBe(1)
    expect(errorOf(run)).toMatch(
      /^Could not get a Run:ai token from .+ after \d attempt\(s\) in \d s; the last one failed with HTTP 503: \.{200}…/
    )
    // Generous: the old pattern took 4 s on 64 KiB of dots and minutes on a megabyte.
    expect(run.durationMs).toBeLessThan(20_000)
    expectSafe(run, [SECRET], [])
  })
})

describe('an expired token', () => {
  it('a JWT whose exp is two hours past, without expires_in: handed on, with a warning naming both times', async () => {
    const exp = Math.floor(Date.now() / 1000) - 7200
    const token = jwt(exp)
    const server = await hostile([json(200, { access_token: token })])
    const run = await runAction({ url: server.url, ...credentials })
    expect(run.exitCode).toBe(0)
    expect(run.outputs.token).toBe(token)
    expect(run.outputs['expires-in']).toBe('0')
    const warnings = readRunnerLog(run.stdout).annotations.filter((a) => a.type === 'warning')
    expect(warnings).toHaveLength(1)
    expect(warnings[0]?.message).toMatch(
      new RegExp(
        `^The token's expiry time \\(${new Date(exp * 1000).toISOString().replace(/\./g, '\\.')}\\) is already past by the runner's clock \\(\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\): the runner's clock or the control plane's is off\\.`
      )
    )
    expectSafe(run, [SECRET, token], [])
  })
})
