import { describe, expect, it } from '@jest/globals'
import { normalizeBaseUrl } from '../src/base-url.js'
import { jwtExpiry } from '../src/expiry.js'
import { LogBoundary, sentence, untrusted } from '../src/log-boundary.js'
import { parseRetryAfter } from '../src/retry.js'
import { parseCaInput } from '../src/tls-trust.js'
import { interpretAnswer } from '../src/token-answer.js'
import { requestToken } from '../src/token-client.js'
import { classifyRequestError } from '../src/transport-error.js'
import { pathologicalShapes } from '../test-server/pathological-text.mjs'
import { fakeClock, scriptedSender, textAnswer } from './helpers/fakes.js'

// Everything from outside (server bodies and headers, Node's error messages, inputs) goes through
// linear code only: 1 MiB of each shape that makes a backtracking pattern or a rescanning loop
// slow. Linear work on 1 MiB takes milliseconds to a few hundred; the bound is there to catch
// quadratic work, which takes minutes (1 MiB of dots once held a step for 425 s). How long each
// shape takes is measured, not bounded, by the benchmark (bench/pathological.mjs).
const GENEROUS_MS = 5_000
const SECRET = 'fake-secret-Zx9!q'

/** Everything printed, through the log boundary as main.ts prints it. */
function boundary(): { log: LogBoundary; lines: string[] } {
  const lines: string[] = []
  const sink = (line: string) => void lines.push(line)
  const log = new LogBoundary({ info: sink, debug: sink, warning: sink, error: sink })
  log.addRequestSecret(SECRET)
  return { log, lines }
}

async function failureMessage(answerBody: string, retryAfter: string): Promise<string> {
  const send = scriptedSender([{ ...textAnswer(503, answerBody, 'application/json'), retryAfter }])
  const clock = fakeClock()
  const error = await requestToken(
    {
      baseUrl: 'https://runai.example.com',
      clientId: 'c',
      clientSecret: SECRET,
      apiVersion: 'v2',
      timeoutMs: 60_000,
      maxAttempts: 1,
      deadline: clock.now() + 60_000
    },
    { send, clock, mask: () => undefined, info: () => undefined, debug: () => undefined }
  ).catch((e: unknown) => e)
  return error instanceof Error ? error.message : String(error)
}

// The shapes the issue names, and those that broke code here before; the benchmark runs them all.
const TESTED = [
  'dots, then a letter',
  'spaces, then a letter',
  '# runs',
  ': runs',
  '* runs',
  'marker characters',
  'line separators',
  'digits, then a letter',
  'JSON nested deep',
  'slashes, then a letter',
  'PEM headers without an end',
  'control characters'
]
const shapes = Object.entries(pathologicalShapes()).filter(([name]) => TESTED.includes(name))

describe('linear in everything untrusted: 1 MiB of each shape', () => {
  it.each(shapes)('%s: answer parsing, the retry message and the log boundary', async (_, text) => {
    const started = performance.now()
    const { log, lines } = boundary()
    // The retry message below reads a JSON `message`; these read `error`, a token and a Location.
    for (const answer of [
      textAnswer(401, JSON.stringify({ error: text, error_description: text }), 'application/json'),
      textAnswer(200, JSON.stringify({ access_token: text, refresh_token: text }), 'application/json'),
      { ...textAnswer(302, text, text), location: text }
    ]) {
      const verdict = interpretAnswer(answer)
      log.info(`answered ${'detail' in verdict ? verdict.detail : 'a token'}`)
    }
    log.error(await failureMessage(JSON.stringify({ message: text }), text))
    log.warning(sentence(`Node said ${untrusted(text)}`))
    log.debug(classifyRequestError(Object.assign(new Error(text), { code: 'ECONNRESET' }), { role: 'control plane', label: 'x' }).message)
    parseRetryAfter(text, 0)
    jwtExpiry(text)
    const elapsed = performance.now() - started
    expect(elapsed).toBeLessThan(GENEROUS_MS)
    // Every printed line is short, whatever came in.
    expect(Math.max(...lines.map((line) => line.length))).toBeLessThan(2_000)
  })

  it.each(shapes)('%s: inputs (url, ca-certificate)', (_, text) => {
    const started = performance.now()
    for (const url of [`https://runai.example.com/${text}`, text]) {
      try {
        normalizeBaseUrl(url)
      } catch {
        // A refusal is an outcome too; only the time it takes matters here.
      }
    }
    expect(() => parseCaInput(`-----BEGIN CERTIFICATE-----${text}`)).toThrow(/ca-certificate/)
    expect(performance.now() - started).toBeLessThan(GENEROUS_MS)
  })
})
