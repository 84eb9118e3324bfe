/** Waiting between attempts: exponential backoff with full jitter, and never sooner than `Retry-After`. */

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
