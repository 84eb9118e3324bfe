import * as http from 'node:http'
import type { Socket } from 'node:net'
import { TransportError } from './transport-error.js'

/**
 * Opens a CONNECT tunnel through an HTTP(S) proxy to `host:port`. TLS to the control plane is then
 * run inside the tunnel by the caller, so the proxy sees neither the secret nor the token, and the
 * caller's CA settings apply end to end.
 */
export async function openTunnel(proxy: URL, host: string, port: number, signal: AbortSignal): Promise<Socket> {
  const authority = `${host.includes(':') ? `[${host}]` : host}:${port}`
  const headers: Record<string, string> = { Host: authority }
  if (proxy.username !== '' || proxy.password !== '') {
    headers['Proxy-Authorization'] = `Basic ${Buffer.from(`${proxy.username}:${proxy.password}`).toString('base64')}`
  }
  const proxyPort = proxy.port || (proxy.protocol === 'https:' ? '443' : '80')
  const proxyName = `${proxy.hostname}:${proxyPort}`
  const send = proxy.protocol === 'https:' ? (await import('node:https')).request : http.request
  return new Promise((resolve, reject) => {
    const request = send({
      host: proxy.hostname.replace(/^\[|\]$/g, ''),
      port: proxyPort,
      method: 'CONNECT',
      path: authority,
      headers,
      agent: false,
      signal
    })
    request.once('connect', (response, socket) => {
      if (response.statusCode === 200) {
        resolve(socket)
        return
      }
      socket.destroy()
      const status = response.statusCode ?? 0
      const hint = status === 407 ? ' The proxy wants credentials: put them in HTTPS_PROXY as http://user:password@proxy:port.' : ''
      reject(new TransportError(`the proxy ${proxyName} refused to open a tunnel to ${authority} (HTTP ${status}).${hint}`, status >= 500))
    })
    request.once('error', (error: NodeJS.ErrnoException) => {
      if (signal.aborted) {
        reject(signal.reason)
        return
      }
      reject(new TransportError(`could not reach the proxy ${proxyName} (from HTTPS_PROXY): ${error.code ?? error.message}.`, true))
    })
    request.end()
  })
}
