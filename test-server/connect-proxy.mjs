// A CONNECT proxy on loopback for the proxy tests. It resolves host names from its own table
// (so a name that only the proxy knows proves the request went through it), records every
// tunnel and every plain request it sees, and refuses anything it cannot map.
import { createServer } from 'node:http'
import { createServer as createTlsServer } from 'node:https'
import { connect } from 'node:net'
import { listenOnLoopback } from './loopback.mjs'

/**
 * @param {{hosts: Record<string, string>, tls?: {key: string, cert: string}}} options  host name ->
 *   address the proxy connects to; with `tls`, an https:// proxy
 */
export async function startConnectProxy(options) {
  /** @type {{authority: string, headers: import('node:http').IncomingHttpHeaders}[]} */
  const tunnels = []
  /** @type {{method: string | undefined, url: string | undefined}[]} */
  const plainRequests = []
  const server = (options.tls ? createTlsServer.bind(null, options.tls) : createServer)((req, res) => {
    plainRequests.push({ method: req.method, url: req.url })
    res.writeHead(405, { 'Content-Type': 'text/plain' }).end('this proxy only tunnels (CONNECT)\n')
  })
  server.on('connect', (req, client, head) => {
    const authority = req.url ?? ''
    tunnels.push({ authority, headers: req.headers })
    const match = /^(.+):(\d+)$/.exec(authority)
    const address = match ? options.hosts[match[1]] : undefined
    if (!match || address === undefined) {
      client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n')
      return
    }
    const upstream = connect(Number(match[2]), address, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      if (head.length > 0) upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    loopback.track(upstream)
    upstream.on('error', () => client.destroy())
    client.on('error', () => upstream.destroy())
  })
  const loopback = await listenOnLoopback(server)
  const { port } = loopback
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    tunnels,
    plainRequests,
    close: loopback.close
  }
}
