import * as http from 'node:http'
import type * as tls from 'node:tls'
import type { Socket } from 'node:net'
import { bareHost } from './base-url.js'
import type { Proxy } from './proxy-settings.js'
import { classifyRequestError, TransportError, type Peer } from './transport-error.js'

/**
 * Opens a CONNECT tunnel through an HTTP(S) proxy to `host:port`. TLS to the control plane is then
 * run inside the tunnel by the caller, so the proxy sees neither the secret nor the token, and the
 * caller's CA settings apply end to end. An https:// proxy is verified with the same trust.
 */
export async function openTunnel(
  { url: proxy, username, password }: Proxy,
  target: { host: string; port: number },
  proxyTls: tls.ConnectionOptions,
  signal: AbortSignal | undefined
): Promise<Socket> {
  const authority = `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`
  const headers: Record<string, string> = { Host: authority }
  if (username !== '' || password !== '') {
    headers['Proxy-Authorization'] = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`
  }
  const isHttps = proxy.protocol === 'https:'
  const proxyPort = proxy.port || (isHttps ? '443' : '80')
  const peer: Peer = { role: 'proxy', label: `${proxy.hostname}:${proxyPort}` }
  const send = isHttps ? (await import('node:https')).request : http.request
  return new Promise((resolve, reject) => {
    const request = send({
      host: bareHost(proxy),
      port: proxyPort,
      method: 'CONNECT',
      path: authority,
      headers,
      agent: false,
      ...(signal === undefined ? {} : { signal }),
      ...(isHttps ? proxyTls : {})
    })
    request.once('connect', (response, socket) => {
      if (response.statusCode === 200) {
        resolve(socket)
        return
      }
      socket.destroy()
      const status = Number(response.statusCode)
      const hasCredentials = username !== '' || password !== ''
      let hint = ''
      if (status === 407) {
        hint = hasCredentials
          ? ' The proxy refused the user name and password in HTTPS_PROXY: check them (special characters must be percent-encoded there, such as %40 for @).'
          : ' The proxy wants credentials: put them in HTTPS_PROXY as http://user:password@proxy:port.'
      }
      reject(
        new TransportError(
          `the proxy ${peer.label} (from HTTPS_PROXY) refused to open a tunnel to ${authority} (HTTP ${status}).${hint}`,
          'proxy-refused',
          'proxy',
          status
        )
      )
    })
    request.once('error', (error) => reject(signal?.aborted ? signal.reason : classifyRequestError(error, peer)))
    request.end()
  })
}
