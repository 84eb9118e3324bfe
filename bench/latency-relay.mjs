// A TCP relay on loopback that makes a connection behave as if it crossed a network with a given
// round-trip time, and watches what goes through it. Used by bench/network.mjs.
//
// Latency. Every chunk is held RTT/2 in each direction, in order. Loopback completes the TCP
// handshake at once, so the relay also holds the client's first bytes until one RTT after it
// accepted the connection: over a real network a client can send nothing before the SYN-ACK comes
// back, one RTT after connect(). What the client sees (when answers arrive) is then what it would
// see over that network; bandwidth, loss and TCP slow start are not modelled.
//
// Watching. For each accepted connection the relay records, in the order it received them, the
// chunks and the end (FIN) of each direction, with their times, and reads the client's stream:
// CONNECT requests (a proxy's tunnel request) and TLS ClientHello records (record type 0x16 whose
// first handshake byte is 0x01), also inside a tunnel once the CONNECT request's header has ended.
import { createServer, connect } from 'node:net'
import { performance } from 'node:perf_hooks'
import { listenOnLoopback } from '../test-server/loopback.mjs'

/**
 * @typedef {object} RelayEvent
 * @property {'client' | 'server'} from  who sent it: the client (accepted side) or the server (upstream)
 * @property {'data' | 'end' | 'reset'} kind
 * @property {number} bytes
 * @property {number} at         when the relay received it (performance.now(), ms)
 * @property {number} deliverAt  when the relay passes it on to the other side
 */

/**
 * @typedef {object} RelayConnection
 * @property {number} acceptedAt
 * @property {RelayEvent[]} events
 * @property {number} clientHellos
 * @property {number} connects
 */

/**
 * @param {{targetPort: number, targetHost?: string, rttMs: number, maxLifetimeMs?: number}} options
 *   maxLifetimeMs: a connection still open after this long is cut, so that nothing waits forever
 */
export async function startLatencyRelay(options) {
  const half = options.rttMs / 2
  const maxLifetimeMs = options.maxLifetimeMs ?? 30_000
  /** @type {RelayConnection[]} */
  const connections = []

  const server = createServer((client) => {
    const acceptedAt = performance.now()
    /** @type {RelayConnection} */
    const record = { acceptedAt, events: [], clientHellos: 0, connects: 0 }
    connections.push(record)
    const upstream = connect(options.targetPort, options.targetHost ?? '127.0.0.1')
    loopback.track(upstream)
    for (const s of [client, upstream]) {
      s.setNoDelay(true)
      s.on('error', () => {}) // a reset is recorded below as an event; it ends the relay of that side
    }
    const lifetime = setTimeout(() => {
      client.destroy()
      upstream.destroy()
    }, maxLifetimeMs)
    lifetime.unref()
    client.on('close', () => clearTimeout(lifetime))

    const reader = clientStreamReader(record)
    // The client's first bytes wait for the emulated SYN-ACK: one RTT after the accept.
    const clientToServer = delayedPipe(
      client,
      upstream,
      record,
      'client',
      (now) => Math.max(now, acceptedAt + options.rttMs) + half,
      reader
    )
    const serverToClient = delayedPipe(upstream, client, record, 'server', (now) => now + half)
    client.on('close', () => clientToServer.closed())
    upstream.on('close', () => serverToClient.closed())
  })
  const loopback = await listenOnLoopback(server)
  const { port } = loopback

  return {
    port,
    rttMs: options.rttMs,
    /** Connections accepted from now on; the ones before are forgotten. */
    reset() {
      connections.length = 0
    },
    /** The connections accepted since the last reset, with their events so far (copies). */
    snapshot() {
      return connections.map((c) => ({ ...c, events: [...c.events] }))
    },
    close: loopback.close
  }
}

/**
 * Moves what `from` sends to `to`, each chunk at the time `deliverAt(receivedAt)` says, never
 * before the chunk ahead of it. A FIN is passed on as a FIN, a reset as a destroy, in the same order.
 */
function delayedPipe(from, to, record, who, deliverAt, reader) {
  /** @type {{event: RelayEvent, chunk?: Buffer}[]} */
  const queue = []
  let timer
  let last = 0
  let ended = false
  const push = (kind, chunk) => {
    const at = performance.now()
    last = Math.max(last, deliverAt(at))
    const event = { from: who, kind, bytes: chunk?.length ?? 0, at, deliverAt: last }
    record.events.push(event)
    queue.push({ event, chunk })
    schedule()
  }
  const schedule = () => {
    if (timer !== undefined || queue.length === 0) return
    timer = setTimeout(flush, Math.max(0, queue[0].event.deliverAt - performance.now()))
  }
  const flush = () => {
    timer = undefined
    while (queue.length > 0 && queue[0].event.deliverAt <= performance.now() + 0.5) {
      const { event, chunk } = queue.shift()
      if (event.kind === 'data') to.write(chunk)
      else if (event.kind === 'end') to.end()
      else to.destroy()
    }
    schedule()
  }
  from.on('data', (chunk) => {
    reader?.(chunk)
    push('data', chunk)
  })
  from.on('end', () => {
    ended = true
    push('end')
  })
  return {
    /** The sending side closed: without a FIN before, that was a reset (or a destroy). */
    closed() {
      if (!ended) push('reset')
    }
  }
}

/** Reads the client's byte stream: counts CONNECT requests and TLS ClientHello records. */
function clientStreamReader(record) {
  let mode = 'start' // 'start' | 'connect-header' | 'tls' | 'other'
  let text = '' // the CONNECT header read so far
  let header = Buffer.alloc(0) // the part of a TLS record header (5 bytes) read so far
  let remaining = 0 // bytes of the current record body still to pass over
  let handshakeBody = false // the current record is a handshake record whose first body byte is still to come
  const readTls = (chunk) => {
    let data = chunk
    while (data.length > 0) {
      if (remaining > 0) {
        if (handshakeBody && data[0] === 0x01) record.clientHellos++
        handshakeBody = false
        const n = Math.min(remaining, data.length)
        remaining -= n
        data = data.subarray(n)
        continue
      }
      const need = 5 - header.length
      header = Buffer.concat([header, data.subarray(0, need)])
      data = data.subarray(need)
      if (header.length < 5) return
      const type = header[0]
      if (type < 0x14 || type > 0x18) {
        mode = 'other' // not a TLS record: stop reading
        return
      }
      remaining = header.readUInt16BE(3)
      handshakeBody = type === 0x16
      header = Buffer.alloc(0)
    }
  }
  return (chunk) => {
    if (mode === 'start') {
      if (chunk.subarray(0, 8).toString('latin1') === 'CONNECT ') {
        record.connects++
        mode = 'connect-header'
      } else if (chunk[0] === 0x16) mode = 'tls'
      else mode = 'other'
    }
    if (mode === 'connect-header') {
      // The header is small; the first bytes after its blank line are the tunnel's.
      const before = text.length
      text += chunk.toString('latin1')
      const end = text.indexOf('\r\n\r\n')
      if (end === -1) return
      mode = 'tls'
      readTls(chunk.subarray(end + 4 - before))
      return
    }
    if (mode === 'tls') readTls(chunk)
  }
}

/**
 * Round trips of one connection, as bench/NOTES.md defines them: one for the TCP handshake, plus
 * one for every time the server answered a flight of the client with data. A flight is what one
 * side sends until the other side sends something; the events are in the order the relay received
 * them, which is the order they were sent in. Closing (FIN, reset) is not a flight, and the
 * server's data after the client has closed its side answers nothing the client waits for.
 * @param {RelayConnection} connection
 */
export function roundTrips(connection) {
  let trips = 1
  let clientSpoke = false
  let clientClosed = false
  for (const event of connection.events) {
    if (event.from === 'client') {
      if (event.kind === 'data') clientSpoke = true
      else clientClosed = true
    } else if (event.kind === 'data' && clientSpoke && !clientClosed) {
      trips++
      clientSpoke = false
    }
  }
  return trips
}
