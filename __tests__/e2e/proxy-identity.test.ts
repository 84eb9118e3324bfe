import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { rmSync } from 'node:fs'
import { DEFAULT_CLIENT } from '../../test-server/runai-stand-in.mjs'
import { startConnectProxy } from '../../test-server/connect-proxy.mjs'
import { createTestCa } from '../../test-server/test-ca.mjs'
import { errorOf, expectToken, runAction, serversClosedAfterEach } from './harness.js'

// Through an https:// proxy, two certificates are checked: the proxy's against the proxy's host,
// and the control plane's (inside the tunnel) against the host in `url`. Each certificate here is
// valid for its own host only, so a check against the other end's host fails. Node derives the SNI
// name of an https.request from its Host header, which for a CONNECT is the control plane: a proxy
// given by address was once checked against the control plane's name. The control plane's address
// 198.51.100.20 (TEST-NET-2) is never dialled: the proxy maps it to loopback.

const servers = serversClosedAfterEach()
const CONTROL_PLANE_NAME = 'runai.internal.test'
const CONTROL_PLANE_ADDRESS = '198.51.100.20'

type Certs = ReturnType<typeof createTestCa>
const certs: Record<string, Certs> = {}
beforeAll(() => {
  certs.proxyByName = createTestCa(['localhost'], { ipAddresses: [] })
  certs.proxyByAddress = createTestCa([], { ipAddresses: ['127.0.0.1'] })
  certs.controlPlaneByName = createTestCa([CONTROL_PLANE_NAME], { ipAddresses: [] })
  certs.controlPlaneByAddress = createTestCa([], { ipAddresses: [CONTROL_PLANE_ADDRESS] })
})
afterAll(() => {
  for (const ca of Object.values(certs)) rmSync(ca.dir, { recursive: true, force: true })
})

const cert = (name: string): Certs => {
  const found = certs[name]
  if (found === undefined) throw new Error(`no test certificate ${name}`)
  return found
}

async function runThrough(proxyHost: 'localhost' | '127.0.0.1', controlPlaneHost: string, proxyCert: Certs, controlPlaneCert: Certs) {
  const server = await servers.standIn({ tls: { key: controlPlaneCert.key, cert: controlPlaneCert.cert } })
  const proxy = servers.track(
    await startConnectProxy({ hosts: { [controlPlaneHost]: '127.0.0.1' }, tls: { key: proxyCert.key, cert: proxyCert.cert } })
  )
  const run = await runAction(
    {
      url: `https://${controlPlaneHost}:${server.port}`,
      'client-id': DEFAULT_CLIENT.id,
      'client-secret': DEFAULT_CLIENT.secret,
      'ca-certificate': `${proxyCert.caCert}\n${controlPlaneCert.caCert}`
    },
    { HTTPS_PROXY: `https://${proxyHost}:${proxy.port}` }
  )
  return { run, server, proxy }
}

describe('an https:// proxy: each certificate is checked against its own host', () => {
  const combinations = [
    ['127.0.0.1', 'proxyByAddress', CONTROL_PLANE_NAME, 'controlPlaneByName'],
    ['127.0.0.1', 'proxyByAddress', CONTROL_PLANE_ADDRESS, 'controlPlaneByAddress'],
    ['localhost', 'proxyByName', CONTROL_PLANE_NAME, 'controlPlaneByName'],
    ['localhost', 'proxyByName', CONTROL_PLANE_ADDRESS, 'controlPlaneByAddress']
  ] as const
  it.each(combinations)(
    'proxy %s (certificate %s), control plane %s (certificate %s): a token through one tunnel',
    async (proxyHost, proxyCert, host, hostCert) => {
      const { run, server, proxy } = await runThrough(proxyHost, host, cert(proxyCert), cert(hostCert))
      expectToken(run, server)
      expect(proxy.tunnels.map((t) => t.authority)).toEqual([`${host}:${server.port}`])
    }
  )

  it("a proxy by address whose certificate names another address fails at once, naming the proxy's certificate", async () => {
    const wrong = createTestCa([], { ipAddresses: ['127.0.0.2'] })
    try {
      const { run, server, proxy } = await runThrough('127.0.0.1', CONTROL_PLANE_NAME, wrong, cert('controlPlaneByName'))
      expect(run.exitCode).toBe(1)
      expect(proxy.tunnels).toHaveLength(0)
      expect(server.requests).toHaveLength(0)
      expect(errorOf(run)).toMatch(
        new RegExp(
          `^Could not get a Run:ai token from https://runai\\.internal\\.test:\\d+/api/v2/token: the TLS certificate of the proxy 127\\.0\\.0\\.1:${proxy.port} \\(from HTTPS_PROXY\\) was refused: .*IP: 127\\.0\\.0\\.1 is not in the cert's list: 127\\.0\\.0\\.2 \\(ERR_TLS_CERT_ALTNAME_INVALID\\)\\. Use the host name the certificate is issued for\\.`
        )
      )
    } finally {
      rmSync(wrong.dir, { recursive: true, force: true })
    }
  })

  it("a control plane that shows the proxy's certificate fails at once, naming the control plane's", async () => {
    // The proxy answers the tunnelled TLS itself: the certificate is valid, but for the proxy's host.
    const { run, server } = await runThrough('127.0.0.1', CONTROL_PLANE_NAME, cert('proxyByAddress'), cert('proxyByAddress'))
    expect(run.exitCode).toBe(1)
    expect(server.requests).toHaveLength(0)
    expect(errorOf(run)).toMatch(
      /^Could not get a Run:ai token from https:\/\/runai\.internal\.test:\d+\/api\/v2\/token: the TLS certificate of runai\.internal\.test:\d+ was refused: Hostname\/IP does not match certificate's altnames: Host: runai\.internal\.test\. .*\(ERR_TLS_CERT_ALTNAME_INVALID\)\. Use the host name the certificate is issued for\.$/
    )
  })
})
