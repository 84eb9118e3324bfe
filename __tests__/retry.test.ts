import { describe, expect, it } from '@jest/globals'
import { BACKOFF_CAP_MS, parseRetryAfter, retryDelayMs } from '../src/retry.js'

describe('retryDelayMs', () => {
  it('draws from [0, base * 2^(attempt-1)) with full jitter', () => {
    expect(retryDelayMs(1, undefined, () => 0)).toBe(0)
    expect(retryDelayMs(1, undefined, () => 0.999)).toBe(999)
    expect(retryDelayMs(3, undefined, () => 0.5)).toBe(2000)
  })
  it('never exceeds the cap', () => {
    expect(retryDelayMs(30, undefined, () => 0.999)).toBeLessThan(BACKOFF_CAP_MS)
  })
  it('never returns before Retry-After, and spreads returns after it', () => {
    expect(retryDelayMs(1, 1000, () => 0)).toBe(1000)
    expect(retryDelayMs(2, 1000, () => 0.999)).toBe(1000 + 999)
  })
})

describe('parseRetryAfter', () => {
  const now = Date.UTC(2026, 0, 1, 0, 0, 0)
  it('reads delta-seconds', () => expect(parseRetryAfter(' 3 ', now)).toBe(3000))
  it('reads an HTTP date', () => expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000))
  it('treats a date in the past as now', () => expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0))
  it('ignores absent or unreadable values', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined()
    expect(parseRetryAfter('soon', now)).toBeUndefined()
    expect(parseRetryAfter('-1', now)).toBeUndefined()
  })
})
