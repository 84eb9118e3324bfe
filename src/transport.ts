import * as http from 'node:http'
import type * as https from 'node:https'
import type * as tls from 'node:tls'
import { isIP, type Socket } from 'node:net'
import { bareHost } from './base-url.js'
import { MAX_ANSWER_BYTES } from './constants.js'
import { openTunnel } from './proxy-tunnel.js'
import { proxyFor } from './proxy-settings.js'
import { trustedContext } from './tls-trust.js'
import { classifyRequestError, TransportError, type Peer } from './transport-error.js'

/** What came back from one token request, read off the wire. */
export interface HttpAnswer {
  status: number
  contentType: string
  /** `Location` header, for redirects. */
  location?: string
  /** `Retry-After` header, for 429 and 503. */
  retryAfter?: string
  body: string
}

/** One request of a run: the token request (a POST with a body), or a lookup with the token. */
export interface ApiRequest {
  /** POST unless said. */
  method?: 'GET' | 'POST'
  url: string
  contentType?: string
  body?: string
  /** `Bearer <token>`: the lookups after the token. */
  authorization?: string
  userAgent: string
  timeoutMs: number
}

/** Sends the requests of one run; `close` lets go of its connection so that the process can exit. */
export interface Sender {
  (request: ApiRequest): Promise<HttpAnswer>
  close(): void
}

export interface TlsTrust {
  /** CAs to trust besides Node's default trust (from `ca-certificate`). */
  extraCa?: string[]
  insecureSkipTlsVerify: boolean
}

/** What a run keeps between its requests: one kept-alive connection, and the TLS context built once. */
interface Session {
  agent: http.Agent
  secureContext?: tls.SecureContext
  /** The certificate check for each host of the run (https sessions), made once per host. */
  identityCheck?: (host: string) => NonNullable<tls.ConnectionOptions['checkServerIdentity']>
  /** The abort signal of the request under way, for a tunnel opened on its behalf. */
  signal?: AbortSignal
}

/** A session to an https:// control plane: it always checks certificates. */
type HttpsSession = Session & Required<Pick<Session, 'identityCheck'>>

// A server that closed an idle kept-alive connection shows up as one of these on the next request.
const STALE_CONNECTION_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED'])

/**
 * POSTs the requests of one run (negotiation steps and retries) over one kept-alive connection,
 * through one CONNECT tunnel when HTTPS_PROXY applies. Redirects are never followed: the body
 * carries the secret.
 */
export function createTransport(trust: TlsTrust): Sender {
  const sessions = new Map<string, Promise<Session>>()
  const sessionFor = (target: URL): Promise<Session> => {
    let session = sessions.get(target.origin)
    if (session === undefined) {
      session = openSession(target, trust)
      sessions.set(target.origin, session)
    }
    return session
  }
  const send = async (request: ApiRequest): Promise<HttpAnswer> => {
    const target = new URL(request.url)
    return post(request, target, await sessionFor(target), trust)
  }
  const close = (): void => {
    for (const session of sessions.values()) void session.then((s) => s.agent.destroy())
    sessions.clear()
  }
  return Object.assign(send, { close })
}

async function openSession(target: URL, trust: TlsTrust): Promise<Session> {
  const isHttps = target.protocol === 'https:'
  const agentOptions: http.AgentOptions = { keepAlive: true, maxSockets: 1, maxFreeSockets: 1 }
  if (!isHttps) return { agent: new http.Agent(agentOptions) }
  // Loaded only for https: a plain-http run (loopback: tests, the demo) never uses TLS.
  const [tlsModule, httpsModule] = await Promise.all([import('node:tls'), import('node:https')])
  const secureContext = trust.extraCa === undefined ? undefined : await trustedContext(trust.extraCa)
  const identityCheck = identityChecks(tlsModule.checkServerIdentity)
  // The agent holds the control plane's check too: Node 24 keeps no connection alive whose
  // request brought a check of its own that its agent does not have.
  const session: HttpsSession = {
    agent: new httpsModule.Agent({ ...agentOptions, checkServerIdentity: identityCheck(bareHost(target)) }),
    identityCheck,
    ...(secureContext === undefined ? {} : { secureContext })
  }
  const proxy = proxyFor(target)
  if (proxy !== undefined) {
    // The agent asks for a connection when it has none; this one is TLS inside a CONNECT tunnel, so
    // the proxy sees neither the secret nor the token.
    const connectThroughProxy = (_options: unknown, done: (error: Error | null, socket?: Socket) => void): undefined => {
      openTunnel(proxy, tunnelEndpoint(target), tlsOptions(bareHost(proxy.url), session, trust), session.signal)
        .then((tunnel) => {
          // `host` names the control plane for the certificate check: without SNI (an IP address in
          // `url`) Node would otherwise check the certificate against the proxy's host.
          const socket = tlsModule.connect({ ...tlsOptions(bareHost(target), session, trust), host: bareHost(target), socket: tunnel })
          socket.once('close', () => tunnel.destroy())
          done(null, socket)
        })
        .catch((error: unknown) => done(error as Error))
      return undefined
    }
    Object.assign(session.agent, { createConnection: connectThroughProxy })
  }
  return session
}

/** One check per host, each against that host whatever name Node passes. */
function identityChecks(check: typeof tls.checkServerIdentity): NonNullable<Session['identityCheck']> {
  const checks = new Map<string, NonNullable<tls.ConnectionOptions['checkServerIdentity']>>()
  return (host) => {
    let forHost = checks.get(host)
    if (forHost === undefined) {
      forHost = (_name, cert) => check(host, cert)
      checks.set(host, forHost)
    }
    return forHost
  }
}

function tunnelEndpoint(target: URL): { host: string; port: number } {
  return { host: bareHost(target), port: Number(target.port || 443) }
}

/**
 * TLS settings for a connection to `host`: the run's trust, built once, SNI for names, and the
 * certificate checked against `host` itself. Without an explicit check, Node checks against the
 * SNI name, which https.request derives from the Host header when none is given: for an
 * https:// proxy given by address that is the CONNECT target, the control plane's name.
 */
function tlsOptions(host: string, session: Pick<HttpsSession, 'secureContext' | 'identityCheck'>, trust: TlsTrust): tls.ConnectionOptions {
  return {
    rejectUnauthorized: !trust.insecureSkipTlsVerify,
    ...(session.secureContext === undefined ? {} : { secureContext: session.secureContext }),
    // SNI takes names only, not addresses; '' stops Node from deriving one from the Host header.
    servername: isIP(host) === 0 ? host : '',
    checkServerIdentity: session.identityCheck(host)
  }
}

async function post(request: ApiRequest, target: URL, session: Session, trust: TlsTrust): Promise<HttpAnswer> {
  const controller = new AbortController()
  const peer: Peer = { role: 'control plane', label: target.host }
  const timedOut = new TransportError(
    `no answer from ${target.host} within ${Math.ceil(request.timeoutMs / 1000)} s.`,
    'timeout',
    'control plane'
  )
  const timer = setTimeout(() => controller.abort(timedOut), request.timeoutMs)
  session.signal = controller.signal
  const isHttps = target.protocol === 'https:'
  const options: https.RequestOptions = {
    host: bareHost(target),
    port: Number(target.port || (isHttps ? 443 : 80)),
    path: `${target.pathname}${target.search}`,
    method: request.method ?? 'POST',
    agent: session.agent,
    signal: controller.signal,
    headers: {
      ...(request.body === undefined
        ? {}
        : { 'Content-Type': request.contentType ?? 'application/json', 'Content-Length': Buffer.byteLength(request.body) }),
      ...(request.authorization === undefined ? {} : { Authorization: request.authorization }),
      Accept: 'application/json',
      'User-Agent': request.userAgent
    },
    ...(session.identityCheck === undefined
      ? {}
      : tlsOptions(bareHost(target), { ...session, identityCheck: session.identityCheck }, trust))
  }
  const send = isHttps ? (await import('node:https')).request : http.request
  return exchange(send, options, request.body ?? '', peer, controller)
    .catch((error: unknown) => {
      // A kept-alive connection the server closed meanwhile (after a backoff, or at the end of its
      // keep-alive) is not a failed attempt: the same request goes out at once on a fresh one.
      if (error instanceof StaleConnection) return exchange(send, options, request.body ?? '', peer, controller)
      throw error
    })
    .catch((error: unknown) => {
      throw controller.signal.aborted ? controller.signal.reason : classifyRequestError(error, peer)
    })
    .finally(() => clearTimeout(timer))
}

/** A reused connection that turned out closed; the request goes out again on a fresh one, which cannot be stale. */
class StaleConnection extends Error {}

function exchange(
  send: typeof https.request,
  options: https.RequestOptions,
  body: string,
  peer: Peer,
  controller: AbortController
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = send(options, (res) => {
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > MAX_ANSWER_BYTES) {
          controller.abort(
            new TransportError(
              `the answer from ${peer.label} is larger than ${MAX_ANSWER_BYTES / 1024 / 1024} MiB, far more than any answer of the Run:ai API, so \`url\` probably does not point at it.`,
              'too-large',
              peer.role
            )
          )
          return
        }
        chunks.push(chunk)
      })
      // A connection that closes before the end of the answer emits 'aborted' (and an error), not 'end'.
      res.once('end', () => {
        resolve({
          status: Number(res.statusCode),
          contentType: res.headers['content-type'] ?? '',
          ...(res.headers.location === undefined ? {} : { location: res.headers.location }),
          ...(res.headers['retry-after'] === undefined ? {} : { retryAfter: res.headers['retry-after'] }),
          body: Buffer.concat(chunks).toString('utf8')
        })
      })
      res.once('error', reject)
      res.once('aborted', () => reject(truncated(peer)))
    })
    req.once('error', (error: NodeJS.ErrnoException) => {
      reject(req.reusedSocket && STALE_CONNECTION_CODES.has(String(error.code)) ? new StaleConnection(error.message) : error)
    })
    // A 101 hands the socket over to 'upgrade' and ends the request without an error: with no
    // listener, nothing would settle this promise and the process would exit without a word.
    req.once('upgrade', (res, socket) => {
      socket.destroy()
      reject(
        new TransportError(
          `${peer.label} answered HTTP ${res.statusCode} (switching protocols) instead of answering the request; \`url\` does not point at the Run:ai API.`,
          'switched-protocols',
          peer.role
        )
      )
    })
    // The deadline settles the attempt itself, whatever Node does or does not emit after an abort.
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true })
    req.end(body)
  })
}

function truncated(peer: Peer): TransportError {
  return new TransportError(`the connection to ${peer.label} closed before the whole answer arrived.`, 'truncated', peer.role)
}
