/**
 * Issue #16 end to end: what a new user sees. Each failed attempt is one plain line with the
 * attempt, the cause in the action's own words and the wait; each mistake a newcomer makes gets a
 * message that leads with its fix.
 */
import { describe, expect, it } from '@jest/globals'
import { createServer } from 'node:net'
import { DEFAULT_CLIENT } from '../../test-server/runai-stand-in.mjs'
import { json, startHostileServer } from '../../test-server/hostile-server.mjs'
import { logSafetyProblems, readRunnerLog } from '../../test-server/runner-log.mjs'
import { errorOf, expectToken, runAction, serversClosedAfterEach, type ActionRun } from './harness.js'

const servers = serversClosedAfterEach()
const credentials = { 'client-id': DEFAULT_CLIENT.id, 'client-secret': DEFAULT_CLIENT.secret }

/** The plain lines of a run: what the log shows at the normal level, and what problem matchers read. */
const plainLines = (run: ActionRun) => readRunnerLog(run.stdout).plain.map((p) => p.text)

/** A loopback port that nothing listens on (one that was just free). */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

describe('progress while it waits', () => {
  it('a closed port: one line per attempt, then an error that says nothing listens there', async () => {
    const port = await closedPort()
    const run = await runAction({ url: `http://127.0.0.1:${port}`, ...credentials, 'max-attempts': '3' })
    expect(run.exitCode).toBe(1)
    const lines = plainLines(run)
    expect(lines).toHaveLength(2)
    lines.forEach((line, i) =>
      expect(line).toMatch(
        new RegExp(
          `^Attempt ${i + 1} of 3 at http://127\\.0\\.0\\.1:${port}/api/v2/token failed with could not talk to 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)\\. Trying again in \\d+\\.\\d s\\.$`
        )
      )
    )
    expect(errorOf(run)).toMatch(
      /Nothing accepted the connection at that address; check the host and port in `url` \(nothing listens there, or a firewall refuses it\), or raise `max-attempts`\.$/
    )
  })

  it('a storm of 503s: one line per attempt with the status, none with the server text', async () => {
    const storm = json(503, { message: 'Please try again in few minutes. x(1,2): error TS1: y' })
    const server = servers.track(await startHostileServer({ answers: [storm, storm], after: json(200, { access_token: 'a'.repeat(40) }) }))
    const run = await runAction({ url: server.url, ...credentials, 'api-version': 'v2' })
    expect(run.exitCode).toBe(0)
    expect(plainLines(run).slice(0, 2)).toEqual([
      expect.stringMatching(/^Attempt 1 of 5 at .+\/api\/v2\/token failed with HTTP 503\. Trying again in \d+\.\d s\.$/),
      expect.stringMatching(/^Attempt 2 of 5 at .+\/api\/v2\/token failed with HTTP 503\. Trying again in \d+\.\d s\.$/)
    ])
    expect(logSafetyProblems(run.stdout, { masked: [DEFAULT_CLIENT.secret, 'a'.repeat(40)], serverTexts: ['few minutes', 'TS1'] })).toEqual(
      []
    )
  })

  it('a fast success prints one line', async () => {
    const server = await servers.standIn()
    const run = await runAction({ url: server.url, ...credentials })
    expectToken(run, server)
    expect(plainLines(run)).toEqual([expect.stringMatching(/^Got a Run:ai token from /)])
  })
})

describe('hints that lead with the fix', () => {
  it('a path in url (https://x/api/v1): leads with removing it', async () => {
    const server = await servers.standIn()
    const run = await runAction({ url: `${server.url}/api/v1`, ...credentials })
    expect(run.exitCode).toBe(1)
    expect(errorOf(run)).toMatch(/^Remove the path \/api\/v1 from `url`: no token endpoint answered below it/)
  })

  it('a UI address with its fragment (#/dashboard) works: the fragment is dropped, with a debug notice', async () => {
    const server = await servers.standIn()
    const run = await runAction({ url: `${server.url}/#/dashboard`, ...credentials })
    expectToken(run, server)
    expect(run.stdout).toContain(`::debug::The fragment (#…) of \`url\` was dropped: it never reaches a server; using ${server.url}.`)
  })

  it('https:// to a port that speaks plain http: says so, without OpenSSL internals', async () => {
    const server = await servers.standIn()
    const run = await runAction({ url: `https://localhost:${server.port}`, ...credentials })
    expect(run.exitCode).toBe(1)
    expect(errorOf(run)).toBe(
      `Could not get a Run:ai token from https://localhost:${server.port}/api/v2/token: localhost:${server.port} answered in plain http, not TLS: that port does not speak https. Use the https port of the control plane in \`url\` (plain http:// is allowed only for loopback).`
    )
    expect(run.stdout).not.toMatch(/SSL routines|error:0A/)
  })

  it('api-version v1 against 2.18: leads with v1-app-token', async () => {
    const server = await servers.standIn({ generation: '2.18' })
    const run = await runAction({ url: server.url, ...credentials, 'api-version': 'v1' })
    expect(errorOf(run)).toMatch(/^Use `api-version: v1-app-token` \(or `auto`\) if this control plane is 2\.18 or 2\.19/)
  })

  it('api-version v1-app-token against v3.0: leads with v3.0 having removed it', async () => {
    const server = await servers.standIn({ generation: '3.0' })
    const run = await runAction({ url: server.url, ...credentials, 'api-version': 'v1-app-token' })
    expect(errorOf(run)).toMatch(/^Use `api-version: auto` \(or `v2`\) if this control plane is v3\.0: it removed the app token/)
  })
})
