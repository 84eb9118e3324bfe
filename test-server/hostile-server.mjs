// A loopback HTTP server whose every answer is scripted by the test: status, headers (Location,
// Retry-After, Content-Type…) and body, or a hang, a reset, or raw bytes that no well-behaved
// server would send. It records every request. For the log-safety tests, where the "control
// plane" is an attacker that tries to steer the runner through what the action echoes. Plain Node.
import { createServer } from 'node:http'
import { listenOnLoopback } from './loopback.mjs'

/**
 * @typedef {object} ScriptedAnswer
 * @property {number} [status]                   default 200
 * @property {Record<string, string>} [headers]  sent as given; Content-Length is added
 * @property {string} [body]                     default ''
 * @property {'hang' | 'reset' | 'raw'} [kind]   hang: never answer; reset: destroy the connection;
 *                                               raw: write `raw` to the socket as it is and close it
 *                                               (for headers Node's own server refuses to send)
 * @property {string} [raw]
 */

/**
 * @typedef {{method: string, path: string, headers: import('node:http').IncomingHttpHeaders, body: string, at: number}} HostileRequest
 */

/**
 * Answers requests in order from `answers`; once they run out, with `after` (a 404 by default).
 * An answer may also be a function of the request, to answer by path.
 * @param {{answers?: (ScriptedAnswer | ((request: HostileRequest) => ScriptedAnswer))[], after?: ScriptedAnswer}} [options]
 */
export async function startHostileServer(options = {}) {
  const queue = [...(options.answers ?? [])]
  const after = options.after ?? { status: 404, headers: { 'Content-Type': 'text/plain' }, body: 'no more scripted answers' }
  /** @type {HostileRequest[]} */
  const requests = []
  const hanging = new Set()

  const server = createServer((req, res) => {
    /** @type {Buffer[]} */
    const chunks = []
    req.on('data', (chunk) => chunks.push(chunk))
    req.on('end', () => {
      /** @type {HostileRequest} */
      const request = {
        method: req.method ?? '',
        path: (req.url ?? '/').split('?')[0] ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now()
      }
      requests.push(request)
      const next = queue.length > 0 ? queue.shift() : after
      const answer = typeof next === 'function' ? next(request) : (next ?? after)
      if (answer.kind === 'hang') {
        hanging.add(res)
        return
      }
      if (answer.kind === 'reset') {
        req.socket.resetAndDestroy()
        return
      }
      if (answer.kind === 'raw') {
        req.socket.end(answer.raw ?? '')
        return
      }
      const body = answer.body ?? ''
      res.writeHead(answer.status ?? 200, { ...(answer.headers ?? {}), 'Content-Length': Buffer.byteLength(body) })
      res.end(body)
    })
  })
  const { port, close } = await listenOnLoopback(server)
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    /** Every request received, in order. */
    requests,
    /** Scripted answers not used yet. */
    get pending() {
      return queue.length
    },
    async close() {
      for (const res of hanging) res.destroy()
      await close()
    }
  }
}

/** A JSON answer. @param {number} status @param {unknown} value @param {Record<string, string>} [headers] @returns {ScriptedAnswer} */
export function json(status, value, headers = {}) {
  return { status, headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(value) }
}

/**
 * Pieces of text that mean something to the runner or to a terminal, for building hostile server
 * text: both command syntaxes (see runner-log.mjs), line breaks the runner splits on, the escapes
 * it unescapes, ANSI escapes, .NET-only whitespace (U+0085) and code points ICU ignores.
 */
export const HOSTILE_FRAGMENTS = Object.freeze([
  '::',
  '##[',
  ']',
  '::stop-commands::x',
  '::stop-commands::resume-me-later',
  '##[stop-commands]x',
  '##[stop-commands]resume-me-later',
  '##[resume-me-later]',
  '::resume-me-later::',
  '##[add-mask]',
  '::add-mask::',
  '##[set-output name=token;]evil',
  '::set-output name=token::evil',
  '::set-env name=NODE_OPTIONS::--require /tmp/evil.js',
  '##[set-env name=PATH;]/tmp/evil',
  '##[add-path]/tmp/evil',
  '::error::',
  '##[error]',
  '::warning file=x.ts,line=1::w',
  '::notice::n',
  '::debug::',
  '::echo::on',
  '::group::g',
  '##[endgroup]',
  '::save-state name=s::v',
  '::add-matcher::/tmp/m.json',
  '##[start-action]',
  '\r',
  '\n',
  '\r\n',
  '\n::stop-commands::x\n',
  '\r##[stop-commands]x',
  '\u001b[31m',
  '\u001b]8;;https://evil.example\u0007link\u001b]8;;\u0007',
  '%0A',
  '%0D',
  '%25',
  '%3A',
  '%3B',
  '%5D',
  ';',
  ',',
  '=',
  '\t',
  '  ',
  '\u0085::stop-commands::x',
  '\u00a0::stop-commands::x',
  '\u2028::stop-commands::x',
  '\u00ad::stop-commands::x',
  '\u200b##[stop-commands]x',
  '#\u00ad#[stop-commands]x',
  '::\u200bstop-commands::x',
  '\ufeff::stop-commands::x',
  '\u0000',
  '\u007f',
  'é',
  '漢字',
  '😀',
  '\ud800',
  '<html><body>',
  '"',
  '\\',
  '***'
])

/**
 * @typedef {(string | {of: 'secret' | 'token', start: number, length: number, variant?: Variant})[]} HostileText
 *   a text to render: literal pieces and pieces of the secret or the token (length 0 means all of it)
 */

/**
 * How a piece of the secret or token is sent: as it is; with each space as a tab or a newline (a
 * log that collapses whitespace turns it back into the value); or "decoded", with each `\uXXXX`
 * written as that character and `## [` as `##[` (a log that escapes control characters and
 * defuses `##[` turns it back into the value). Redaction that runs only before such rewriting
 * misses the last two.
 * @typedef {'as-is' | 'whitespace' | 'decoded'} Variant
 */
const VARIANTS = /** @type {const} */ (['as-is', 'as-is', 'whitespace', 'decoded'])

/** @param {string} text @param {Variant | undefined} variant */
function applyVariant(text, variant) {
  if (variant === 'whitespace') return text.replace(/ /g, (_, at) => (at % 2 === 0 ? '\t' : '\n'))
  if (variant === 'decoded')
    return text.replace(/\\u([0-9a-fA-F]{4})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16))).replace(/## \[/g, '##[')
  return text
}

/**
 * @typedef {object} AnswerPlan  one answer of a hostile control plane, before the secret and token are filled in
 * @property {'json-error' | 'oauth-error' | 'v1-error' | 'message' | 'redirect' | 'retry-after' | 'html' | 'text' | 'ok-no-token' | 'transport'} type
 * @property {number} status
 * @property {string} [code]          an OAuth error code, or a Node error code for `transport`
 * @property {HostileText} a
 * @property {HostileText} b
 */

/**
 * @typedef {object} HostileScenario
 * @property {string} secret
 * @property {string} token
 * @property {string | undefined} refresh  a refresh token sent along with the access token
 * @property {'auto' | 'v2' | 'v1' | 'v1-app-token'} apiVersion
 * @property {boolean} debug             RUNNER_DEBUG=1
 * @property {boolean} jobSummary
 * @property {AnswerPlan[]} plans        the answers before the last one
 * @property {'v2' | 'v1' | 'none'} ending  a token answer in v2 or v1 shape, or none (the run must fail)
 */

export const HOSTILE_STATUSES = Object.freeze([200, 400, 401, 403, 404, 405, 409, 418, 422, 429, 500, 502, 503, 504])
export const REDIRECT_STATUSES = Object.freeze([301, 302, 303, 307, 308])
const OAUTH_CODES = ['invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'invalid_scope']
const TRANSPORT_CODES = ['ERR_TLS_CERT_ALTNAME_INVALID', 'ECONNRESET', 'EPROTO', 'ETIMEDOUT', 'UNEXPECTED']

/**
 * The arbitraries of hostile scenarios, for fast-check (passed in, so that this file needs no
 * dependency): secrets, tokens, hostile texts and sequences of answers. Shared by the in-process
 * property and the end-to-end sample.
 * @param {typeof import('fast-check').default} fc
 */
export function hostileArbitraries(fc) {
  const printableAscii = fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c))
  // Printable, with a tab, two spaces or an inner newline now and then, trimmed, never empty.
  const secret = fc
    .string({
      unit: fc.oneof(
        { weight: 30, arbitrary: printableAscii },
        {
          weight: 3,
          arbitrary: fc.constantFrom('\t', '  ', ' ', ' ', ' ', '\n', 'é', '€', '😀', '::', '##[', '## [', '\\u00ad', '\\u001b', '%0A', '%')
        }
      ),
      minLength: 1,
      maxLength: 300
    })
    .map((s) => s.trim().slice(0, 400))
    // One the runner can be given as a mask: a line of 8 characters or more (the action sends no
    // shorter mask; main.test.ts covers shorter secrets).
    .filter((s) => s.split(/\r\n|\r|\n/).some((line) => line.trim().length >= 8))
  // What a bearer token may be (RFC 6750's b64token, as token-answer.ts accepts it).
  const token = fc.string({
    unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/'),
    minLength: 20,
    maxLength: 300
  })
  /** @type {import('fast-check').Arbitrary<HostileText[number]>} */
  const piece = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...HOSTILE_FRAGMENTS) },
    { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
    { weight: 1, arbitrary: fc.nat({ max: 2500 }).map((n) => 'x'.repeat(n)) },
    {
      weight: 3,
      arbitrary: fc.record({
        of: fc.constant(/** @type {const} */ ('secret')),
        start: fc.nat(),
        length: fc.oneof(fc.constant(0), fc.integer({ min: 8, max: 40 })),
        variant: fc.constantFrom(...VARIANTS)
      })
    },
    {
      weight: 2,
      arbitrary: fc.record({
        of: fc.constant(/** @type {const} */ ('token')),
        start: fc.nat(),
        length: fc.oneof(fc.constant(0), fc.integer({ min: 8, max: 40 })),
        variant: fc.constantFrom(...VARIANTS)
      })
    }
  )
  const text = fc.array(piece, { maxLength: 16 })
  const status = fc.constantFrom(...HOSTILE_STATUSES)
  /** @type {import('fast-check').Arbitrary<AnswerPlan>} */
  const answer = fc.oneof(
    fc.record({ type: fc.constant('json-error'), status, a: text, b: text }),
    fc.record({
      type: fc.constant('oauth-error'),
      status: fc.constantFrom(400, 401),
      code: fc.constantFrom(...OAUTH_CODES),
      a: text,
      b: text
    }),
    fc.record({ type: fc.constant('v1-error'), status, a: text, b: text }),
    fc.record({ type: fc.constant('message'), status, a: text, b: text }),
    fc.record({ type: fc.constant('redirect'), status: fc.constantFrom(...REDIRECT_STATUSES), a: text, b: text }),
    fc.record({ type: fc.constant('retry-after'), status: fc.constantFrom(429, 503), a: text, b: text }),
    fc.record({ type: fc.constant('html'), status, a: text, b: text }),
    fc.record({ type: fc.constant('text'), status, a: text, b: text }),
    fc.record({ type: fc.constant('ok-no-token'), status: fc.constant(200), a: text, b: text }),
    fc.record({ type: fc.constant('transport'), status: fc.constant(0), code: fc.constantFrom(...TRANSPORT_CODES), a: text, b: text })
  )
  /** @type {import('fast-check').Arbitrary<HostileScenario>} */
  const scenario = fc.record({
    secret,
    token,
    refresh: fc.option(token, { nil: undefined }),
    apiVersion: fc.constantFrom('auto', 'auto', 'v2', 'v1', 'v1-app-token'),
    debug: fc.boolean(),
    jobSummary: fc.boolean(),
    plans: fc.array(answer, { minLength: 0, maxLength: 5 }),
    ending: fc.constantFrom('v2', 'v1', 'none')
  })
  return { secret, token, text, answer, scenario }
}

/**
 * Fills in a hostile text.
 * @param {HostileText} text @param {{secret: string, token: string}} values
 */
export function renderText(text, values) {
  return text
    .map((p) => {
      if (typeof p === 'string') return p
      const value = values[p.of]
      if (p.length === 0 || value.length <= 8) return applyVariant(value, p.variant)
      const length = Math.min(p.length, value.length)
      const start = p.start % (value.length - length + 1)
      return applyVariant(value.slice(start, start + length), p.variant)
    })
    .join('')
}

/**
 * The answer a plan stands for, or the transport failure (a Node error code and message) for `transport`.
 * @param {AnswerPlan} plan @param {{secret: string, token: string}} values
 * @returns {ScriptedAnswer | {transport: {code: string, message: string}}}
 */
export function planToAnswer(plan, values) {
  const a = renderText(plan.a, values)
  const b = renderText(plan.b, values)
  switch (plan.type) {
    case 'json-error':
      return json(plan.status, { error: a, error_description: b })
    case 'oauth-error':
      return json(plan.status, { error: plan.code, error_description: `${a}${b}` })
    case 'v1-error':
      return json(plan.status, { code: plan.status, message: a, details: b })
    case 'message':
      return json(plan.status, { message: `${a}${b}` })
    case 'redirect':
      return { status: plan.status, headers: { Location: a, 'Content-Type': 'text/plain' }, body: b }
    case 'retry-after':
      return json(plan.status, { code: plan.status, message: b }, { 'Retry-After': a })
    case 'html':
      return {
        status: plan.status,
        headers: { 'Content-Type': 'text/html; charset=utf-8' },
        body: `<!doctype html><html><head><title>${a}</title></head><body>${b}</body></html>`
      }
    case 'text':
      return { status: plan.status, headers: { 'Content-Type': 'text/plain' }, body: `${a}${b}` }
    case 'ok-no-token':
      return json(200, { token_type: a, message: b })
    case 'transport': {
      const message =
        plan.code === 'ERR_TLS_CERT_ALTNAME_INVALID' ? `Hostname/IP does not match certificate's altnames: DNS:${a}${b}` : `${a}${b}`
      return { transport: { code: plan.code ?? '', message } }
    }
  }
}

/**
 * The token answer a scenario ends with.
 * @param {HostileScenario} scenario
 * @returns {ScriptedAnswer | undefined}
 */
export function endingAnswer(scenario) {
  if (scenario.ending === 'none') return undefined
  const extra =
    scenario.refresh === undefined ? {} : scenario.ending === 'v2' ? { refresh_token: scenario.refresh } : { idToken: scenario.refresh }
  return scenario.ending === 'v2'
    ? json(200, { access_token: scenario.token, token_type: 'Bearer', expires_in: 3600, ...extra })
    : json(200, { accessToken: scenario.token, ...extra })
}

/**
 * A header value Node's http server agrees to send: other characters become `?`. For Location
 * and Retry-After built from hostile text.
 * @param {string} value
 */
export function headerSafe(value) {
  return value.replace(/[^\t\x20-\x7e\x80-\xff]/g, '?')
}
