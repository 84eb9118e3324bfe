import { MAX_ATTEMPT_MS } from './constants.js'
import { ActionError } from './errors.js'
import { sentence } from './log-boundary.js'
import { TransportError } from './transport-error.js'

/**
 * The retry policy, whole: which outcomes are worth another attempt, how long to wait between
 * attempts, and when to give up, with a message that names the real cause. Two kinds of wait:
 * a rate limit (429, or 503 with `Retry-After`) is the server pacing its clients, so it is waited
 * out until `timeout-seconds`, with `Retry-After` as the floor and an exponentially growing jitter
 * on top that spreads a matrix refused together; any other transient failure counts towards
 * `max-attempts` and backs off exponentially with full jitter. Each wait is said at the normal log
 * level in the action's own words; what the server said goes to the debug log.
 */

export interface Clock {
  now(): number
  sleep(ms: number): Promise<void>
  /** In [0, 1), as Math.random. */
  random(): number
  /** Calls `run` after `ms` unless cancelled first; never keeps the process alive. */
  after(ms: number, run: () => void): () => void
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: () => Math.random(),
  after: (ms, run) => {
    const timer = setTimeout(run, ms)
    timer.unref()
    return () => clearTimeout(timer)
  }
}

export const BACKOFF_BASE_MS = 1000
export const BACKOFF_CAP_MS = 20_000
/**
 * The jitter after a rate limit's floor: up to 3 s after the first refusal, 6 s after the next.
 * Simulated for 100 jobs against 10 tokens a second, this spreads them to 2.7 requests a job and
 * all done in about 17 s; a smaller base makes more requests, a larger one a longer tail.
 */
export const RATE_LIMIT_JITTER_BASE_MS = 3000
export const RATE_LIMIT_JITTER_CAP_MS = 6000
/** The floor of a rate limit that did not say `Retry-After`. */
export const RATE_LIMIT_FLOOR_MS = 1000
/** An attempt that has waited this long for an answer says so. */
export const SLOW_ANSWER_MS = 10_000

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
 * Delay before attempt `attempt + 1` after a failure the server did not pace (attempt counts from
 * 1). Full jitter spreads a matrix of jobs that failed together. A Retry-After on such an answer
 * (a 500, a 502) is the floor, with at most one base interval of jitter on top.
 */
export function retryDelayMs(attempt: number, retryAfterMs: number | undefined, random: () => number): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1))
  if (retryAfterMs === undefined) return Math.floor(random() * ceiling)
  return retryAfterMs + Math.floor(random() * Math.min(ceiling, BACKOFF_BASE_MS))
}

/**
 * Delay after the `refusals`-th rate-limit answer in a row: never sooner than `Retry-After` (or
 * {@link RATE_LIMIT_FLOOR_MS} without one), then a jitter that grows with each refusal, so that
 * jobs refused together come back spread over a few seconds instead of in the same instant.
 */
export function rateLimitDelayMs(refusals: number, retryAfterMs: number | undefined, random: () => number): number {
  const spread = Math.min(RATE_LIMIT_JITTER_CAP_MS, RATE_LIMIT_JITTER_BASE_MS * 2 ** (refusals - 1))
  return (retryAfterMs ?? RATE_LIMIT_FLOOR_MS) + Math.floor(random() * spread)
}

/** A 429, or a 503 that says when to come back: the server pacing its clients, not failing. */
export function isRateLimit(status: number, retryAfterMs: number | undefined): boolean {
  return status === 429 || (status === 503 && retryAfterMs !== undefined)
}

/** `Retry-After` as delta-seconds or an HTTP date, in milliseconds from now; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined
  const text = value.trim()
  // A day at most: a longer wait is no different for a step, and 400 digits would be Infinity.
  if (/^\d+$/.test(text)) return Math.min(Number(text), 86_400) * 1000
  if (!/GMT$/i.test(text)) return undefined // HTTP dates end in GMT; Date.parse would take "-1" as a year
  const date = Date.parse(text)
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs)
}

/** An HTTP answer as the retry loop sees it. */
export interface Answered<T> {
  value: T
  status: number
  /** What the answer said, server text included: for the debug log and the final error. */
  problem: string
  /** The same in the action's own words, for the plain progress line. */
  plainProblem: string
  retryAfter?: string | undefined
}

export interface RetryLimits {
  /** Attempts on failures the server does not pace; rate limits do not count. */
  maxAttempts: number
  /** `timeout-seconds`, in milliseconds. */
  timeoutMs: number
  /** When the whole step must be over, on the clock's scale. */
  deadline: number
}

/** Where progress goes: plain lines in the action's own words, and debug lines that may quote. */
export interface RetryLog {
  progress: (line: string) => void
  debug: (line: string) => void
}

/** What the requests are for, as the messages say it: "Could not <task> from <where>". */
const TOKEN_TASK = 'get a Run:ai token'

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`

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
  log: RetryLog,
  task: string = TOKEN_TASK
): Promise<T> {
  let failures = 0
  let rateLimits = 0
  for (let count = 1; ; count++) {
    let outcome: Outcome
    let problem: string
    let plainProblem: string
    let retryAfterMs: number | undefined
    const started = clock.now()
    const cancelSlowNotice = clock.after(SLOW_ANSWER_MS, () =>
      log.progress(`Still waiting for an answer from ${where} after ${SLOW_ANSWER_MS / 1000} s (attempt ${count}).`)
    )
    try {
      const timeoutMs = Math.min(MAX_ATTEMPT_MS, limits.deadline - started)
      const answered = await attempt(timeoutMs).finally(cancelSlowNotice)
      outcome = { kind: 'answer', status: answered.status }
      if (!worthRetrying(outcome)) return answered.value
      problem = answered.problem
      plainProblem = answered.plainProblem
      retryAfterMs = parseRetryAfter(answered.retryAfter, clock.now())
    } catch (error) {
      if (!(error instanceof TransportError)) throw error
      outcome = { kind: 'failure', error }
      if (!worthRetrying(outcome)) throw new ActionError(`Could not ${task} from ${where}: ${error.message}`)
      problem = error.message
      plainProblem = error.plain
    }
    const pacedByServer = outcome.kind === 'answer' && isRateLimit(outcome.status, retryAfterMs)
    if (pacedByServer) rateLimits++
    else failures++
    const spentSeconds = Math.round((limits.timeoutMs - (limits.deadline - clock.now())) / 1000)
    const givingUp = sentence(
      `Could not ${task} from ${where} after ${count} attempt(s) in ${spentSeconds} s; the last one failed with ${problem}`
    )
    const { cause, fix } = diagnosis(outcome, pacedByServer)
    if (!pacedByServer && failures >= limits.maxAttempts) throw new ActionError(`${givingUp} ${cause}; ${fix}, or raise \`max-attempts\`.`)
    let delay = pacedByServer
      ? rateLimitDelayMs(rateLimits, retryAfterMs, () => clock.random())
      : retryDelayMs(failures, retryAfterMs, () => clock.random())
    // Under a rate limit, the jitter gives way to the deadline as long as the server's floor fits:
    // one more attempt, a second before the end, beats giving up with time left.
    const floor = retryAfterMs ?? RATE_LIMIT_FLOOR_MS
    const latest = limits.deadline - clock.now() - BACKOFF_BASE_MS
    if (pacedByServer && delay > latest && floor <= latest) delay = latest
    if (clock.now() + delay >= limits.deadline) {
      const timeout = `\`timeout-seconds\` (${limits.timeoutMs / 1000})`
      if (retryAfterMs !== undefined && clock.now() + retryAfterMs >= limits.deadline) {
        const asked = `asked to wait ${Math.ceil(retryAfterMs / 1000)} s before the next attempt (Retry-After), more than ${timeout} leaves`
        throw new ActionError(
          pacedByServer
            ? `${givingUp} ${cause} and ${asked}; ${fix}, or raise \`timeout-seconds\`.`
            : `${givingUp} The control plane ${asked}; try again later, or raise \`timeout-seconds\`.`
        )
      }
      throw new ActionError(`${givingUp} ${timeout} leaves no time for another attempt. ${cause}; ${fix}, or raise \`timeout-seconds\`.`)
    }
    const which = pacedByServer ? `Attempt ${count}` : `Attempt ${count} of ${limits.maxAttempts}`
    const then = pacedByServer
      ? `waiting ${seconds(delay)} as the control plane asks (rate limits are waited out until \`timeout-seconds\`, ${seconds(limits.deadline - clock.now())} left)`
      : `trying again in ${seconds(delay)}`
    log.progress(`${sentence(`${which} at ${where} failed with ${plainProblem}`)} ${capitalised(then)}.`)
    if (problem !== plainProblem) log.debug(sentence(`Attempt ${count} at ${where}: ${problem}`))
    await clock.sleep(delay)
  }
}

function capitalised(text: string): string {
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}`
}

/** What a retryable outcome that kept coming back says about the cause, and what the user can do. */
function diagnosis(outcome: Outcome, pacedByServer: boolean): { cause: string; fix: string } {
  if (outcome.kind === 'answer') {
    if (pacedByServer) {
      return {
        cause: `The control plane kept limiting requests (HTTP ${outcome.status})`,
        fix: 'try again later, run fewer jobs at once against it (`strategy.max-parallel`)'
      }
    }
    return { cause: 'The control plane may be down or overloaded', fix: 'try again later' }
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
  if (outcome.error.code === 'ECONNREFUSED') {
    return {
      cause: 'Nothing accepted the connection at that address',
      fix: 'check the host and port in `url` (nothing listens there, or a firewall refuses it)'
    }
  }
  return {
    cause: 'The connection to the control plane kept failing',
    fix: 'check that `url` is reachable from the runner and try again later'
  }
}
