import { describe, expect, it } from '@jest/globals'
import { BACKOFF_CAP_MS, parseRetryAfter, retryDelayMs, worthRetrying, type Outcome } from '../src/retry.js'
import { TransportError, type FailureKind } from '../src/transport-error.js'

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
    // Ends in GMT like a date, but is none: the column source maps of the bundle showed this
    // branch was never taken (the line-only maps of the earlier build counted the line as covered).
    expect(parseRetryAfter('Thu, 99 Foo 2026 GMT', now)).toBeUndefined()
  })
})

describe('worthRetrying, the one place that decides', () => {
  const failure = (kind: FailureKind, status?: number): Outcome => ({
    kind: 'failure',
    error: new TransportError('x', kind, kind === 'proxy-refused' ? 'proxy' : 'control plane', status)
  })
  it.each([
    [{ kind: 'answer', status: 429 } as Outcome, true],
    [{ kind: 'answer', status: 503 } as Outcome, true],
    [{ kind: 'answer', status: 501 } as Outcome, false],
    [{ kind: 'answer', status: 401 } as Outcome, false],
    [failure('timeout'), true],
    [failure('connection'), true],
    [failure('truncated'), true],
    [failure('proxy-refused', 502), true],
    [failure('proxy-refused', 407), false],
    [failure('proxy-refused'), false],
    [failure('dns'), false],
    [failure('certificate'), false],
    [failure('tls'), false],
    [failure('too-large'), false]
  ])('%j: %s', (outcome, expected) => {
    expect(worthRetrying(outcome)).toBe(expected)
  })
})
