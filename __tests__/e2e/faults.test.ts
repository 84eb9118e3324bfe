import { describe, expect, it } from '@jest/globals'
import { DEFAULT_CLIENT } from '../../test-server/runai-stand-in.mjs'
import { errorOf, leaksOf, maskLineIndex, runAction, serversClosedAfterEach, type ActionRun, type StandIn } from './harness.js'

const { standIn } = serversClosedAfterEach()

const credentials = { 'client-id': DEFAULT_CLIENT.id, 'client-secret': DEFAULT_CLIENT.secret }

/** Leak rules that hold for every run, passed or failed. */
function expectNoLeak(run: ActionRun, ...servers: StandIn[]) {
  expect(leaksOf(run, [DEFAULT_CLIENT.secret, ...servers.flatMap((s) => s.tokensIssued)])).toEqual([])
  // A failure is one sentence, not a crash with a stack trace.
  expect(`${run.stdout}${run.stderr}`).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m)
}

const tokenPosts = (server: StandIn) => server.requests.filter((r) => r.path.endsWith('/token'))

describe('retries', () => {
  it('survives two 503s, then gets a token, on the same endpoint', async () => {
    const server = await standIn({ faults: { failFirst: 2, failWith: '503' } })
    const run = await runAction({ url: server.url, ...credentials })
    expect(run.exitCode).toBe(0)
    expect(tokenPosts(server).map((r) => r.path)).toEqual(['/api/v2/token', '/api/v2/token', '/api/v2/token'])
    expectNoLeak(run, server)
  })

  it('survives two connection resets', async () => {
    const server = await standIn({ faults: { failFirst: 2, failWith: 'reset' } })
    const run = await runAction({ url: server.url, ...credentials })
    expect(run.exitCode).toBe(0)
    expect(tokenPosts(server)).toHaveLength(3)
    expectNoLeak(run, server)
  })

  it('waits at least Retry-After after a 429', async () => {
    const server = await standIn({ faults: { retryAfterFirst: 1, retryAfterSeconds: 1 } })
    const run = await runAction({ url: server.url, ...credentials })
    expect(run.exitCode).toBe(0)
    const [first, second] = tokenPosts(server)
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(1000)
    expectNoLeak(run, server)
  })

  it('gives up on a server that never answers within timeout-seconds, and says so', async () => {
    const server = await standIn({ faults: { hang: true } })
    const run = await runAction({ url: server.url, ...credentials, 'timeout-seconds': '2' })
    expect(run.exitCode).toBe(1)
    expect(run.durationMs).toBeLessThan(2000 + 1500)
    expect(errorOf(run)).toMatch(
      /^Could not get a Run:ai token from http:\/\/127\.0\.0\.1:\d+\/api\/v2\/token after 1 attempt\(s\) in 2 s; the last one failed with no answer from 127\.0\.0\.1:\d+ within 2 s\. `timeout-seconds` \(2\) leaves no time for another attempt/
    )
    expectNoLeak(run, server)
  })

  it.each([
    ['401', 'v2', 1],
    ['400', 'v1-app-token', 1]
  ])('does not retry %s', async (_status, apiVersion, expected) => {
    const server = await standIn({ generation: apiVersion === 'v2' ? 'latest' : '2.20' })
    const run = await runAction({ url: server.url, 'client-id': DEFAULT_CLIENT.id, 'client-secret': 'wrong', 'api-version': apiVersion })
    expect(run.exitCode).toBe(1)
    expect(tokenPosts(server)).toHaveLength(expected)
    expectNoLeak(run, server)
  })

  // A herd the size of a test; the bench runs a hundred (npm run bench).
  it('15 runs at once against 10 tokens a second all succeed, none retrying before Retry-After', async () => {
    const clients = Array.from({ length: 15 }, (_, i) => ({ id: `matrix-job-${i}`, secret: `secret-of-job-${i}` }))
    const server = await standIn({ clients, faults: { tokensPerSecond: 10 } })
    const started = Date.now()
    const runs = await Promise.all(clients.map((c) => runAction({ url: server.url, 'client-id': c.id, 'client-secret': c.secret })))
    const elapsed = Date.now() - started
    expect(runs.map((r) => r.exitCode)).toEqual(Array(15).fill(0))
    expect(new Set(runs.map((r) => r.outputs.token)).size).toBe(15)
    expect(server.earlyRetries).toBe(0)
    for (const [i, run] of runs.entries()) expect(leaksOf(run, [clients[i]?.secret ?? '', ...server.tokensIssued])).toEqual([])
    const requests = tokenPosts(server).length
    console.log(`load: 15 runs, ${requests} token requests, ${requests - 15} retries, ${elapsed} ms until the last finished`)
  })
})

describe('answers that are not what the docs promise', () => {
  it.each([
    [302, 'a 302'],
    [307, 'a 307']
  ])('%s redirect to another host fails with the redirect message; the other host gets nothing', async (status) => {
    const elsewhere = await standIn()
    const server = await standIn({ faults: { redirect: { status, location: `${elsewhere.url}/api/v2/token?session=1` } } })
    const run = await runAction({ url: server.url, ...credentials })
    expect(run.exitCode).toBe(1)
    expect(errorOf(run)).toBe(
      `${server.url}/api/v2/token answered HTTP ${status}, redirecting to ${elsewhere.url}/api/v2/token. Redirects are not followed because the request carries the client secret. Set \`url\` to the Run:ai control-plane address itself (the address of the Run:ai UI, such as https://mycompany.run.ai), not to an address that forwards to it.`
    )
    expect(elsewhere.requests).toEqual([])
    expectNoLeak(run, server, elsewhere)
  })

  it('HTML everywhere: says that url points at a web page', async () => {
    const server = await standIn({ faults: { html: true } })
    const run = await runAction({ url: server.url, ...credentials })
    expect(run.exitCode).toBe(1)
    expect(errorOf(run)).toBe(
      `\`url\` (${server.url}) points at a web page, not the Run:ai API: ${server.url}/api/v2/token and ${server.url}/api/v1/token answered HTML. Set \`url\` to the Run:ai control-plane address (the address of the Run:ai UI, such as https://mycompany.run.ai); a login page or proxy in front of it cannot be used.`
    )
    expectNoLeak(run, server)
  })

  it('a 200 without a token: says so for each endpoint', async () => {
    const server = await standIn({ faults: { badAnswer: 'no-token' } })
    const run = await runAction({ url: server.url, ...credentials })
    expect(run.exitCode).toBe(1)
    expect(errorOf(run)).toBe(
      `Could not get a Run:ai token from ${server.url}; no API generation answered with a token (api-version v2: POST ${server.url}/api/v2/token answered HTTP 200 without an access token in the answer; api-version v1: POST ${server.url}/api/v1/token answered HTTP 200 without an access token in the answer). Check that \`url\` is the Run:ai control-plane address, and \`client-id\` and \`client-secret\`.`
    )
    expectNoLeak(run, server)
  })

  it('a malformed JSON answer: a clear failure', async () => {
    const server = await standIn({ faults: { badAnswer: 'malformed' } })
    const run = await runAction({ url: server.url, ...credentials, 'api-version': 'v2' })
    expect(run.exitCode).toBe(1)
    expect(errorOf(run)).toBe(
      `Could not get a Run:ai token with api-version v2 (api-version v2: POST ${server.url}/api/v2/token answered HTTP 200 with a body that is not JSON). Check that \`url\` is the Run:ai control-plane address and that it supports this api-version; \`api-version: auto\` finds the right one.`
    )
    expectNoLeak(run, server)
  })

  it('a body of several megabytes: refused, not read to the end, no crash', async () => {
    const server = await standIn({ faults: { badAnswer: 'huge' } })
    const run = await runAction({ url: server.url, ...credentials })
    expect(run.exitCode).toBe(1)
    expect(errorOf(run)).toMatch(
      /^Could not get a Run:ai token from http:\/\/127\.0\.0\.1:\d+\/api\/v2\/token: the answer from 127\.0\.0\.1:\d+ is larger than 1 MiB/
    )
    expect(tokenPosts(server)).toHaveLength(1)
    expectNoLeak(run, server)
  })

  it('a truncated body: retried as transient, then a clear failure', async () => {
    const server = await standIn({ faults: { badAnswer: 'truncated' } })
    const run = await runAction({ url: server.url, ...credentials, 'max-attempts': '2' })
    expect(run.exitCode).toBe(1)
    expect(errorOf(run)).toMatch(
      /^Could not get a Run:ai token from http:\/\/127\.0\.0\.1:\d+\/api\/v2\/token after 2 attempt\(s\) in \d+ s; the last one failed with (the connection to 127\.0\.0\.1:\d+ closed before the whole answer arrived|could not talk to 127\.0\.0\.1:\d+: ECONNRESET[^.]*)\. The connection to the control plane kept failing; check that `url` is reachable from the runner and try again later, or raise `max-attempts`\.$/
    )
    expect(tokenPosts(server)).toHaveLength(2)
    expectNoLeak(run, server)
  })

  it('masks the token before the line that reports success', async () => {
    const server = await standIn()
    const run = await runAction({ url: server.url, ...credentials })
    const lines = run.stdout.split('\n')
    expect(maskLineIndex(run, run.outputs.token ?? '')).toBeLessThan(lines.findIndex((l) => l.startsWith('Got a Run:ai token')))
  })
})
