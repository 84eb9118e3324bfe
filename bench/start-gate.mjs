// A TCP gate on loopback in front of the herd's stand-in: it accepts every job's connection but
// holds what the job sends until `jobs` connections have sent something (or `maxHoldMs` passed),
// then lets them all through at once. A runner pool starts a matrix on many machines within the
// same second; this machine starts a hundred processes one after another on two cores, over
// several seconds, which would spread the herd before it reached the control plane. Behind the gate
// the control plane sees them as the pool's would: all at once. Used by bench/herd.mjs.
import { connect, createServer } from 'node:net'
import { listenOnLoopback } from '../test-server/loopback.mjs'

/**
 * @param {{targetPort: number, jobs: number, maxHoldMs: number}} options
 */
export async function startGate({ targetPort, jobs, maxHoldMs }) {
  /** Held connections: what each has sent so far, flushed on release. */
  const held = []
  let openedAt = 0
  let released = false
  /** @type {number | undefined} */
  let releasedAt
  /** Per connection: when it was accepted (Date.now()) and its first bytes, to tell which job it is. */
  const accepted = []
  let releaseTimer

  const release = () => {
    if (released) return
    released = true
    releasedAt = Date.now()
    clearTimeout(releaseTimer)
    for (const { upstream, chunks } of held.splice(0)) for (const chunk of chunks) upstream.write(chunk)
  }

  const server = createServer((client) => {
    const record = { at: Date.now(), firstBytes: '' }
    accepted.push(record)
    if (openedAt === 0) {
      openedAt = record.at
      // Bounded: a job that never connects (it failed to start) does not hold the others forever.
      releaseTimer = setTimeout(release, maxHoldMs)
    }
    const upstream = connect(targetPort, '127.0.0.1')
    loopback.track(upstream)
    for (const s of [client, upstream]) s.on('error', () => client.destroy())
    const entry = { upstream, chunks: [] }
    let counted = false
    client.on('data', (chunk) => {
      if (record.firstBytes === '') record.firstBytes = chunk.toString('latin1', 0, 4096)
      if (released) return void upstream.write(chunk)
      entry.chunks.push(chunk)
      if (!counted) {
        counted = true
        held.push(entry)
        if (held.length >= jobs) release()
      }
    })
    client.on('end', () => upstream.end())
    upstream.on('data', (chunk) => client.write(chunk))
    upstream.on('end', () => client.end())
    upstream.on('close', () => client.destroy())
    client.on('close', () => upstream.destroy())
  })
  const loopback = await listenOnLoopback(server)
  return {
    url: `http://127.0.0.1:${loopback.port}`,
    /** When the first job connected, and when the gate let them through (Date.now()). */
    get openedAt() {
      return openedAt
    },
    get releasedAt() {
      return releasedAt
    },
    /** Accepted connections with their time and first bytes. */
    accepted,
    async close() {
      clearTimeout(releaseTimer)
      await loopback.close()
    }
  }
}
