import type { Generation } from './generations.js'
import { untrusted } from './log-boundary.js'
import type { HttpAnswer } from './transport.js'

export interface TokenGrant {
  accessToken: string
  /** Refresh, ID or external tokens that came along: redacted (and masked where the runner can), never output. */
  otherTokens: string[]
  /** `expires_in`/`expiresIn` of the answer, when it has one. */
  expiresInSeconds?: number
}

/**
 * What an answer means, before any policy: whether to retry is decided by retry.ts, whether to
 * try another generation by token-client.ts. `detail` quotes the server, marked untrusted;
 * `plain` is the same in the action's own words only, for plain log lines, which problem
 * matchers read.
 */
export type AnswerVerdict =
  | { kind: 'token'; grant: TokenGrant }
  | { kind: 'redirect'; status: number; location: string; detail: string; plain: string }
  /** An OAuth2 error body: the server judged the credentials. */
  | { kind: 'oauth-error'; status: number; detail: string; plain: string }
  /** A web page where the API was expected: a UI, a login page or a proxy in front of it. */
  | { kind: 'web-page'; status: number; detail: string; plain: string }
  /** Any other answer: a JSON error, a body that is not JSON, or a success without a token. */
  | { kind: 'other'; status: number; detail: string; plain: string; json: boolean }

const OAUTH2_ERROR_CODES = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope'
])
const ACCESS_TOKEN_KEYS = ['access_token', 'accesstoken']
const OTHER_TOKEN_KEYS = ['refresh_token', 'refreshtoken', 'id_token', 'idtoken', 'externaltoken']
const EXPIRES_IN_KEYS = ['expires_in', 'expiresin']
// RFC 6750's b64token: what an Authorization header can carry, and nothing a shell or a tool that
// reads a variable could take for code (no quotes, `;`, `$`, spaces or parentheses).
const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/
// Refresh or ID tokens shorter than this are not looked for at all: hiding every "e" of the log
// would make it unreadable, and a value that short protects nothing. They are never printed or
// handed on anyway.
const MIN_REDACTED_TOKEN = 8
/** Real Run:ai access tokens are JWTs of hundreds of characters; anything this short is not one. */
export const MIN_ACCESS_TOKEN_CHARS = 16

/**
 * A value shaped like a token a control plane issues: an RFC 6750 bearer token of at least
 * {@link MIN_ACCESS_TOKEN_CHARS} characters. Only such a value is sent to the runner as a mask,
 * which hides it in every later line of the job: a server must not get "password" or a line of
 * the log masked by calling it a refresh token.
 */
export function hasTokenShape(value: string): boolean {
  return value.length >= MIN_ACCESS_TOKEN_CHARS && BEARER_TOKEN.test(value)
}

export function interpretAnswer(answer: HttpAnswer): AnswerVerdict {
  const { status } = answer
  const fields = parseJsonObject(answer.body)
  const reason = fields === undefined ? undefined : errorReason(fields)
  const detail = describeStatus(status, reason)

  // 304 Not Modified answers a conditional request; it names no other address.
  if (status >= 300 && status < 400 && status !== 304) {
    return { kind: 'redirect', status, location: answer.location ?? '', detail, plain: `HTTP ${status}` }
  }
  if (fields === undefined && looksLikeWebPage(answer)) {
    return own({ kind: 'web-page', status, detail: `HTTP ${status} with a web page (HTML) instead of JSON` })
  }
  if (fields === undefined) {
    const body = answer.body.trim() === '' ? 'an empty body' : 'a body that is not JSON'
    return own({ kind: 'other', status, detail: `HTTP ${status} with ${body}`, json: false })
  }
  if (status >= 200 && status < 300) {
    const accessToken = stringField(fields, ACCESS_TOKEN_KEYS)
    if (accessToken === undefined) {
      return own({ kind: 'other', status, detail: `HTTP ${status} without an access token in the answer`, json: true })
    }
    if (!BEARER_TOKEN.test(accessToken)) {
      return own({ kind: 'other', status, detail: `HTTP ${status} with an access token that is not a bearer token (RFC 6750)`, json: true })
    }
    if (accessToken.length < MIN_ACCESS_TOKEN_CHARS) {
      return own({
        kind: 'other',
        status,
        detail: `HTTP ${status} with an access token of ${accessToken.length} characters, too short to be a Run:ai token`,
        json: true
      })
    }
    const otherTokens = OTHER_TOKEN_KEYS.map((k) => stringField(fields, [k])).filter(
      (t): t is string => t !== undefined && t.length >= MIN_REDACTED_TOKEN
    )
    const expiresInSeconds = positiveNumberField(fields, EXPIRES_IN_KEYS)
    return { kind: 'token', grant: { accessToken, otherTokens, ...(expiresInSeconds === undefined ? {} : { expiresInSeconds }) } }
  }
  // RFC 6749 5.2: a token endpoint that judged the request answers 400 or 401 with one of these
  // codes. A 404 with {"error": "Not Found"} (as many web frameworks answer) is no such verdict.
  const error = fields.get('error')
  // A field of the wrong type counts as absent: String() of a server's object or array would run
  // its toString (an object's own key) or recurse through any depth of nesting.
  if ((status === 400 || status === 401) && typeof error === 'string' && OAUTH2_ERROR_CODES.has(error)) {
    return { kind: 'oauth-error', status, detail, plain: `HTTP ${status} with an OAuth2 error` }
  }
  return { kind: 'other', status, detail, plain: `HTTP ${status}`, json: true }
}

/** A verdict in the action's own words only: its plain form is its detail. */
function own<const V extends { detail: string }>(verdict: V): V & { plain: string } {
  return { ...verdict, plain: verdict.detail }
}

/**
 * A JSON object with its keys lower-cased. The documentation and the OpenAPI specification spell
 * the same fields differently (`accessToken`, `expiresIn`; `access_token`), so answers are read
 * without regard to case.
 */
// Statuses with which a v1 endpoint refuses a grant: a bad field (400, 422) or credentials it did not accept.
const V1_REFUSAL_STATUSES = new Set([400, 401, 403, 422])

/**
 * The one answer to "did this answer judge the credentials?", which decides both whether `auto`
 * tries another generation and what the final message tells the user to check. At v2 only an
 * OAuth2 error body counts: a control plane without v2 answers its unknown path with a 401 or 404
 * of its own. At v1 any JSON refusal counts, as NVIDIA's professional services' scripts read it.
 */
export function judgedCredentials(generation: Generation, verdict: AnswerVerdict): boolean {
  if (verdict.kind === 'oauth-error') return true
  return generation !== 'v2' && verdict.kind === 'other' && verdict.json && V1_REFUSAL_STATUSES.has(verdict.status)
}

function parseJsonObject(body: string): Map<string, unknown> | undefined {
  let value: unknown
  try {
    value = JSON.parse(body)
  } catch {
    return undefined
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined
  return new Map(Object.entries(value).map(([k, v]) => [k.toLowerCase(), v]))
}

function stringField(fields: Map<string, unknown>, keys: string[]): string | undefined {
  for (const key of keys) {
    const value = fields.get(key)
    if (typeof value === 'string' && value.trim() !== '') return value
  }
  return undefined
}

function positiveNumberField(fields: Map<string, unknown>, keys: string[]): number | undefined {
  for (const key of keys) {
    const value = fields.get(key)
    const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value
    // Under a second says nothing usable (and would read as "expires now"): absent, like 0.
    if (typeof n === 'number' && Number.isFinite(n) && n >= 1) return Math.floor(n)
  }
  return undefined
}

/** `error: error_description` (OAuth2) or `message (details)` (v1), as the server wrote it: untrusted. */
function errorReason(fields: Map<string, unknown>): string | undefined {
  const text = (key: string): string | undefined => {
    const v = fields.get(key)
    return typeof v === 'string' && v.trim() !== '' ? v : undefined
  }
  const error = text('error')
  if (error !== undefined) {
    const description = text('error_description')
    return untrusted(description === undefined ? error : `${error}: ${description}`)
  }
  const message = text('message')
  if (message !== undefined) {
    const details = text('details')
    return untrusted(details === undefined ? message : `${message} (${details})`)
  }
  return undefined
}

function describeStatus(status: number, reason: string | undefined): string {
  return reason === undefined ? `HTTP ${status}` : `HTTP ${status}: ${reason}`
}

function looksLikeWebPage(answer: HttpAnswer): boolean {
  return /html/i.test(answer.contentType) || /^\s*</.test(answer.body)
}
