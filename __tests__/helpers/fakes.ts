import type { Clock } from '../../src/retry.js'
import type { HttpAnswer, ApiRequest, Sender } from '../../src/transport.js'

export const SECRET = 'fake-secret-Zx9!q'
export const CLIENT_ID = 'fake-client-id'

/**
 * A clock whose sleeps return at once and only move time forward: retry tests never really wait.
 * `advance` moves time as a slow answer would, and runs the timers that came due.
 */
export function fakeClock(start = 1_800_000_000_000, random = 0.5): Clock & { sleeps: number[]; advance: (ms: number) => void } {
  let now = start
  const sleeps: number[] = []
  const timers = new Set<{ at: number; run: () => void }>()
  const advance = (ms: number): void => {
    now += ms
    for (const timer of [...timers].filter((t) => t.at <= now)) {
      timers.delete(timer)
      timer.run()
    }
  }
  return {
    sleeps,
    advance,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms)
      advance(ms)
    },
    random: () => random,
    after: (ms, run) => {
      const timer = { at: now + ms, run }
      timers.add(timer)
      return () => void timers.delete(timer)
    }
  }
}

export type Reply = HttpAnswer | Error | ((request: ApiRequest) => HttpAnswer | Error)

/** A sender that answers each request with the next scripted reply and records what it was sent. */
export function scriptedSender(replies: Reply[]): Sender & { requests: ApiRequest[]; closed: () => boolean } {
  const requests: ApiRequest[] = []
  const send = async (request: ApiRequest): Promise<HttpAnswer> => {
    requests.push(request)
    const next = replies.shift()
    if (next === undefined) throw new Error(`unexpected request #${requests.length} to ${request.url}`)
    const reply = typeof next === 'function' ? next(request) : next
    if (reply instanceof Error) throw reply
    return reply
  }
  let closed = false
  return Object.assign(send, { requests, close: () => void (closed = true), closed: () => closed })
}

export function jsonAnswer(status: number, body: unknown, extra: Partial<HttpAnswer> = {}): HttpAnswer {
  return { status, contentType: 'application/json', body: JSON.stringify(body), ...extra }
}

export function textAnswer(status: number, body: string, contentType = 'text/plain'): HttpAnswer {
  return { status, contentType, body }
}

/** A JWT-shaped token with the given `exp`; the signature is not real. */
export function fakeJwt(exp: number, salt = 'a'): string {
  const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url')
  return `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ sub: 'x', exp })}.sig-${salt}`
}

/** The runner's files, as a runner's environment names them; fakes of core never open them. */
export const RUNNER_ENV = { GITHUB_OUTPUT: '/runner/output', GITHUB_ENV: '/runner/env', GITHUB_STEP_SUMMARY: '/runner/summary' }
