import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { rmSync } from 'node:fs'
import { DEFAULT_CLIENT } from '../../test-server/runai-stand-in.mjs'
import { startConnectProxy } from '../../test-server/connect-proxy.mjs'
import { createTestCa } from '../../test-server/test-ca.mjs'
import { errorOf, expectToken, leaksOf, runAction, serversClosedAfterEach, type StandIn } from './harness.js'

const servers = serversClosedAfterEach()
const standIn = servers.standIn

let ca: ReturnType<typeof createTestCa>
beforeAll(() => {
  ca = createTestCa(['localhost', 'runai.internal.test'])
})
afterAll(() => rmSync(ca.dir, { recursive: true, force: true }))

const credentials = { 'client-id': DEFAULT_CLIENT.id, 'client-secret': DEFAULT_CLIENT.secret }
const tlsStandIn = () => standIn({ tls: { key: ca.key, cert: ca.cert } })
const localhostUrl = (server: StandIn) => `https://localhost:${server.port}`

describe('TLS', () => {
  it('trusts the test CA given as PEM text', async () => {
    const server = await tlsStandIn()
    expectToken(await runAction({ url: localhostUrl(server), ...credentials, 'ca-certificate': ca.caCert }), server)
  })

  it('trusts the test CA given as a file path', async () => {
    const server = await tlsStandIn()
    expectToken(await runAction({ url: localhostUrl(server), ...credentials, 'ca-certificate': ca.caCertPath }), server)
  })

  it('without the CA: fails at once, naming the certificate problem and ca-certificate', async () => {
    const server = await tlsStandIn()
    const run = await runAction({ url: localhostUrl(server), ...credentials })
    expect(run.exitCode).toBe(1)
    expect(errorOf(run)).toMatch(
      new RegExp(
        `^Could not get a Run:ai token from https://localhost:${server.port}/api/v2/token: the TLS certificate of localhost:${server.port} was refused: .+ \\((UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\\)\\. If it comes from a private CA, pass that CA in \`ca-certificate\``
      )
    )
    expect(run.durationMs).toBeLessThan(5000) // not retried
    expect(server.requests).toEqual([])
    expect(leaksOf(run, [DEFAULT_CLIENT.secret])).toEqual([])
  })

  it('with insecure-skip-tls-verify: succeeds and warns', async () => {
    const server = await tlsStandIn()
    const run = await runAction({ url: localhostUrl(server), ...credentials, 'insecure-skip-tls-verify': 'true' })
    expectToken(run, server)
    expect(run.stdout).toContain(
      '::warning::insecure-skip-tls-verify is true: the certificates of the Run:ai control plane and of an https:// proxy are not checked'
    )
  })
})

describe('URL forms', () => {
  it('no scheme: https is assumed', async () => {
    const server = await tlsStandIn()
    const run = await runAction({ url: `localhost:${server.port}`, ...credentials, 'ca-certificate': ca.caCert })
    expectToken(run, server)
    expect(run.outputs.url).toBe(`https://localhost:${server.port}`)
  })

  it.each([
    ['a trailing slash', '/'],
    ['a pasted /api/v2/token', '/api/v2/token'],
    ['a pasted /api/v1/token/', '/api/v1/token/']
  ])('%s is removed', async (_label, suffix) => {
    const server = await standIn()
    const run = await runAction({ url: `${server.url}${suffix}`, ...credentials })
    expectToken(run, server)
    expect(run.outputs.url).toBe(server.url)
    expect(server.requests.map((r) => r.path)).toEqual(['/api/v2/token'])
  })

  it('a path prefix is kept', async () => {
    const server = await standIn({ pathPrefix: '/runai' })
    const run = await runAction({ url: `${server.url}/runai/`, ...credentials })
    expectToken(run, server)
    expect(run.outputs.url).toBe(`${server.url}/runai`)
  })
})

describe('HTTPS_PROXY and NO_PROXY', () => {
  it('reaches a host that only the proxy can resolve, through a CONNECT tunnel, with the test CA', async () => {
    const server = await tlsStandIn()
    const proxy = servers.track(await startConnectProxy({ hosts: { 'runai.internal.test': '127.0.0.1' } }))
    const run = await runAction(
      { url: `https://runai.internal.test:${server.port}`, ...credentials, 'ca-certificate': ca.caCert },
      { HTTPS_PROXY: proxy.url }
    )
    expectToken(run, server)
    expect(proxy.tunnels.map((t) => t.authority)).toEqual([`runai.internal.test:${server.port}`])
    expect(proxy.plainRequests).toEqual([])
    expect(JSON.stringify(proxy.tunnels)).not.toContain(DEFAULT_CLIENT.secret)
    expect(server.requests).toHaveLength(1)
  })

  it('goes direct for a host in NO_PROXY: the proxy sees nothing', async () => {
    const server = await tlsStandIn()
    const proxy = servers.track(await startConnectProxy({ hosts: { 'runai.internal.test': '127.0.0.1' } }))
    const run = await runAction(
      { url: `https://runai.internal.test:${server.port}`, ...credentials, 'ca-certificate': ca.caCert, 'timeout-seconds': '5' },
      { HTTPS_PROXY: proxy.url, NO_PROXY: 'example.com,.internal.test' }
    )
    expect(proxy.tunnels).toEqual([])
    // Without the proxy the name does not resolve on this machine.
    expect(run.exitCode).toBe(1)
    expect(errorOf(run)).toContain(
      `the host of runai.internal.test:${server.port} could not be found (DNS lookup failed); check \`url\`, and behind a proxy set HTTPS_PROXY.`
    )
  })

  it('says so when the proxy refuses the tunnel', async () => {
    const server = await tlsStandIn()
    const proxy = servers.track(await startConnectProxy({ hosts: {} }))
    const run = await runAction(
      { url: `https://runai.internal.test:${server.port}`, ...credentials, 'max-attempts': '1' },
      { HTTPS_PROXY: proxy.url }
    )
    expect(run.exitCode).toBe(1)
    expect(errorOf(run)).toContain(
      `the proxy ${proxy.url.slice(7)} (from HTTPS_PROXY) refused to open a tunnel to runai.internal.test:${server.port} (HTTP 502). The proxy in HTTPS_PROXY did not carry the request`
    )
    expect(leaksOf(run, [DEFAULT_CLIENT.secret])).toEqual([])
  })
})
