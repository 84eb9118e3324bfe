import { USER_AGENT } from './constants.js'
import { ActionError } from './errors.js'
import { buildTokenRequest, type ApiVersionChoice, type Credentials, type Generation, type TokenRequest } from './generations.js'
import { sentence, untrusted } from './log-boundary.js'
import { withRetries, type Clock } from './retry.js'
import { interpretAnswer, judgedCredentials, type AnswerVerdict, type TokenGrant } from './token-answer.js'
import type { ApiRequest, HttpAnswer } from './transport.js'

/** Sends one request; the transport, or a fake in tests. */
export type SendRequest = (request: ApiRequest) => Promise<HttpAnswer>

export interface TokenClientSettings extends Credentials {
  baseUrl: string
  apiVersion: ApiVersionChoice
  timeoutMs: number
  maxAttempts: number
  /** When the whole step must be over, on the clock's scale: the lookups after the token share it. */
  deadline: number
}

export interface TokenClientDeps {
  send: SendRequest
  clock: Clock
  /** Called with every token the moment it is parsed, before anything else can print it. */
  mask: (secret: string) => void
  info: (message: string) => void
  debug: (message: string) => void
}

export interface IssuedToken extends TokenGrant {
  generation: Generation
}

/** A generation's final answer that was not a token. */
interface Refusal {
  generation: Generation
  endpoint: string
  verdict: Exclude<AnswerVerdict, { kind: 'token' | 'redirect' }>
}

type Next = Generation | 'stop'

/**
 * Requests a token from the control plane. With `auto`, negotiates newest generation first: an
 * answer that shows the endpoint is missing moves on, an answer that judged the credentials stops.
 */
export async function requestToken(settings: TokenClientSettings, deps: TokenClientDeps): Promise<IssuedToken> {
  const { deadline } = settings
  const refusals: Refusal[] = []
  let generation: Generation = settings.apiVersion === 'auto' ? 'v2' : settings.apiVersion
  for (;;) {
    const request = buildTokenRequest(generation, settings)
    const endpoint = `${settings.baseUrl}${request.path}`
    const outcome = await requestFromGeneration(endpoint, request, settings, deps, deadline)
    if ('accessToken' in outcome) return outcome
    refusals.push({ generation, endpoint, verdict: outcome })
    const next: Next = settings.apiVersion === 'auto' ? nextGeneration(generation, outcome) : 'stop'
    if (next === 'stop') throw new ActionError(describeRefusals(refusals, settings))
    // The plain line carries only the status: problem matchers read plain lines, and a server's
    // text there could become an annotation. What the server said goes to the debug log.
    deps.info(`${endpoint} answered ${outcome.plain}; trying api-version ${next}.`)
    if (outcome.detail !== outcome.plain) deps.debug(sentence(`${endpoint} answered ${outcome.detail}`))
    generation = next
  }
}

/** The negotiation table of `auto` (README: "Pinning the API generation"). */
function nextGeneration(generation: Generation, verdict: Refusal['verdict']): Next {
  const judged = judgedCredentials(generation, verdict)
  // v2 that judged the credentials exists here; anything else means no v2 here.
  if (generation === 'v2') return judged ? 'stop' : 'v1'
  // 2.18 and 2.19 know only app_token, and what they answer to client_credentials is not on
  // record: a refusal at v1 may mean either, so it moves on; anything else ends the negotiation.
  if (generation === 'v1' && judged) return 'v1-app-token'
  return 'stop'
}

/** One generation's request, retried as retry.ts decides; its final answer as a verdict. */
async function requestFromGeneration(
  endpoint: string,
  request: TokenRequest,
  settings: TokenClientSettings,
  deps: TokenClientDeps,
  deadline: number
): Promise<IssuedToken | Refusal['verdict']> {
  const verdict = await withRetries(
    endpoint,
    async (timeoutMs) => {
      const answer = await deps.send({
        url: endpoint,
        contentType: request.contentType,
        body: request.body,
        userAgent: USER_AGENT,
        timeoutMs
      })
      const value = interpretAnswer(answer)
      // Masked the moment it is read, before anything else can print it.
      if (value.kind === 'token') [value.grant.accessToken, ...value.grant.otherTokens].forEach(deps.mask)
      const problem = value.kind === 'token' ? { problem: '', plainProblem: '' } : { problem: value.detail, plainProblem: value.plain }
      return { value, status: answer.status, ...problem, retryAfter: answer.retryAfter }
    },
    { maxAttempts: settings.maxAttempts, timeoutMs: settings.timeoutMs, deadline },
    deps.clock,
    { progress: deps.info, debug: deps.debug }
  )
  if (verdict.kind === 'token') return { ...verdict.grant, generation: request.generation }
  if (verdict.kind === 'redirect') throw new ActionError(describeRedirect(endpoint, verdict))
  return verdict
}

function describeRedirect(endpoint: string, verdict: Extract<AnswerVerdict, { kind: 'redirect' }>): string {
  let where = 'an address it did not name'
  if (verdict.location !== '') {
    // Shown as the server wrote it, never as parsed: URL parsing lower-cases the host and
    // percent-encodes the path, and a secret echoed there would no longer match its redaction.
    // The query and fragment may carry state: cut at the first ? or #.
    const raw = verdict.location.slice(0, firstIndexOf(verdict.location, '?#'))
    // A path alone is on the same origin, which is the user's own `url`.
    const origin = raw.startsWith('/') && !raw.startsWith('//') ? new URL(endpoint).origin : ''
    where = URL.canParse(verdict.location, endpoint) ? `${origin}${untrusted(raw)}` : 'an address that is not a valid URL'
  }
  return `${endpoint} answered HTTP ${verdict.status}, redirecting to ${where}. Redirects are not followed because the request carries the client secret. Set \`url\` to the Run:ai control-plane address itself (the address of the Run:ai UI, such as https://mycompany.run.ai), not to an address that forwards to it.`
}

function describeRefusals(refusals: Refusal[], settings: TokenClientSettings): string {
  const lastRefusal = refusals[refusals.length - 1]
  if (refusals.every((r) => r.verdict.kind === 'web-page')) {
    return `\`url\` (${settings.baseUrl}) points at a web page, not the Run:ai API: ${refusals.map((r) => r.endpoint).join(' and ')} answered HTML. Set \`url\` to the Run:ai control-plane address (the address of the Run:ai UI, such as https://mycompany.run.ai); a login page or proxy in front of it cannot be used.`
  }
  const list = refusals.map((r) => `api-version ${r.generation}: POST ${r.endpoint} answered ${r.verdict.detail}`).join('; ')
  const path = new URL(settings.baseUrl).pathname
  // Every generation missing, and a path in url: the path is the likely mistake (an API path
  // pasted with it, /api/v1, or the UI's address with a page in it).
  if (path !== '/' && path !== '' && refusals.every((r) => r.verdict.status === 404 || r.verdict.kind === 'web-page')) {
    return `Remove the path ${path} from \`url\`: no token endpoint answered below it (${list}). Set \`url\` to the control plane's address alone, such as https://mycompany.run.ai; the action adds /api/v2/token or /api/v1/token itself.`
  }
  if (lastRefusal !== undefined && judgedCredentials(lastRefusal.generation, lastRefusal.verdict)) {
    const grantRefused = lastRefusal.verdict.status === 400 || lastRefusal.verdict.status === 422
    // A pinned generation the control plane does not have answers "bad request", not "bad credentials".
    if (grantRefused && settings.apiVersion === 'v1') {
      return `Use \`api-version: v1-app-token\` (or \`auto\`) if this control plane is 2.18 or 2.19: they accept only that; v1 client credentials came in 2.20 (${list}). Otherwise check \`client-id\` and \`client-secret\`.`
    }
    if (grantRefused && settings.apiVersion === 'v1-app-token') {
      return `Use \`api-version: auto\` (or \`v2\`) if this control plane is v3.0: it removed the app token that \`v1-app-token\` asks for (${list}). Otherwise check \`client-id\` and \`client-secret\`.`
    }
    const oldServerHint = settings.apiVersion === 'v1' ? ' Control planes 2.18 and 2.19 accept only `api-version: v1-app-token`.' : ''
    return `Run:ai refused the request for a token (${list}). Check \`client-id\` and \`client-secret\`: they must be the client ID and a current secret of a service account, access key or application of this control plane.${oldServerHint}`
  }
  if (settings.apiVersion !== 'auto') {
    return `Could not get a Run:ai token with api-version ${settings.apiVersion} (${list}). Check that \`url\` is the Run:ai control-plane address and that it supports this api-version; \`api-version: auto\` finds the right one.`
  }
  return `Could not get a Run:ai token from ${settings.baseUrl}; no API generation answered with a token (${list}). Check that \`url\` is the Run:ai control-plane address, and \`client-id\` and \`client-secret\`.`
}

/** Where the first of `chars` is in `text`, or its length. */
function firstIndexOf(text: string, chars: string): number {
  for (let i = 0; i < text.length; i++) if (chars.includes(text.charAt(i))) return i
  return text.length
}
