import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_CLIENT } from '../../test-server/runai-stand-in.mjs'
import { startConnectProxy } from '../../test-server/connect-proxy.mjs'
import { runLikeRunner } from '../../test-server/runner.mjs'
import { createTestCa } from '../../test-server/test-ca.mjs'
import { errorOf, expectToken, leaksOf, runAction, serversClosedAfterEach, type ActionRun, type StandIn } from './harness.js'

// One run, one connection: the negotiation steps and the retries of a run share one kept-alive
// connection (one TLS handshake, one CONNECT through a proxy). And every certificate failure,
// of the control plane or of the proxy, is final and named. This file runs on every Node the
// end-to-end suite runs on; where Node 20 and Node 24 differ (OpenSSL 3.0 and 3.5), it says so.

const servers = serversClosedAfterEach()
const credentials = { 'client-id': DEFAULT_CLIENT.id, 'client-secret': DEFAULT_CLIENT.secret }

let ca: ReturnType<typeof createTestCa>
let otherCa: ReturnType<typeof createTestCa>
let nodeMajor = 0
beforeAll(async () => {
  ca = createTestCa(['localhost', 'runai.internal.test', 'proxy.internal.test'])
  otherCa = createTestCa(['localhost'])
  // The Node that runs the action, which is not always the one running this file.
  const probe = join(ca.dir, 'probe.mjs')
  writeFileSync(probe, 'console.log(process.versions.node)\n')
  nodeMajor = Number((await runLikeRunner(probe, {})).stdout.split('.')[0])
})
afterAll(() => {
  for (const dir of [ca.dir, otherCa.dir]) rmSync(dir, { recursive: true, force: true })
})

const tlsStandIn = (options: Parameters<typeof servers.standIn>[0] = {}, authority = ca) =>
  servers.standIn({ ...options, tls: { key: authority.key, cert: authority.cert } })

describe('one connection per run', () => {
  it('auto against 2.18: three requests, one TCP connection, one TLS handshake', async () => {
    const server = await tlsStandIn({ generation: '2.18' })
    const run = await runAction({ url: `https://localhost:${server.port}`, ...credentials, 'ca-certificate': ca.caCertPath })
    expectToken(run, server)
    expect(run.outputs['api-version']).toBe('v1-app-token')
    expect(server.requests).toHaveLength(3)
    expect([server.connections, server.tlsHandshakes]).toEqual([1, 1])
  })

  it('a retry after a 503 goes out on the same connection', async () => {
    const server = await tlsStandIn({ faults: { failFirst: 1, failWith: '503' } })
    const run = await runAction({ url: `https://localhost:${server.port}`, ...credentials, 'ca-certificate': ca.caCert })
    expectToken(run, server)
    expect(server.requests).toHaveLength(2)
    expect([server.connections, server.tlsHandshakes]).toEqual([1, 1])
  })

  it('through a proxy: one CONNECT tunnel for all three requests', async () => {
    const server = await tlsStandIn({ generation: '2.18' })
    const proxy = servers.track(await startConnectProxy({ hosts: { 'runai.internal.test': '127.0.0.1' } }))
    const run = await runAction(
      { url: `https://runai.internal.test:${server.port}`, ...credentials, 'ca-certificate': ca.caCert },
      { HTTPS_PROXY: proxy.url }
    )
    expectToken(run, server)
    expect(server.requests).toHaveLength(3)
    expect(proxy.tunnels).toHaveLength(1)
    expect([server.connections, server.tlsHandshakes]).toEqual([1, 1])
  })

  it('a kept-alive connection the server dropped is replaced at once, without spending an attempt', async () => {
    const server = await servers.standIn({ faults: { failFirst: 1, failWith: '503', resetReused: true } })
    // Two attempts: the 503, then the one whose reused connection is reset and sent again.
    const run = await runAction({ url: server.url, ...credentials, 'max-attempts': '2' })
    expectToken(run, server)
    expect(server.connections).toBe(2)
    expect(server.requests).toHaveLength(3)
  })

  it('exits as soon as the outputs are written, although the connection was kept alive', async () => {
    const server = await servers.standIn()
    const run = await runAction({ url: server.url, ...credentials })
    expectToken(run, server)
    // The stand-in keeps idle connections 75 s, as nginx does; a process waiting for that would show here.
    expect(run.durationMs).toBeLessThan(10_000)
  })
})

describe('certificates of the control plane: final at the first attempt, named, with what to do', () => {
  const refused = (run: ActionRun, server: StandIn) => {
    expect(run.exitCode).toBe(1)
    expect(server.requests).toHaveLength(0)
    expect(server.connections).toBe(1)
    return errorOf(run)
  }

  it('an unknown issuer points at ca-certificate', async () => {
    const server = await tlsStandIn()
    const message = refused(await runAction({ url: `https://localhost:${server.port}`, ...credentials }), server)
    expect(message).toMatch(
      /^Could not get a Run:ai token from https:\/\/localhost:\d+\/api\/v2\/token: the TLS certificate of localhost:\d+ was refused: .+ \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN)\)\. If it comes from a private CA, pass that CA in `ca-certificate` \(PEM text or a file path\) or point NODE_EXTRA_CA_CERTS at it; if the runner's system store trusts it, set `NODE_OPTIONS: --use-system-ca` in the step's `env:` \(Node 24 reads that store then\)\.$/
    )
  })

  it('a certificate for another host names the host', async () => {
    const elsewhere = createTestCa(['elsewhere.test'])
    const server = await tlsStandIn({}, elsewhere)
    const run = await runAction({ url: `https://localhost:${server.port}`, ...credentials, 'ca-certificate': elsewhere.caCert })
    rmSync(elsewhere.dir, { recursive: true, force: true })
    const message = refused(run, server)
    expect(message).toMatch(/ \(ERR_TLS_CERT_ALTNAME_INVALID\)\. Use the host name the certificate is issued for\.$/)
  })

  const WEAK = 'Node 24, which runs this action, refuses RSA keys under 2048 bits and SHA-1 signatures'
  const weakServer = async (strength: Parameters<typeof createTestCa>[1]) => {
    const weak = createTestCa(['localhost'], strength)
    const server = await servers.standIn({ tls: { key: weak.key, cert: weak.cert, ciphers: 'DEFAULT@SECLEVEL=0' } })
    const run = await runAction({ url: `https://localhost:${server.port}`, ...credentials, 'ca-certificate': weak.caCert })
    rmSync(weak.dir, { recursive: true, force: true })
    return { server, run }
  }

  it('an RSA-1024 key: refused on Node 24 (OpenSSL 3.5), accepted on Node 20', async () => {
    const { server, run } = await weakServer({ keyBits: 1024 })
    if (nodeMajor >= 24) expect(refused(run, server)).toContain(`EE certificate key too weak (UNSPECIFIED). ${WEAK}`)
    else expectToken(run, server)
  })

  it('an RSA-1024 CA: refused on Node 24, accepted on Node 20', async () => {
    const { server, run } = await weakServer({ caKeyBits: 1024 })
    if (nodeMajor >= 24) expect(refused(run, server)).toContain(`CA certificate key too weak (UNSPECIFIED). ${WEAK}`)
    else expectToken(run, server)
  })

  it('a SHA-1 signature: refused on every Node', async () => {
    const { server, run } = await weakServer({ digest: 'sha1' })
    expect(refused(run, server)).toContain(`CA signature digest algorithm too weak (UNSPECIFIED). ${WEAK}`)
  })
})

describe('trust adds, never replaces', () => {
  it('with ca-certificate, a CA from the system store (--use-system-ca) is still trusted (Node 24)', async () => {
    if (nodeMajor < 24) return // Node 20 has no system store to add to
    const server = await tlsStandIn()
    // OpenSSL's system store on Linux is SSL_CERT_FILE/SSL_CERT_DIR; here it holds only the test CA.
    const emptyDir = mkdtempSync(join(tmpdir(), 'runai-empty-'))
    const run = await runAction(
      { url: `https://localhost:${server.port}`, ...credentials, 'ca-certificate': otherCa.caCert },
      { NODE_USE_SYSTEM_CA: '1', SSL_CERT_FILE: ca.caCertPath, SSL_CERT_DIR: emptyDir }
    )
    rmSync(emptyDir, { recursive: true, force: true })
    expectToken(run, server)
  })

  it('with ca-certificate, NODE_EXTRA_CA_CERTS is still trusted', async () => {
    const server = await tlsStandIn()
    const run = await runAction(
      { url: `https://localhost:${server.port}`, ...credentials, 'ca-certificate': otherCa.caCert },
      { NODE_EXTRA_CA_CERTS: ca.caCertPath }
    )
    expectToken(run, server)
  })
})

describe('proxies', () => {
  const httpsProxy = async () =>
    servers.track(await startConnectProxy({ hosts: { 'runai.internal.test': '127.0.0.1' }, tls: { key: ca.key, cert: ca.cert } }))

  it('an https:// proxy is verified with ca-certificate, and carries one tunnel', async () => {
    const server = await tlsStandIn({ generation: '2.20' })
    const proxy = await httpsProxy()
    const run = await runAction(
      { url: `https://runai.internal.test:${server.port}`, ...credentials, 'ca-certificate': ca.caCert },
      { HTTPS_PROXY: proxy.url }
    )
    expectToken(run, server)
    expect(proxy.tunnels).toHaveLength(1)
  })

  it("an https:// proxy with an unknown CA fails at once, naming the proxy's certificate", async () => {
    const server = await tlsStandIn()
    const proxy = await httpsProxy()
    const run = await runAction(
      { url: `https://runai.internal.test:${server.port}`, ...credentials, 'ca-certificate': otherCa.caCert },
      { HTTPS_PROXY: proxy.url }
    )
    expect(run.exitCode).toBe(1)
    expect(proxy.tunnels).toHaveLength(0)
    expect(errorOf(run)).toMatch(
      new RegExp(
        `^Could not get a Run:ai token from https://runai\\.internal\\.test:\\d+/api/v2/token: the TLS certificate of the proxy 127\\.0\\.0\\.1:${proxy.port} \\(from HTTPS_PROXY\\) was refused: .+\\. If it comes from a private CA, pass that CA in \`ca-certificate\``
      )
    )
    expect(errorOf(run)).not.toMatch(/may be down/)
  })

  it('an https:// proxy is not verified with insecure-skip-tls-verify, like the control plane', async () => {
    const server = await tlsStandIn()
    const proxy = await httpsProxy()
    const run = await runAction(
      { url: `https://runai.internal.test:${server.port}`, ...credentials, 'insecure-skip-tls-verify': 'true' },
      { HTTPS_PROXY: proxy.url }
    )
    expectToken(run, server)
  })

  it('checks the certificate against an IP address in url, not against the proxy, through a tunnel', async () => {
    // The proxy hands the tunnel to a server whose certificate names localhost and 127.0.0.1 (the
    // proxy's own address) but not 198.51.100.20: a proxy replaying its own certificate.
    const server = await tlsStandIn()
    const proxy = servers.track(await startConnectProxy({ hosts: { '198.51.100.20': '127.0.0.1' } }))
    const run = await runAction(
      { url: `https://198.51.100.20:${server.port}`, ...credentials, 'ca-certificate': ca.caCert },
      { HTTPS_PROXY: proxy.url }
    )
    expect(run.exitCode).toBe(1)
    expect(proxy.tunnels).toHaveLength(1)
    expect(server.requests).toHaveLength(0)
    expect(errorOf(run)).toMatch(
      /^Could not get a Run:ai token from https:\/\/198\.51\.100\.20:\d+\/api\/v2\/token: the TLS certificate of 198\.51\.100\.20:\d+ was refused: .*\(ERR_TLS_CERT_ALTNAME_INVALID\)/
    )
  })

  it('a proxy whose host does not resolve fails at once, naming the proxy', async () => {
    const run = await runAction({ url: 'https://runai.internal.test', ...credentials }, { HTTPS_PROXY: 'http://proxy.invalid:3128' })
    expect(run.exitCode).toBe(1)
    expect(errorOf(run)).toBe(
      'Could not get a Run:ai token from https://runai.internal.test/api/v2/token: the host of the proxy proxy.invalid:3128 (from HTTPS_PROXY) could not be found (DNS lookup failed); check HTTPS_PROXY.'
    )
  })

  it('HTTPS_PROXY without a scheme is read as http://, as curl reads it', async () => {
    const server = await tlsStandIn()
    const proxy = servers.track(await startConnectProxy({ hosts: { 'runai.internal.test': '127.0.0.1' } }))
    const run = await runAction(
      { url: `https://runai.internal.test:${server.port}`, ...credentials, 'ca-certificate': ca.caCert },
      { HTTPS_PROXY: `localhost:${proxy.port}` }
    )
    expectToken(run, server)
    expect(proxy.tunnels).toHaveLength(1)
  })

  it('masks the proxy password, and never prints it', async () => {
    const server = await tlsStandIn()
    const proxy = servers.track(await startConnectProxy({ hosts: { 'runai.internal.test': '127.0.0.1' } }))
    const password = 'proxy-pass-Jq81'
    const run = await runAction(
      { url: `https://runai.internal.test:${server.port}`, ...credentials, 'ca-certificate': ca.caCert },
      { HTTPS_PROXY: `http://deployer:${password}@127.0.0.1:${proxy.port}` }
    )
    expectToken(run, server)
    expect(run.stdout.split('\n')).toContain(`::add-mask::${password}`)
    expect(leaksOf(run, [password])).toEqual([])
    expect(proxy.tunnels[0]?.headers['proxy-authorization']).toBe(`Basic ${Buffer.from(`deployer:${password}`).toString('base64')}`)
  })
})
