// A stand-in for a Run:ai control plane's token endpoints and (deploy-api.mjs) the lookups of a
// deploy context, on loopback, for tests, the demo and the e2e workflow. It answers like the
// project's OpenAPI description (test-server/openapi/) for a chosen generation, records every
// request and can be told to misbehave. Plain Node, no dependencies.
import { createServer as createHttpServer } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { randomBytes } from 'node:crypto'
import { pathToFileURL } from 'node:url'
import { deployApi } from './deploy-api.mjs'
import { listenOnLoopback } from './loopback.mjs'

/** Which endpoints and grant types each control-plane generation has (see docs/runai-token-api.md). */
export const GENERATIONS = {
  // SaaS Dec 2025, self-hosted 2.24+ and v3.0: v2 OAuth2 form, v1 still there (deprecated).
  latest: { v2: true, v1Grants: ['client_credentials', 'app_token'], v1ExpiresIn: true },
  // 2.20 to 2.24: v1 only, client_credentials added.
  '2.20': { v2: false, v1Grants: ['client_credentials', 'app_token'], v1ExpiresIn: false },
  // 2.18 and 2.19: v1 only, app_token only.
  '2.18': { v2: false, v1Grants: ['app_token'], v1ExpiresIn: false },
  // v3.0: v2, and v1 without the app token (NVIDIA's v3.0 reference dropped app_token).
  '3.0': { v2: true, v1Grants: ['client_credentials'], v1ExpiresIn: true }
}

/**
 * The stand-in generation for a control-plane version as the README names them (2.18 … 2.24,
 * 3.0, latest), or undefined for a name it does not know.
 * @param {string} version
 * @returns {keyof typeof GENERATIONS | undefined}
 */
export function generationOf(version) {
  if (version === 'latest' || version === '3.0') return version
  const minor = /^2\.(\d+)$/.exec(version)?.[1]
  if (minor === undefined) return undefined
  const n = Number(minor)
  if (n === 18 || n === 19) return '2.18'
  if (n >= 20 && n <= 23) return '2.20'
  return n >= 24 ? 'latest' : undefined
}

// No run of 8 characters in common: the action hides every such run of the secret, and the
// client ID would show as *** in the demo's job summary.
export const DEFAULT_CLIENT = { id: 'stand-in-client', secret: 'demo-secret-DO-NOT-USE' }

/**
 * @typedef {{method: string, path: string, headers: import('node:http').IncomingHttpHeaders, body: string, at: number, lookup?: import('./deploy-api.mjs').Lookup}} RecordedRequest
 *   `lookup`: set on requests for the deploy endpoints
 */

/**
 * @typedef {object} Faults
 * @property {number} [failFirst]          answer the first N token requests with `failWith`
 * @property {'503'|'reset'} [failWith]    503 with a v1 error body, or a connection reset
 * @property {number} [retryAfterFirst]    answer the first N token requests 429 with Retry-After
 * @property {number} [retryAfterSeconds]  the Retry-After value for those (default 1)
 * @property {number} [tokensPerSecond]    serve at most this many tokens a second, 429 the rest
 * @property {boolean} [hang]              accept the connection and never answer
 * @property {boolean} [html]              answer every path with a 200 HTML page
 * @property {{status: number, location: string}} [redirect]  redirect every request
 * @property {'no-token'|'huge'|'truncated'|'malformed'} [badAnswer]  a broken 200 answer
 * @property {boolean} [resetReused]      reset a kept-alive connection when a second request comes on it,
 *                                        as a server does that closed it while the client was not looking
 * @property {import('./deploy-api.mjs').DeployFaults} [deploy]  switches for the deploy endpoints (clusters,
 *                                        projects, permitted scopes): see deploy-api.mjs
 */

/**
 * @param {object} [options]
 * @param {keyof GENERATIONS} [options.generation]
 * @param {{id: string, secret: string}[]} [options.clients]
 * @param {number} [options.tokenTtlSeconds]
 * @param {Faults} [options.faults]
 * @param {{key: string, cert: string, ciphers?: string}} [options.tls]
 * @param {number} [options.port]
 * @param {string} [options.host]
 * @param {string} [options.pathPrefix]  serve the API below this prefix, as a control plane behind a path
 * @param {import('./deploy-api.mjs').DeployData} [options.deployData]  clusters, departments, projects and access
 *   rules of the deploy endpoints (default DEPLOY_DATA of deploy-api.mjs; its identities need `clients` too)
 */
export async function startStandIn(options = {}) {
  const generation = GENERATIONS[options.generation ?? 'latest']
  if (generation === undefined) throw new Error(`unknown generation ${options.generation}`)
  const clients = new Map((options.clients ?? [DEFAULT_CLIENT]).map((c) => [c.id, c.secret]))
  const ttl = options.tokenTtlSeconds ?? 3600
  const state = {
    faults: { ...(options.faults ?? {}) },
    /** @type {RecordedRequest[]} */ requests: [],
    /** @type {string[]} */ tokensIssued: [],
    tokenRequests: 0,
    earlyRetries: 0,
    /** client id -> time before which a retry is too early (from our Retry-After) */
    notBefore: new Map(),
    windowStart: 0,
    windowCount: 0,
    hanging: new Set()
  }

  const handler = (req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => answer(req, res, Buffer.concat(chunks).toString('utf8')))
  }

  function answer(req, res, body) {
    const at = Date.now()
    const fullPath = (req.url ?? '/').split('?')[0] ?? '/'
    const prefix = options.pathPrefix ?? ''
    const path = fullPath.startsWith(`${prefix}/`) ? fullPath.slice(prefix.length) : `(outside ${prefix || '/'}) ${fullPath}`
    const record = { method: req.method, path, headers: req.headers, body, at }
    state.requests.push(record)
    const faults = state.faults
    if (faults.hang) {
      state.hanging.add(res)
      return
    }
    if (faults.html)
      return send(
        res,
        200,
        '<!doctype html><html><head><title>Run:ai</title></head><body><div id="root"></div></body></html>',
        'text/html; charset=utf-8'
      )
    if (faults.redirect) {
      res.writeHead(faults.redirect.status, { Location: faults.redirect.location, 'Content-Length': 0 })
      return res.end()
    }
    if (faults.resetReused && req.socket.served) return req.socket.resetAndDestroy()
    req.socket.served = true
    const isToken = req.method === 'POST' && (path === '/api/v1/token' || path === '/api/v2/token')
    if (!isToken) return deploy.answer(req, res, record) || send(res, 404, '404 page not found', 'text/plain')
    const n = ++state.tokenRequests
    if (faults.failFirst && n <= faults.failFirst) {
      if (faults.failWith === 'reset') return req.socket.resetAndDestroy()
      return json(res, 503, { code: 503, message: 'Please try again in few minutes.' })
    }
    if (faults.retryAfterFirst && n <= faults.retryAfterFirst) {
      return json(res, 429, { code: 429, message: 'Too many requests' }, { 'Retry-After': String(faults.retryAfterSeconds ?? 1) })
    }
    if (faults.badAnswer === 'no-token') return json(res, 200, { token_type: 'Bearer', expires_in: ttl })
    if (faults.badAnswer === 'malformed') return send(res, 200, '{"access_token": "eyJhbGciOi', 'application/json')
    if (faults.badAnswer === 'huge')
      return send(
        res,
        200,
        JSON.stringify({ padding: 'x'.repeat(5 * 1024 * 1024), access_token: issueToken('huge').token }),
        'application/json'
      )
    if (faults.badAnswer === 'truncated') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': 4096 })
      res.write('{"access_token": "eyJ')
      return setTimeout(() => res.destroy(), 20)
    }
    return path === '/api/v2/token' ? tokenV2(req, res, body, at) : tokenV1(req, res, body, at)
  }

  // The deploy endpoints: they accept the bearer tokens issued above until their `exp`.
  const deploy = deployApi({
    ...(options.deployData ? { data: options.deployData } : {}),
    faults: () => state.faults.deploy ?? {},
    issued: (token) => state.tokensIssued.includes(token)
  })

  /**
   * Client-side rate limit of the stand-in: true when this request got a rate-limit answer.
   * faults.tokensPerSecond: a fixed one-second window; faults.admitNothing: refuse every token
   * request (a control plane that admits nothing). faults.rateLimitAnswer says how a refusal looks:
   * '429' (the default; Retry-After: the rest of the window in whole seconds), '429-no-retry-after',
   * or '503' (`{"message":"Please try again in few minutes."}` with Retry-After: 2).
   */
  function rateLimited(res, clientId, at) {
    const { tokensPerSecond: perSecond, admitNothing, rateLimitAnswer = '429' } = state.faults
    if (!perSecond && !admitNothing) return false
    const early = state.notBefore.get(clientId)
    if (early !== undefined && at < early) state.earlyRetries++
    if (at - state.windowStart >= 1000) {
      state.windowStart = at
      state.windowCount = 0
    }
    if (!admitNothing && state.windowCount < perSecond) {
      state.windowCount++
      return false
    }
    if (rateLimitAnswer === '429-no-retry-after') {
      state.notBefore.delete(clientId)
      json(res, 429, { code: 429, message: 'Too many requests' })
      return true
    }
    const waitSeconds = rateLimitAnswer === '503' ? 2 : Math.max(1, Math.ceil((state.windowStart + 1000 - at) / 1000))
    state.notBefore.set(clientId, at + waitSeconds * 1000)
    const [status, message] = rateLimitAnswer === '503' ? [503, 'Please try again in few minutes.'] : [429, 'Too many requests']
    json(res, status, { code: status, message }, { 'Retry-After': String(waitSeconds) })
    return true
  }

  function tokenV2(req, res, body, at) {
    if (!generation.v2) return send(res, 404, '404 page not found', 'text/plain')
    if (!String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      return json(res, 400, { error: 'invalid_request', error_description: 'Content-Type must be application/x-www-form-urlencoded' })
    }
    const form = new URLSearchParams(body)
    if (form.get('grant_type') !== 'client_credentials') {
      return json(res, 400, {
        error: 'unsupported_grant_type',
        error_description: `grant_type ${form.get('grant_type')} is not supported here`
      })
    }
    const id = form.get('client_id') ?? ''
    if (clients.get(id) === undefined || clients.get(id) !== form.get('client_secret')) {
      return json(res, 401, { error: 'invalid_client', error_description: 'Client authentication failed' })
    }
    if (rateLimited(res, id, at)) return
    const { token } = issueToken(id)
    json(res, 200, { access_token: token, token_type: 'Bearer', expires_in: ttl, id_token: issueToken(id).token, scope: 'openid' })
  }

  function tokenV1(req, res, body, at) {
    let fields
    try {
      fields = Object(JSON.parse(body))
    } catch {
      return json(res, 400, { code: 400, message: 'Bad request - invalid JSON body' })
    }
    // Only the spellings on record: the documentation's (clientId, AppId) and the specification's
    // (clientID, appID). Whether the real server ignores case is not known, so this one does not.
    const field = (...names) => names.map((n) => fields[n]).find((v) => v !== undefined)
    const grant = fields.grantType
    if (!generation.v1Grants.includes(grant)) {
      return json(res, 400, {
        code: 400,
        message: `Bad request - grantType ${grant} is not supported`,
        details: `supported: ${generation.v1Grants.join(', ')}`
      })
    }
    const id = grant === 'app_token' ? field('AppId', 'appID') : field('clientId', 'clientID')
    const secret = grant === 'app_token' ? field('AppSecret', 'appSecret') : field('clientSecret')
    if (typeof id !== 'string' || typeof secret !== 'string') {
      return json(res, 400, { code: 400, message: 'Required parameter is missing' })
    }
    if (clients.get(id) !== secret) return json(res, 401, { code: 401, message: 'Unauthorized', details: 'invalid client credentials' })
    if (rateLimited(res, id, at)) return
    const { token } = issueToken(id)
    json(res, 200, { accessToken: token, ...(generation.v1ExpiresIn ? { expiresIn: ttl } : {}), idToken: issueToken(id).token })
  }

  /** An RS256-shaped JWT with an `exp` claim; the signature is random bytes, nobody verifies it here. */
  function issueToken(subject) {
    const now = Math.floor(Date.now() / 1000)
    const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url')
    const token = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ sub: subject, iat: now, exp: now + ttl, jti: randomBytes(8).toString('hex') })}.${randomBytes(32).toString('base64url')}`
    state.tokensIssued.push(token)
    return { token }
  }

  // Extra TLS options (ciphers: 'DEFAULT@SECLEVEL=0') let it serve the weak certificates that
  // the certificate tests need; OpenSSL refuses to load them otherwise.
  const server = options.tls ? createHttpsServer({ ...options.tls }, handler) : createHttpServer(handler)
  // Idle connections stay open as long as a real ingress keeps them (nginx: 75 s). Node's default of
  // 5 s, sent as `Keep-Alive: timeout=5`, would make clients drop the connection after a backoff.
  server.keepAliveTimeout = 75_000
  const counts = { connections: 0, tlsHandshakes: 0 }
  server.on('connection', () => counts.connections++)
  server.on('secureConnection', () => counts.tlsHandshakes++)
  const loopback = await listenOnLoopback(server, { port: options.port, host: options.host })
  const { port } = loopback
  const scheme = options.tls ? 'https' : 'http'
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    port,
    /** Every request received, token endpoints or not. */
    get requests() {
      return state.requests
    },
    get tokensIssued() {
      return state.tokensIssued
    },
    /** TCP connections accepted, and TLS handshakes completed, since the start. */
    get connections() {
      return counts.connections
    },
    get tlsHandshakes() {
      return counts.tlsHandshakes
    },
    /** Requests that came back before our Retry-After allowed. */
    get earlyRetries() {
      return state.earlyRetries
    },
    /** @param {Faults} faults */
    setFaults(faults) {
      state.faults = { ...faults }
      state.tokenRequests = 0
    },
    async close() {
      for (const res of state.hanging) res.destroy()
      await loopback.close()
    }
  }
}

function json(res, status, value, headers = {}) {
  send(res, status, JSON.stringify(value), 'application/json', headers)
}

function send(res, status, body, contentType, headers = {}) {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), ...headers })
  res.end(body)
}

// Run from the command line (the demo, the e2e workflow): print the URL, serve until killed.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { parseArgs } = await import('node:util')
  const { values } = parseArgs({
    options: {
      generation: { type: 'string', default: 'latest' },
      port: { type: 'string', default: '0' },
      'client-id': { type: 'string', default: DEFAULT_CLIENT.id },
      'client-secret': { type: 'string', default: DEFAULT_CLIENT.secret }
    }
  })
  const standIn = await startStandIn({
    generation: /** @type {keyof GENERATIONS} */ (values.generation),
    port: Number(values.port),
    clients: [{ id: values['client-id'], secret: values['client-secret'] }]
  })
  process.stdout.write(`${standIn.url}\n`)
  const stop = () => standIn.close().then(() => process.exit(0))
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}
