// Starts a server of the tests and the benchmark on loopback and closes it for good: the one place
// that listens, keeps count of the open sockets and, on close, ends them (a kept-alive or hanging
// connection would otherwise hold server.close() until its client gives up). Plain Node.

/**
 * @typedef {object} Loopback
 * @property {number} port
 * @property {string} host   the address it listens on (127.0.0.1 unless told)
 * @property {(socket: import('node:net').Socket) => void} track  also end this socket on close
 *   (an upstream connection a proxy opened, say)
 * @property {() => Promise<void>} close  ends every tracked socket, then closes the server
 */

/**
 * @param {import('node:net').Server} server  an http, https or net server, not listening yet
 * @param {{port?: number | undefined, host?: string | undefined}} [options]  port 0 (the default): one the system picks
 * @returns {Promise<Loopback>}
 */
export async function listenOnLoopback(server, options = {}) {
  const host = options.host ?? '127.0.0.1'
  const sockets = new Set()
  const track = (/** @type {import('node:net').Socket} */ socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  }
  server.on('connection', track)
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject)
      resolve(undefined)
    })
  })
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address())
  return {
    port,
    host,
    track,
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(() => resolve(undefined)))
    }
  }
}
