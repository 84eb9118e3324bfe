import { USER_AGENT } from './constants.js'
import { ActionError } from './errors.js'
import { buildTokenRequest, type ApiVersionChoice, type Credentials, type Generation, type TokenRequest } from './generations.js'
import { untrusted } from './log-boundary.js'
import { withRetries, type Clock } from './retry.js'
import { interpretAnswer, type AnswerVerdict, type TokenGrant } from './token-answer.js'
import type { PostRequest, HttpAnswer } from './transport.js'

/** Sends one request; the transport, or a fake in tests. */
export type SendRequest = (request: PostRequest) => Promise<HttpAnswer>

export interface TokenClientSettings extends Credentials {
  baseUrl: string
  apiVersion: ApiVersionChoice
  timeoutMs: number
  maxAttempts: number
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

const V1_GRANT_REFUSALS = new Set([400, 401, 403, 422])

/**
 * Requests a token from the control plane. With `auto`, negotiates newest generation first: an
 * answer that shows the endpoint is missing moves on, an answer that judged the credentials stops.
 */
export async function requestToken(settings: TokenClientSettings, deps: TokenClientDeps): Promise<IssuedToken> {
  const deadline = deps.clock.now() + settings.timeoutMs
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
    deps.info(`${endpoint} answered ${outcome.detail}; trying api-version ${next}.`)
    generation = next
  }
}

/** The negotiation table of `auto` (README: "Pinning the API generation"). */
function nextGeneration(generation: Generation, verdict: Refusal['verdict']): Next {
  if (generation === 'v2') {
    // An OAuth2 error body means v2 exists and judged the credentials; anything else means no v2 here.
    return verdict.kind === 'oauth-error' ? 'stop' : 'v1'
  }
  if (generation === 'v1' && V1_GRANT_REFUSALS.has(verdict.status)) {
    // 2.18 and 2.19 know only app_token. What they answer to client_credentials is not on record;
    // NVIDIA professional services' scripts treat 400 and 401 alike, so any refusal moves on.
    return 'v1-app-token'
  }
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
      return { value, status: answer.status, problem: value.kind === 'token' ? '' : value.detail, retryAfter: answer.retryAfter }
    },
    { maxAttempts: settings.maxAttempts, timeoutMs: settings.timeoutMs, deadline },
    deps.clock,
    deps.debug
  )
  if (verdict.kind === 'token') return { ...verdict.grant, generation: request.generation }
  if (verdict.kind === 'redirect') throw new ActionError(describeRedirect(endpoint, verdict))
  return verdict
}

function describeRedirect(endpoint: string, verdict: Extract<AnswerVerdict, { kind: 'redirect' }>): string {
  let where = 'an address it did not name'
  if (verdict.location !== '') {
    try {
      const target = new URL(verdict.location, endpoint)
      where = untrusted(`${target.origin}${target.pathname}`) // query and fragment may carry state; leave them out
    } catch {
      where = 'an address that is not a valid URL'
    }
  }
  return `${endpoint} answered HTTP ${verdict.status}, redirecting to ${where}. Redirects are not followed because the request carries the client secret. Set \`url\` to the Run:ai control-plane address itself (the address of the Run:ai UI, such as https://mycompany.run.ai), not to an address that forwards to it.`
}

function describeRefusals(refusals: Refusal[], settings: TokenClientSettings): string {
  const last = refusals[refusals.length - 1]?.verdict
  if (refusals.every((r) => r.verdict.kind === 'web-page')) {
    return `\`url\` (${settings.baseUrl}) points at a web page, not the Run:ai API: ${refusals.map((r) => r.endpoint).join(' and ')} answered HTML. Set \`url\` to the Run:ai control-plane address (the address of the Run:ai UI, such as https://mycompany.run.ai); a login page or proxy in front of it cannot be used.`
  }
  const list = refusals.map((r) => `api-version ${r.generation}: POST ${r.endpoint} answered ${r.verdict.detail}`).join('; ')
  const credentialsJudged =
    last !== undefined && (last.kind === 'oauth-error' || (last.kind === 'other' && last.json && [400, 401, 403].includes(last.status)))
  if (credentialsJudged) {
    const oldServerHint = settings.apiVersion === 'v1' ? ' Control planes 2.18 and 2.19 accept only `api-version: v1-app-token`.' : ''
    return `Run:ai refused the request for a token (${list}). Check \`client-id\` and \`client-secret\`: they must be the client ID and a current secret of a service account, access key or application of this control plane.${oldServerHint}`
  }
  if (settings.apiVersion !== 'auto') {
    return `Could not get a Run:ai token with api-version ${settings.apiVersion} (${list}). Check that \`url\` is the Run:ai control-plane address and that it supports this api-version; \`api-version: auto\` finds the right one.`
  }
  return `Could not get a Run:ai token from ${settings.baseUrl}; no API generation answered with a token (${list}). Check that \`url\` is the Run:ai control-plane address, and \`client-id\` and \`client-secret\`.`
}
