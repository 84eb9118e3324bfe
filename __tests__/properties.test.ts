import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import { isLoopbackHost, normalizeBaseUrl } from '../src/base-url.js'
import { InputError } from '../src/errors.js'
import { run, type ActionCore } from '../src/main.js'
import { interpretAnswer } from '../src/token-answer.js'
import type { HttpAnswer } from '../src/transport.js'
import { fakeClock, RUNNER_ENV, scriptedSender } from './helpers/fakes.js'

/** Strings that look like what people paste into `url`, and plain noise. */
const urlLike = fc.oneof(
  fc.string(),
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  fc.webUrl().map((u) => u.replace(/^https?:\/\//, '')),
  fc
    .tuple(
      fc.constantFrom('http://', 'https://', 'ftp://', '', 'HTTPS://'),
      fc.domain(),
      fc.constantFrom('', ':8443', ':0', ':99999'),
      fc.constantFrom('', '/', '/api/v2/token', '/x/api/v1/token/', '/runai//', '?a=1', '#f')
    )
    .map((parts) => parts.join('')),
  fc
    .tuple(fc.constantFrom('http://', ''), fc.constantFrom('localhost', '127.0.0.1', '[::1]', '127.1.2.3'), fc.constantFrom('', ':4010'))
    .map((parts) => parts.join(''))
)

describe('normalizeBaseUrl, for any input', () => {
  it('gives an https (or loopback http) base URL, or an error naming `url`', () => {
    fc.assert(
      fc.property(urlLike, (raw) => {
        let base: string
        try {
          base = normalizeBaseUrl(raw)
        } catch (error) {
          expect(error).toBeInstanceOf(InputError)
          expect((error as Error).message).toContain('`url`')
          return
        }
        const url = new URL(base)
        expect(url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname))).toBe(true)
        expect([url.username, url.password, url.search, url.hash]).toEqual(['', '', '', ''])
        expect(base.endsWith('/')).toBe(false)
        expect(base).not.toMatch(/\/api\/v[12]\/token$/i)
        expect(normalizeBaseUrl(base)).toBe(base) // idempotent
      }),
      { numRuns: 2000 }
    )
  })
})

/** Answer bodies from plausible to hostile: token answers, error bodies, JSON of any shape, HTML, noise. */
const tokenKey = fc.constantFrom('access_token', 'accessToken', 'ACCESS_TOKEN', 'AccessToken', 'token')
const answerBody = (secret: string) =>
  fc.oneof(
    fc.string(),
    fc.json(),
    fc
      .record({ key: tokenKey, value: fc.oneof(fc.string(), fc.integer(), fc.constant(null)) })
      .map(({ key, value }) => JSON.stringify({ [key]: value, expires_in: 3600 })),
    fc
      .record({ error: fc.string(), error_description: fc.string() })
      .map((b) => JSON.stringify({ ...b, error_description: `${b.error_description} ${secret}` })),
    fc
      .record({ code: fc.integer(), message: fc.string(), details: fc.string() })
      .map((b) => JSON.stringify({ ...b, message: `echo: ${secret} ${b.message}` })),
    fc.constant(`<html><body>Login ${secret}</body></html>`)
  )

const answer = (secret: string): fc.Arbitrary<HttpAnswer> =>
  fc.record({
    status: fc.oneof(fc.constantFrom(200, 201, 301, 302, 400, 401, 403, 404, 405, 429, 500, 501, 503), fc.integer({ min: 100, max: 599 })),
    contentType: fc.constantFrom('application/json', 'text/html', 'text/plain', ''),
    body: answerBody(secret),
    location: fc.constantFrom(`https://elsewhere.example.com/?secret=${secret}`, '/login', '::not a url')
  })

describe('interpretAnswer, for any answer', () => {
  it('never throws, and a token verdict carries a non-empty token from the body', () => {
    fc.assert(
      fc.property(answer('s3cr3t'), (a) => {
        const verdict = interpretAnswer(a)
        if (verdict.kind === 'token') {
          expect(verdict.grant.accessToken.trim()).not.toBe('')
          expect(verdict.grant.accessToken).toMatch(/^[A-Za-z0-9\-._~+/]+=*$/)
          expect(Object.values(JSON.parse(a.body) as object)).toContain(verdict.grant.accessToken)
        }
      }),
      { numRuns: 2000 }
    )
  })
})

describe('the whole action, for any answers', () => {
  it('ends with a token or one error, and never prints the secret or a token', async () => {
    // 8 or more: shorter secrets are not sent to the runner as masks (main.test.ts has that case).
    const secret = fc.string({ minLength: 8, maxLength: 40 }).filter((s) => s.trim() === s && !s.includes('\n') && !/[\\%]/.test(s))
    await fc.assert(
      fc.asyncProperty(
        secret,
        secret.chain((s) => fc.tuple(fc.constant(s), fc.array(answer(s), { minLength: 1, maxLength: 4 }))),
        fc.constantFrom('auto', 'v2', 'v1', 'v1-app-token'),
        async (_unused, [clientSecret, answers], apiVersion) => {
          // Each printed line is checked against the values masked before it, as the runner masks.
          const leaks: string[] = []
          const masked: string[] = []
          const handedOn: string[] = []
          let failures = 0
          const print = (line: string) => {
            for (const value of masked) if (line.includes(value)) leaks.push(`${line} shows a masked value`)
          }
          const core: ActionCore = {
            getInput: (name: string) =>
              ({
                url: 'https://runai.example.com',
                'client-id': 'prop-client',
                'client-secret': clientSecret,
                'api-version': apiVersion,
                'max-attempts': '2'
              })[name] ?? '',
            setSecret: (v: string) => void masked.push(v),
            setOutput: (_n: string, v: unknown) => void handedOn.push(String(v)),
            exportVariable: (_n: string, v: unknown) => void handedOn.push(String(v)),
            setFailed: (m: string | Error) => {
              failures++
              print(String(m))
            },
            info: print,
            warning: (m: string | Error) => print(String(m)),
            debug: print,
            isDebug: () => true,
            appendSummary: async (m: string) => print(m)
          }
          // Once the scripted answers run out, the control plane is unreachable.
          const replies = [...answers, ...Array.from({ length: 12 }, () => new Error('ECONNREFUSED'))]
          await run({ core, clock: fakeClock(), env: RUNNER_ENV, createSender: () => scriptedSender(replies) })
          expect(masked[0]).toBe(clientSecret)
          expect(failures + (handedOn.length > 0 ? 1 : 0)).toBe(1)
          expect(leaks).toEqual([])
        }
      ),
      { numRuns: 300 }
    )
  })
})
