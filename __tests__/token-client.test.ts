import { describe, expect, it } from '@jest/globals'
import { requestToken, type TokenClientSettings } from '../src/token-client.js'
import { printableLine } from '../src/log-boundary.js'
import { TransportError } from '../src/transport-error.js'
import { USER_AGENT } from '../src/constants.js'
import { CLIENT_ID, SECRET, fakeClock, jsonAnswer, scriptedSender, textAnswer, type Reply } from './helpers/fakes.js'

const BASE = 'https://runai.example.com'
const settings = (overrides: Partial<TokenClientSettings> = {}): Omit<TokenClientSettings, 'deadline'> => ({
  baseUrl: BASE,
  clientId: CLIENT_ID,
  clientSecret: SECRET,
  apiVersion: 'auto',
  timeoutMs: 120_000,
  maxAttempts: 5,
  ...overrides
})

const v2Token = jsonAnswer(200, { access_token: 'tok-v2-4f9c2a7e81d3', token_type: 'Bearer', expires_in: 3600, id_token: 'id-token-v2' })
const v1Token = jsonAnswer(200, { accessToken: 'tok-v1-8b1e5d0c3a96', refreshToken: 'refresh-v1' })
const notFound = textAnswer(404, '404 page not found')
const oauthInvalidClient = jsonAnswer(401, { error: 'invalid_client', error_description: 'Client authentication failed' })
const v1BadGrant = jsonAnswer(400, { code: 400, message: 'Bad request - grantType client_credentials is not supported' })
const unavailable = jsonAnswer(503, { code: 503, message: 'Please try again in few minutes.' })

function harness(replies: Reply[], overrides: Partial<TokenClientSettings> = {}, clock = fakeClock()) {
  const send = scriptedSender(replies)
  const events: string[] = []
  const deps = {
    send,
    clock,
    mask: (s: string) => events.push(`mask ${s}`),
    info: (m: string) => events.push(`info ${printableLine(m, [])}`),
    debug: (m: string) => events.push(`debug ${printableLine(m, [])}`)
  }
  // Messages as the log boundary prints them: server text marked untrusted, then shortened.
  const result = requestToken({ ...settings(overrides), deadline: clock.now() + (overrides.timeoutMs ?? 120_000) }, deps).catch(
    (error: Error) => {
      error.message = printableLine(error.message, [])
      throw error
    }
  )
  return { send, clock, events, result }
}

describe('requestToken: each api-version sends its request', () => {
  it('v2: form-encoded client credentials to /api/v2/token', async () => {
    const h = harness([v2Token], { apiVersion: 'v2' })
    await expect(h.result).resolves.toEqual({
      accessToken: 'tok-v2-4f9c2a7e81d3',
      otherTokens: ['id-token-v2'],
      expiresInSeconds: 3600,
      generation: 'v2'
    })
    const [request] = h.send.requests
    expect(request).toMatchObject({
      url: `${BASE}/api/v2/token`,
      contentType: 'application/x-www-form-urlencoded',
      userAgent: USER_AGENT,
      timeoutMs: 30_000
    })
    expect(Object.fromEntries(new URLSearchParams(request?.body))).toEqual({
      grant_type: 'client_credentials',
      client_id: CLIENT_ID,
      client_secret: SECRET
    })
  })

  it('v1: JSON client_credentials to /api/v1/token', async () => {
    const h = harness([v1Token], { apiVersion: 'v1' })
    await expect(h.result).resolves.toMatchObject({ accessToken: 'tok-v1-8b1e5d0c3a96', generation: 'v1' })
    expect(h.send.requests[0]?.url).toBe(`${BASE}/api/v1/token`)
    expect(h.send.requests[0]?.contentType).toBe('application/json')
    expect(JSON.parse(h.send.requests[0]?.body ?? '')).toEqual({
      grantType: 'client_credentials',
      clientId: CLIENT_ID,
      clientSecret: SECRET
    })
  })

  it('v1-app-token: JSON app_token with AppId/AppSecret', async () => {
    const h = harness([v1Token], { apiVersion: 'v1-app-token' })
    await expect(h.result).resolves.toMatchObject({ generation: 'v1-app-token' })
    expect(JSON.parse(h.send.requests[0]?.body ?? '')).toEqual({ grantType: 'app_token', AppId: CLIENT_ID, AppSecret: SECRET })
  })

  it('masks the access token and every other token before anything else is logged', async () => {
    const h = harness([v1Token], { apiVersion: 'v1' })
    await h.result
    expect(h.events).toEqual(['mask tok-v1-8b1e5d0c3a96', 'mask refresh-v1'])
  })
})

describe('requestToken: auto negotiation', () => {
  it('stops at v2 when it issues a token', async () => {
    const h = harness([v2Token])
    await expect(h.result).resolves.toMatchObject({ generation: 'v2' })
    expect(h.send.requests).toHaveLength(1)
  })

  it.each([
    ['404', notFound],
    ['405', textAnswer(405, 'Method Not Allowed')],
    ['501', jsonAnswer(501, { message: 'Not Implemented' })],
    ['401 without an OAuth2 body', jsonAnswer(401, { code: 401, message: 'Unauthorized' })],
    ['an HTML page', textAnswer(200, '<!doctype html><html></html>', 'text/html')],
    ['a body that is not JSON', textAnswer(200, 'OK')],
    ['a 200 JSON without a token', jsonAnswer(200, { status: 'ok' })],
    ['a framework 404 with an "error" field', jsonAnswer(404, { status: 404, error: 'Not Found', path: '/api/v2/token' })],
    ['a 401 whose "error" is an object with its own toString', jsonAnswer(401, { error: { toString: 1 } })],
    [
      'a 401 whose "error" is nested 200,000 arrays deep',
      textAnswer(401, `{"error":${'['.repeat(200_000)}${']'.repeat(200_000)}}`, 'application/json')
    ]
  ])('goes on to v1 when v2 answers %s', async (_label, answer) => {
    const h = harness([answer, v1Token])
    await expect(h.result).resolves.toMatchObject({ accessToken: 'tok-v1-8b1e5d0c3a96', generation: 'v1' })
    expect(h.send.requests.map((r) => r.url)).toEqual([`${BASE}/api/v2/token`, `${BASE}/api/v1/token`])
    expect(h.events[0]).toMatch(/^info https:\/\/runai\.example\.com\/api\/v2\/token answered HTTP \d+.*; trying api-version v1\.$/)
  })

  it('stops at v2 when an OAuth2 error judged the credentials', async () => {
    const h = harness([oauthInvalidClient])
    await expect(h.result).rejects.toThrow(
      'Run:ai refused the request for a token (api-version v2: POST https://runai.example.com/api/v2/token answered HTTP 401: invalid_client: Client authentication failed). Check `client-id` and `client-secret`'
    )
    expect(h.send.requests).toHaveLength(1)
  })

  it('goes from v1 to v1-app-token on 422 too (a request validator in front)', async () => {
    const h = harness([notFound, jsonAnswer(422, { message: 'grantType: must be one of app_token' }), v1Token])
    await expect(h.result).resolves.toMatchObject({ generation: 'v1-app-token' })
  })

  it('goes from v1 to v1-app-token once on 400 (control planes 2.18, 2.19)', async () => {
    const h = harness([notFound, v1BadGrant, v1Token])
    await expect(h.result).resolves.toMatchObject({ generation: 'v1-app-token' })
    expect(JSON.parse(h.send.requests[2]?.body ?? '')).toMatchObject({ grantType: 'app_token' })
  })

  it.each([401, 403])('goes from v1 to v1-app-token on %i too, and lists every verdict when that refuses as well', async (status) => {
    const refused = jsonAnswer(status, { code: status, message: 'Unauthorized' })
    const h = harness([notFound, refused, refused])
    await expect(h.result).rejects.toThrow(
      `Run:ai refused the request for a token (api-version v2: POST ${BASE}/api/v2/token answered HTTP 404 with a body that is not JSON; api-version v1: POST ${BASE}/api/v1/token answered HTTP ${status}: Unauthorized; api-version v1-app-token: POST ${BASE}/api/v1/token answered HTTP ${status}: Unauthorized). Check \`client-id\` and \`client-secret\``
    )
    expect(h.send.requests).toHaveLength(3)
    expect(JSON.parse(h.send.requests[2]?.body ?? '')).toMatchObject({ grantType: 'app_token' })
  })

  it('stops at v1 on other refusals, such as 404', async () => {
    const h = harness([notFound, notFound])
    await expect(h.result).rejects.toThrow('no API generation answered with a token')
    expect(h.send.requests).toHaveLength(2)
  })

  it('lists every endpoint tried when every generation fails', async () => {
    const h = harness([notFound, v1BadGrant, jsonAnswer(400, { code: 400, message: 'invalid app credentials' })])
    await expect(h.result).rejects.toThrow(
      `Run:ai refused the request for a token (api-version v2: POST ${BASE}/api/v2/token answered HTTP 404 with a body that is not JSON; api-version v1: POST ${BASE}/api/v1/token answered HTTP 400: Bad request - grantType client_credentials is not supported; api-version v1-app-token: POST ${BASE}/api/v1/token answered HTTP 400: invalid app credentials).`
    )
  })

  it('says when no generation exists at that URL', async () => {
    const h = harness([notFound, notFound])
    await expect(h.result).rejects.toThrow(
      `Could not get a Run:ai token from ${BASE}; no API generation answered with a token (api-version v2: POST ${BASE}/api/v2/token answered HTTP 404 with a body that is not JSON; api-version v1: POST ${BASE}/api/v1/token answered HTTP 404 with a body that is not JSON). Check that \`url\` is the Run:ai control-plane address`
    )
  })

  it('says that url points at a web page when every endpoint answers HTML', async () => {
    const page = textAnswer(200, '<html><body>Sign in</body></html>', 'text/html')
    const h = harness([page, page])
    await expect(h.result).rejects.toThrow(
      `\`url\` (${BASE}) points at a web page, not the Run:ai API: ${BASE}/api/v2/token and ${BASE}/api/v1/token answered HTML.`
    )
  })

  it('a pinned api-version tries only that one and suggests auto', async () => {
    const h = harness([notFound], { apiVersion: 'v2' })
    await expect(h.result).rejects.toThrow(
      `Could not get a Run:ai token with api-version v2 (api-version v2: POST ${BASE}/api/v2/token answered HTTP 404 with a body that is not JSON). Check that \`url\` is the Run:ai control-plane address and that it supports this api-version; \`api-version: auto\` finds the right one.`
    )
    expect(h.send.requests).toHaveLength(1)
  })

  it('a pinned v1 refused with 400 leads with v1-app-token for old control planes', async () => {
    const h = harness([v1BadGrant], { apiVersion: 'v1' })
    await expect(h.result).rejects.toThrow(
      /^Use `api-version: v1-app-token` \(or `auto`\) if this control plane is 2\.18 or 2\.19: they accept only that; v1 client credentials came in 2\.20 \(api-version v1: POST .+ answered HTTP 400: Bad request - grantType client_credentials is not supported\)\. Otherwise check `client-id` and `client-secret`\.$/
    )
  })

  it('a pinned v1-app-token refused with 400 leads with v3.0 having removed the app token', async () => {
    const h = harness([jsonAnswer(400, { code: 400, message: 'Bad request - grantType app_token is not supported' })], {
      apiVersion: 'v1-app-token'
    })
    await expect(h.result).rejects.toThrow(/^Use `api-version: auto` \(or `v2`\) if this control plane is v3\.0: it removed the app token/)
  })

  it('a pinned v1 refused with 401 still leads with the credentials', async () => {
    const h = harness([jsonAnswer(401, { code: 401, message: 'Unauthorized' })], { apiVersion: 'v1' })
    await expect(h.result).rejects.toThrow(
      /^Run:ai refused the request for a token .+ Control planes 2\.18 and 2\.19 accept only `api-version: v1-app-token`\.$/
    )
  })

  it.each([
    ['404 from every generation', [notFound, notFound]],
    ['a web page from one, 404 from the other', [textAnswer(200, '<html></html>', 'text/html'), notFound]]
  ])('a path in url with %s leads with removing the path', async (_, replies) => {
    const h = harness(replies, { baseUrl: 'https://runai.example.com/api/v1' })
    await expect(h.result).rejects.toThrow(
      /^Remove the path \/api\/v1 from `url`: no token endpoint answered below it \(api-version v2: POST https:\/\/runai\.example\.com\/api\/v1\/api\/v2\/token answered HTTP (404|200)/
    )
  })
})

describe('requestToken: retries', () => {
  it('retries 503 on the same endpoint with backoff, then succeeds', async () => {
    const h = harness([unavailable, unavailable, v2Token])
    await expect(h.result).resolves.toMatchObject({ generation: 'v2' })
    expect(h.send.requests.map((r) => r.url)).toEqual(Array(3).fill(`${BASE}/api/v2/token`))
    // full jitter with random() = 0.5: half of 1 s, then half of 2 s
    expect(h.clock.sleeps).toEqual([500, 1000])
  })

  it.each([429, 500, 502, 503, 504])('retries %i', async (status) => {
    const h = harness([jsonAnswer(status, {}), v2Token])
    await expect(h.result).resolves.toMatchObject({ generation: 'v2' })
  })

  it('retries connection errors', async () => {
    const h = harness([new TransportError('could not talk to runai.example.com: ECONNRESET.', 'connection', 'control plane'), v2Token])
    await expect(h.result).resolves.toMatchObject({ generation: 'v2' })
  })

  it('waits at least Retry-After', async () => {
    const h = harness([jsonAnswer(429, { code: 429 }, { retryAfter: '7' }), v2Token])
    await h.result
    expect(h.clock.sleeps[0]).toBeGreaterThanOrEqual(7000)
  })

  it('waits out a rate limit past max-attempts, until timeout-seconds: the server paces, it does not fail', async () => {
    const limited = jsonAnswer(429, { code: 429, message: 'Too many requests' }, { retryAfter: '1' })
    const h = harness([limited, limited, limited, limited, v2Token], { maxAttempts: 2 })
    await expect(h.result).resolves.toMatchObject({ generation: 'v2' })
    // Retry-After as the floor, a jitter of up to 3 s, 6 s, 6 s on top (random() = 0.5).
    expect(h.clock.sleeps).toEqual([2500, 4000, 4000, 4000])
  })

  it('treats a 503 with Retry-After as a rate limit, and one without as a failure', async () => {
    const paced = harness([jsonAnswer(503, {}, { retryAfter: '2' }), jsonAnswer(503, {}, { retryAfter: '2' }), v2Token], { maxAttempts: 1 })
    await expect(paced.result).resolves.toMatchObject({ generation: 'v2' })
    const failing = harness([unavailable, v2Token], { maxAttempts: 1 })
    await expect(failing.result).rejects.toThrow('after 1 attempt(s)')
  })

  it('names the Retry-After when a 500 asks to wait longer than timeout-seconds leaves', async () => {
    const h = harness([jsonAnswer(500, {}, { retryAfter: '60' })], { timeoutMs: 10_000 })
    await expect(h.result).rejects.toThrow(
      'The control plane asked to wait 60 s before the next attempt (Retry-After), more than `timeout-seconds` (10) leaves; try again later, or raise `timeout-seconds`.'
    )
  })

  it('reads a Retry-After of 400 digits as a day, not as Infinity', async () => {
    const h = harness([jsonAnswer(429, {}, { retryAfter: '9'.repeat(400) })], { timeoutMs: 10_000 })
    await expect(h.result).rejects.toThrow('asked to wait 86400 s before the next attempt')
  })

  it('under a rate limit, shortens the jitter to the time left while the floor still fits', async () => {
    const limited = jsonAnswer(429, {}, { retryAfter: '1' })
    const h = harness([limited, v2Token], { timeoutMs: 3_000 }, fakeClock(1_800_000_000_000, 0.99))
    await expect(h.result).resolves.toMatchObject({ generation: 'v2' })
    expect(h.clock.sleeps).toEqual([2_000])
  })

  it('paces a 429 without Retry-After from a floor of 1 s', async () => {
    const h = harness([jsonAnswer(429, {}), jsonAnswer(429, {}), v2Token])
    await h.result
    expect(h.clock.sleeps).toEqual([2500, 4000])
  })

  it("says each failed attempt at the normal level, in its own words, with the wait; the server's words in debug", async () => {
    const limited = jsonAnswer(429, { message: 'x(1,2): error TS2304: slow down' }, { retryAfter: '1' })
    const h = harness([unavailable, limited, v2Token], { maxAttempts: 3 })
    await h.result
    expect(h.events).toEqual([
      `info Attempt 1 of 3 at ${BASE}/api/v2/token failed with HTTP 503. Trying again in 0.5 s.`,
      `debug Attempt 1 at ${BASE}/api/v2/token: HTTP 503: Please try again in few minutes.`,
      `info Attempt 2 at ${BASE}/api/v2/token failed with HTTP 429. Waiting 2.5 s as the control plane asks (rate limits are waited out until \`timeout-seconds\`, 119.5 s left).`,
      `debug Attempt 2 at ${BASE}/api/v2/token: HTTP 429: x(1,2): error TS2304: slow down.`,
      'mask tok-v2-4f9c2a7e81d3',
      'mask id-token-v2'
    ])
  })

  it('says so while an attempt waits longer than 10 s for an answer, and only then', async () => {
    const clock = fakeClock()
    const answerAfter = (ms: number) => () => {
      clock.advance(ms)
      return v2Token
    }
    const quick = harness([answerAfter(9_000)], {}, clock)
    await quick.result
    expect(quick.events.filter((e) => e.startsWith('info'))).toEqual([])
    const slow = harness([answerAfter(12_000)], {}, clock)
    await slow.result
    expect(slow.events.filter((e) => e.startsWith('info'))).toEqual([
      `info Still waiting for an answer from ${BASE}/api/v2/token after 10 s (attempt 1).`
    ])
  })

  it('says nothing at the normal level for a fast success', async () => {
    const h = harness([v2Token])
    await h.result
    expect(h.events.filter((e) => e.startsWith('info'))).toEqual([])
  })

  it('ends a run of refused connections saying nothing listens there', async () => {
    const refused = new TransportError(
      'could not talk to runai.example.com:8443: connect ECONNREFUSED 10.0.0.1:8443.',
      'connection',
      'control plane',
      undefined,
      {
        plain: 'could not talk to runai.example.com:8443 (ECONNREFUSED)',
        code: 'ECONNREFUSED'
      }
    )
    const h = harness([refused, refused], { maxAttempts: 2 })
    await expect(h.result).rejects.toThrow(
      'Nothing accepted the connection at that address; check the host and port in `url` (nothing listens there, or a firewall refuses it), or raise `max-attempts`.'
    )
    expect(h.events[0]).toBe(
      `info Attempt 1 of 2 at ${BASE}/api/v2/token failed with could not talk to runai.example.com:8443 (ECONNREFUSED). Trying again in 0.5 s.`
    )
  })

  it('gives up after max-attempts and says what failed last', async () => {
    const h = harness([unavailable, unavailable, unavailable], { maxAttempts: 3 })
    await expect(h.result).rejects.toThrow(
      `Could not get a Run:ai token from ${BASE}/api/v2/token after 3 attempt(s) in 2 s; the last one failed with HTTP 503: Please try again in few minutes. The control plane may be down or overloaded; try again later, or raise \`max-attempts\`.`
    )
    expect(h.send.requests).toHaveLength(3)
  })

  it('never waits past timeout-seconds, and blames a Retry-After beyond it when that was the cause', async () => {
    const h = harness([jsonAnswer(429, {}, { retryAfter: '60' })], { timeoutMs: 10_000 })
    await expect(h.result).rejects.toThrow(
      `Could not get a Run:ai token from ${BASE}/api/v2/token after 1 attempt(s) in 0 s; the last one failed with HTTP 429. The control plane kept limiting requests (HTTP 429) and asked to wait 60 s before the next attempt (Retry-After), more than \`timeout-seconds\` (10) leaves; try again later, run fewer jobs at once against it (\`strategy.max-parallel\`), or raise \`timeout-seconds\`.`
    )
    expect(h.clock.sleeps).toEqual([])
  })

  it('blames the time left, not the server, when the backoff outlasts timeout-seconds', async () => {
    const h = harness([new TransportError('no answer from runai.example.com within 1 s.', 'timeout', 'control plane')], { timeoutMs: 500 })
    await expect(h.result).rejects.toThrow(
      `Could not get a Run:ai token from ${BASE}/api/v2/token after 1 attempt(s) in 0 s; the last one failed with no answer from runai.example.com within 1 s. \`timeout-seconds\` (0.5) leaves no time for another attempt. No answer came in time; check that \`url\` is reachable from the runner (firewall, HTTPS_PROXY/NO_PROXY), or raise \`timeout-seconds\`.`
    )
  })

  it('names the proxy, not the control plane, when the proxy kept failing', async () => {
    const proxyDown = new TransportError(
      'could not talk to the proxy proxy.corp:3128 (from HTTPS_PROXY): ECONNREFUSED.',
      'connection',
      'proxy'
    )
    const h = harness([proxyDown, proxyDown], { maxAttempts: 2 })
    await expect(h.result).rejects.toThrow(
      `Could not get a Run:ai token from ${BASE}/api/v2/token after 2 attempt(s) in 1 s; the last one failed with could not talk to the proxy proxy.corp:3128 (from HTTPS_PROXY): ECONNREFUSED. The proxy in HTTPS_PROXY did not carry the request; check that it is up and reachable from the runner, or list the control plane in NO_PROXY, or raise \`max-attempts\`.`
    )
  })

  it('says the control plane kept limiting requests when 429 came until timeout-seconds', async () => {
    const h = harness(
      Array.from({ length: 30 }, () => jsonAnswer(429, {})),
      { maxAttempts: 2, timeoutMs: 20_000 }
    )
    await expect(h.result).rejects.toThrow(
      'leaves no time for another attempt. The control plane kept limiting requests (HTTP 429); try again later, run fewer jobs at once against it (`strategy.max-parallel`), or raise `timeout-seconds`.'
    )
  })

  it('says the connection kept failing when it did', async () => {
    const reset = new TransportError('could not talk to runai.example.com: ECONNRESET.', 'connection', 'control plane')
    const h = harness([reset, reset], { maxAttempts: 2 })
    await expect(h.result).rejects.toThrow(
      'The connection to the control plane kept failing; check that `url` is reachable from the runner and try again later, or raise `max-attempts`.'
    )
  })

  it('lets an unexpected error through as it is', async () => {
    const h = harness([new TypeError('bug')])
    await expect(h.result).rejects.toThrow(TypeError)
  })

  it('bounds each attempt by the time left', async () => {
    const h = harness([unavailable, v2Token], { timeoutMs: 4_000 })
    await h.result
    expect(h.send.requests.map((r) => r.timeoutMs)).toEqual([4_000, 3_500])
  })

  it.each([
    ['400', jsonAnswer(400, { error: 'invalid_request' })],
    ['401', oauthInvalidClient]
  ])('does not retry %s', async (_label, answer) => {
    const h = harness([answer], { apiVersion: 'v2' })
    await expect(h.result).rejects.toThrow('Run:ai refused the request for a token')
    expect(h.send.requests).toHaveLength(1)
  })

  it('does not retry a certificate problem', async () => {
    const h = harness([
      new TransportError(
        'the TLS certificate of runai.example.com could not be verified (SELF_SIGNED_CERT_IN_CHAIN).',
        'certificate',
        'control plane'
      )
    ])
    await expect(h.result).rejects.toThrow(
      `Could not get a Run:ai token from ${BASE}/api/v2/token: the TLS certificate of runai.example.com could not be verified`
    )
    expect(h.send.requests).toHaveLength(1)
  })
})

describe('requestToken: redirects', () => {
  it('fails on a redirect, naming where it pointed but not its query', async () => {
    const h = harness([{ status: 302, contentType: '', location: 'https://sso.example.com/login?state=abc', body: '' }])
    await expect(h.result).rejects.toThrow(
      `${BASE}/api/v2/token answered HTTP 302, redirecting to https://sso.example.com/login. Redirects are not followed because the request carries the client secret. Set \`url\` to the Run:ai control-plane address itself`
    )
    expect(h.send.requests).toHaveLength(1)
  })

  it('says so when the location is no URL, or missing', async () => {
    const invalid = harness([{ status: 302, contentType: '', location: 'http://[not-a-host', body: '' }])
    await expect(invalid.result).rejects.toThrow('answered HTTP 302, redirecting to an address that is not a valid URL.')
    const missing = harness([{ status: 303, contentType: '', body: '' }])
    await expect(missing.result).rejects.toThrow('answered HTTP 303, redirecting to an address it did not name.')
  })

  it('resolves a relative location', async () => {
    const h = harness([{ status: 307, contentType: '', location: '/auth/realms/runai', body: '' }])
    await expect(h.result).rejects.toThrow('redirecting to https://runai.example.com/auth/realms/runai.')
  })
})
