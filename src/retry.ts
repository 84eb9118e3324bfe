import { MAX_ATTEMPT_MS } from './constants.js'
import { ActionError } from './errors.js'
import { sentence } from './log-boundary.js'
import { TransportError } from './transport-error.js'

/**
 * The retry policy, whole: which outcomes are worth another attempt, how long to wait between
 * attempts (exponential backoff with full jitter, never sooner than `Retry-After`), and when to
 * give up, with a message that names the real cause.
 */

export interface Clock {
  now(): number
  sleep(ms: number): Promise<void>
  /** In [0, 1), as Math.random. */
  random(): number
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: () => Math.random()
}

export const BACKOFF_BASE_MS = 1000
export const BACKOFF_CAP_MS = 20_000

/** What one attempt came to: an HTTP answer, or a failure on the way. */
export type Outcome = { kind: 'answer'; status: number } | { kind: 'failure'; error: TransportError }

// Overload and outage answers of a server or a gateway in front of it.
const RETRYABLE_STATUSES = new Set([429, 500, 502, 503, 504])

/** The one place that answers "is another attempt worth it?". */
export function worthRetrying(outcome: Outcome): boolean {
  if (outcome.kind === 'answer') return RETRYABLE_STATUSES.has(outcome.status)
  const { error } = outcome
  switch (error.kind) {
    case 'timeout':
    case 'connection':
    case 'truncated':
      return true
    case 'proxy-refused':
      // 502/503/504 from a proxy: it could not reach the control plane this time.
      return (error.status ?? 0) >= 500
    default:
      // DNS, certificates, TLS and oversized answers come out the same on every attempt.
      return false
  }
}

/**
 * Delay before attempt `attempt + 1` (attempt counts from 1). Full jitter spreads a matrix of jobs
 * that failed together. A server's Retry-After already says when to come back: it is the floor,
 * with at most one base interval of jitter on top, so that a herd does not return in the same
 * instant but does not wait longer than it was told either.
 */
export function retryDelayMs(attempt: number, retryAfterMs: number | undefined, random: () => number): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1))
  if (retryAfterMs === undefined) return Math.floor(random() * ceiling)
  return retryAfterMs + Math.floor(random() * Math.min(ceiling, BACKOFF_BASE_MS))
}

/** `Retry-After` as delta-seconds or an HTTP date, in milliseconds from now; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined
  const text = value.trim()
  if (/^\d+$/.test(text)) return Number(text) * 1000
  if (!/GMT$/i.test(text)) return undefined // HTTP dates end in GMT; Date.parse would take "-1" as a year
  const date = Date.parse(text)
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs)
}

/** An HTTP answer as the retry loop sees it. */
export interface Answered<T> {
  value: T
  status: number
  /** What the answer said, for the log and for the message when the loop gives up. */
  problem: string
  retryAfter?: string | undefined
}

export interface RetryLimits {
  maxAttempts: number
  /** `timeout-seconds`, in milliseconds. */
  timeoutMs: number
  /** When the whole step must be over, on the clock's scale. */
  deadline: number
}

/**
 * Calls `attempt` until its answer is not worth retrying, and returns that answer. Failures that
 * are not worth retrying, running out of attempts and running out of time end in an ActionError
 * that says why, what the last attempt met, and what to do.
 */
export async function withRetries<T>(
  where: string,
  attempt: (timeoutMs: number) => Promise<Answered<T>>,
  limits: RetryLimits,
  clock: Clock,
  debug: (line: string) => void
): Promise<T> {
  for (let count = 1; ; count++) {
    let outcome: Outcome
    let problem: string
    let retryAfterMs: number | undefined
    try {
      const answered = await attempt(Math.min(MAX_ATTEMPT_MS, limits.deadline - clock.now()))
      outcome = { kind: 'answer', status: answered.status }
      if (!worthRetrying(outcome)) return answered.value
      problem = answered.problem
      retryAfterMs = parseRetryAfter(answered.retryAfter, clock.now())
    } catch (error) {
      if (!(error instanceof TransportError)) throw error
      outcome = { kind: 'failure', error }
      if (!worthRetrying(outcome)) throw new ActionError(`Could not get a Run:ai token from ${where}: ${error.message}`)
      problem = error.message
    }
    const spentSeconds = Math.round((limits.timeoutMs - (limits.deadline - clock.now())) / 1000)
    const givingUp = sentence(
      `Could not get a Run:ai token from ${where} after ${count} attempt(s) in ${spentSeconds} s; the last one failed with ${problem}`
    )
    const { cause, fix } = diagnosis(outcome)
    if (count >= limits.maxAttempts) throw new ActionError(`${givingUp} ${cause}; ${fix}, or raise \`max-attempts\`.`)
    const delay = retryDelayMs(count, retryAfterMs, () => clock.random())
    if (clock.now() + delay >= limits.deadline) {
      const timeout = `\`timeout-seconds\` (${limits.timeoutMs / 1000})`
      if (retryAfterMs !== undefined && clock.now() + retryAfterMs >= limits.deadline) {
        throw new ActionError(
          `${givingUp} The control plane asked to wait ${Math.ceil(retryAfterMs / 1000)} s before the next attempt (Retry-After), more than ${timeout} leaves; try again later, or raise \`timeout-seconds\`.`
        )
      }
      throw new ActionError(`${givingUp} ${timeout} leaves no time for another attempt. ${cause}; ${fix}, or raise \`timeout-seconds\`.`)
    }
    debug(`${sentence(`Attempt ${count} of ${limits.maxAttempts} at ${where} failed with ${problem}`)} Retrying in ${delay} ms.`)
    await clock.sleep(delay)
  }
}

/** What a retryable outcome that kept coming back says about the cause, and what the user can do. */
function diagnosis(outcome: Outcome): { cause: string; fix: string } {
  if (outcome.kind === 'answer') {
    return outcome.status === 429
      ? { cause: 'The control plane kept limiting requests (HTTP 429)', fix: 'try again later' }
      : { cause: 'The control plane may be down or overloaded', fix: 'try again later' }
  }
  if (outcome.error.peer === 'proxy') {
    return {
      cause: 'The proxy in HTTPS_PROXY did not carry the request',
      fix: 'check that it is up and reachable from the runner, or list the control plane in NO_PROXY'
    }
  }
  if (outcome.error.kind === 'timeout') {
    return { cause: 'No answer came in time', fix: 'check that `url` is reachable from the runner (firewall, HTTPS_PROXY/NO_PROXY)' }
  }
  return {
    cause: 'The connection to the control plane kept failing',
    fix: 'check that `url` is reachable from the runner and try again later'
  }
}
