import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { createServer } from 'node:http'
import type { Socket } from 'node:net'
import { startConnectProxy } from '../test-server/connect-proxy.mjs'
import { listenOnLoopback, type Loopback } from '../test-server/loopback.mjs'
import { printableLine } from '../src/log-boundary.js'
import { openTunnel } from '../src/proxy-tunnel.js'
import { proxyFor, type Proxy } from '../src/proxy-settings.js'
import type { TransportError } from '../src/transport-error.js'

const proxyOf = (url: string, username = '', password = ''): Proxy => ({ url: new URL(url), username, password })
const target = { host: 'runai.internal.test', port: 443 }
const failure = async (promise: Promise<Socket>) => {
  const error = (await promise.then(
    (socket) => {
      socket.destroy()
      throw new Error('the tunnel opened')
    },
    (e: unknown) => e
  )) as TransportError
  return { kind: error.kind, peer: error.peer, message: printableLine(error.message, []) }
}

describe('openTunnel', () => {
  let proxy: Awaited<ReturnType<typeof startConnectProxy>>
  let upstream: Loopback
  beforeAll(async () => {
    upstream = await listenOnLoopback(createServer())
    proxy = await startConnectProxy({ hosts: { 'runai.internal.test': '127.0.0.1', '[::1]': '127.0.0.1' } })
  })
  afterAll(async () => {
    await proxy.close()
    await upstream.close()
  })
  afterEach(() => void proxy.tunnels.splice(0))

  it('opens a tunnel, with credentials when HTTPS_PROXY has them', async () => {
    const { port } = upstream
    const socket = await openTunnel(proxyOf(proxy.url, 'deployer', 'p@ss'), { ...target, port }, {}, undefined)
    socket.destroy()
    expect(proxy.tunnels[0]?.authority).toBe(`runai.internal.test:${port}`)
    expect(proxy.tunnels[0]?.headers['proxy-authorization']).toBe(`Basic ${Buffer.from('deployer:p@ss').toString('base64')}`)
  })

  it('puts an IPv6 address in brackets, and sends no credentials when there are none', async () => {
    const { port } = upstream
    const socket = await openTunnel(proxyOf(proxy.url), { host: '::1', port }, {}, new AbortController().signal)
    socket.destroy()
    expect(proxy.tunnels[0]?.authority).toBe(`[::1]:${port}`)
    expect(proxy.tunnels[0]?.headers['proxy-authorization']).toBeUndefined()
  })

  it('says which proxy refused, and does not call it the control plane', async () => {
    expect(await failure(openTunnel(proxyOf(proxy.url), { host: 'unknown.test', port: 443 }, {}, undefined))).toEqual({
      kind: 'proxy-refused',
      peer: 'proxy',
      message: `the proxy ${proxy.url.slice(7)} (from HTTPS_PROXY) refused to open a tunnel to unknown.test:443 (HTTP 502).`
    })
  })

  it('asks for credentials on 407', async () => {
    const strict = createServer()
    strict.on('connect', (_req, socket: Socket) => socket.end('HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n'))
    const listening = await listenOnLoopback(strict)
    const url = `http://127.0.0.1:${listening.port}`
    const result = await failure(openTunnel(proxyOf(url), target, {}, undefined))
    await listening.close()
    expect(result.message).toBe(
      `the proxy ${url.slice(7)} (from HTTPS_PROXY) refused to open a tunnel to runai.internal.test:443 (HTTP 407). The proxy wants credentials: put them in HTTPS_PROXY as http://user:password@proxy:port.`
    )
  })

  it('on 407 with credentials in HTTPS_PROXY, says the proxy refused them', async () => {
    const strict = createServer()
    strict.on('connect', (_req, socket: Socket) => socket.end('HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n'))
    const listening = await listenOnLoopback(strict)
    const result = await failure(openTunnel(proxyOf(`http://127.0.0.1:${listening.port}`, 'user', 'fake-proxy-pw'), target, {}, undefined))
    await listening.close()
    expect(result.message).toBe(
      `the proxy 127.0.0.1:${listening.port} (from HTTPS_PROXY) refused to open a tunnel to runai.internal.test:443 (HTTP 407). The proxy refused the user name and password in HTTPS_PROXY: check them (special characters must be percent-encoded there, such as %40 for @).`
    )
  })

  it.each([
    ['http://127.0.0.1', '127.0.0.1:80'],
    ['https://127.0.0.1', '127.0.0.1:443']
  ])('%s without a port is port 80 or 443, and named so when it cannot be reached', async (url, label) => {
    expect(await failure(openTunnel(proxyOf(url), target, {}, undefined))).toEqual({
      kind: 'connection',
      peer: 'proxy',
      message: `could not talk to the proxy ${label} (from HTTPS_PROXY): connect ECONNREFUSED ${label}.`
    })
  })

  it('gives the reason of an abort, not a proxy failure', async () => {
    const controller = new AbortController()
    const reason = new Error('timed out')
    controller.abort(reason)
    await expect(openTunnel(proxyOf(proxy.url), target, {}, controller.signal)).rejects.toBe(reason)
  })
})

describe('proxyFor', () => {
  const saved = { ...process.env }
  afterEach(() => {
    for (const name of ['HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy']) Reflect.deleteProperty(process.env, name)
    Object.assign(process.env, saved)
  })
  const withProxy = (value: string) => {
    for (const name of ['https_proxy', 'NO_PROXY', 'no_proxy']) Reflect.deleteProperty(process.env, name)
    process.env.HTTPS_PROXY = value
    return proxyFor(new URL('https://runai.example.com'))
  }

  it('reads HTTPS_PROXY as @actions/http-client does, credentials decoded', () => {
    const proxy = withProxy('http://deployer:p%40ss@proxy.corp:3128')
    expect([proxy?.url.host, proxy?.username, proxy?.password]).toEqual(['proxy.corp:3128', 'deployer', 'p@ss'])
  })

  it('reads a value without a scheme as http://, as curl does', () => {
    const proxy = withProxy('deployer:p%40ss@proxy.corp:3128')
    expect([proxy?.url.href, proxy?.username, proxy?.password]).toEqual(['http://deployer:p%40ss@proxy.corp:3128/', 'deployer', 'p@ss'])
    expect(withProxy('proxy.corp:3128')?.url.href).toBe('http://proxy.corp:3128/')
  })

  it.each([
    ['http://user:abc%zz@proxy.corp:3128', 'its user name or password is not validly percent-encoded'],
    ['socks5://proxy.corp:1080', 'uses socks5:, which the action does not support'],
    ['http://[proxy', 'is not a URL']
  ])('refuses %s rather than going direct, without echoing it', (value, why) => {
    expect(() => withProxy(value)).toThrow(
      `HTTPS_PROXY is set but ${why}. Set it to http://[user:password@]host:port (or https://…), or list the control plane's host in NO_PROXY.`
    )
  })

  it('never proxies plain http, which goes only to loopback', () => {
    process.env.HTTPS_PROXY = 'http://proxy.corp:3128'
    expect(proxyFor(new URL('http://localhost:8080'))).toBeUndefined()
  })

  it('has no proxy without HTTPS_PROXY, or for a host in NO_PROXY', () => {
    for (const name of ['HTTPS_PROXY', 'https_proxy']) Reflect.deleteProperty(process.env, name)
    expect(proxyFor(new URL('https://runai.example.com'))).toBeUndefined()
    process.env.HTTPS_PROXY = 'http://proxy.corp:3128'
    process.env.NO_PROXY = '.example.com'
    expect(proxyFor(new URL('https://runai.example.com'))).toBeUndefined()
  })
})
