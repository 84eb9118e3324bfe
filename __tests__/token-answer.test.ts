import { describe, expect, it } from '@jest/globals'
import { printableLine, untrusted } from '../src/log-boundary.js'
import { interpretAnswer } from '../src/token-answer.js'
import { jsonAnswer, textAnswer } from './helpers/fakes.js'

// Sixteen characters: the shortest access token taken for a Run:ai token.
const AT = 'AT-0123456789abc'

describe('interpretAnswer', () => {
  it('reads a v2 OAuth2 answer with its other tokens', () => {
    expect(
      interpretAnswer(
        jsonAnswer(200, {
          access_token: AT,
          token_type: 'Bearer',
          expires_in: 3600,
          refresh_token: 'refresh-RT',
          id_token: 'identity-IT'
        })
      )
    ).toEqual({
      kind: 'token',
      grant: { accessToken: AT, otherTokens: ['refresh-RT', 'identity-IT'], expiresInSeconds: 3600 }
    })
  })

  it('reads a v1 answer, keys in any case, expiresIn as a string', () => {
    expect(
      interpretAnswer(jsonAnswer(200, { AccessToken: AT, EXPIRESIN: '120', idToken: 'identity-IT', externalToken: 'external-ET' }))
    ).toEqual({
      kind: 'token',
      grant: { accessToken: AT, otherTokens: ['identity-IT', 'external-ET'], expiresInSeconds: 120 }
    })
  })

  it('leaves the expiry out when the answer has none or a nonsensical one', () => {
    expect(interpretAnswer(jsonAnswer(200, { accessToken: AT }))).toEqual({
      kind: 'token',
      grant: { accessToken: AT, otherTokens: [] }
    })
    expect(interpretAnswer(jsonAnswer(200, { accessToken: AT, expiresIn: -5 }))).toEqual({
      kind: 'token',
      grant: { accessToken: AT, otherTokens: [] }
    })
  })

  it.each([[{ token_type: 'Bearer' }], [{ access_token: '' }], [{ access_token: 42 }], [{ accessToken: null }]])(
    'a 200 without a usable token is not a token: %j',
    (body) => {
      expect(interpretAnswer(jsonAnswer(200, body))).toEqual({
        kind: 'other',
        status: 200,
        detail: 'HTTP 200 without an access token in the answer',
        plain: 'HTTP 200 without an access token in the answer',
        json: true
      })
    }
  )

  it.each(['two words', 'line\nbreak', 'tab\there', 'ünïcode', '-Mbase;print(q(x));exit', "a'b", '$(id)', '=abc'])(
    'a token that is not an RFC 6750 bearer token is refused, nothing a later tool could run: %j',
    (token) => {
      expect(interpretAnswer(jsonAnswer(200, { access_token: token }))).toEqual({
        kind: 'other',
        status: 200,
        detail: 'HTTP 200 with an access token that is not a bearer token (RFC 6750)',
        plain: 'HTTP 200 with an access token that is not a bearer token (RFC 6750)',
        json: true
      })
    }
  )

  it('does not redact, and so does not carry, refresh or ID tokens shorter than 8 characters', () => {
    expect(interpretAnswer(jsonAnswer(200, { access_token: AT, refresh_token: 'v2', id_token: 'https' }))).toEqual({
      kind: 'token',
      grant: { accessToken: AT, otherTokens: [] }
    })
  })

  it.each(['e', 'eyJ.x.y', 'abcdefghijklmno'])('refuses an access token under 16 characters as not a Run:ai token: %j', (token) => {
    expect(interpretAnswer(jsonAnswer(200, { access_token: token }))).toEqual({
      kind: 'other',
      status: 200,
      detail: `HTTP 200 with an access token of ${token.length} characters, too short to be a Run:ai token`,
      plain: `HTTP 200 with an access token of ${token.length} characters, too short to be a Run:ai token`,
      json: true
    })
  })

  it.each([
    ['an object with its own toString', { error: { toString: 1 } }],
    ['an array', { error: ['invalid_client'] }],
    ['a number', { error: 401 }],
    ['arrays nested 200,000 deep', `{"error":${'['.repeat(200_000)}${']'.repeat(200_000)}}`]
  ])('an "error" field of the wrong type counts as absent, not as an OAuth2 verdict: %s', (_, body) => {
    const answer = typeof body === 'string' ? textAnswer(401, body, 'application/json') : jsonAnswer(401, body)
    expect(interpretAnswer(answer)).toEqual({ kind: 'other', status: 401, detail: 'HTTP 401', plain: 'HTTP 401', json: true })
  })

  it('leaves out an expires_in under a second: it says nothing usable', () => {
    expect(interpretAnswer(jsonAnswer(200, { access_token: AT, expires_in: 0.5 }))).toEqual({
      kind: 'token',
      grant: { accessToken: AT, otherTokens: [] }
    })
  })

  it('calls an empty body empty, and a 304 no redirect', () => {
    expect(interpretAnswer(textAnswer(204, ''))).toMatchObject({ kind: 'other', detail: 'HTTP 204 with an empty body' })
    expect(interpretAnswer({ status: 304, contentType: '', body: '' })).toMatchObject({ kind: 'other', status: 304 })
  })

  it('a body that is not an object is not JSON for us', () => {
    expect(interpretAnswer(jsonAnswer(200, ['access_token']))).toMatchObject({
      kind: 'other',
      detail: 'HTTP 200 with a body that is not JSON',
      plain: 'HTTP 200 with a body that is not JSON',
      json: false
    })
    expect(interpretAnswer(textAnswer(200, '{"access_token": "eyJ', 'application/json'))).toMatchObject({ kind: 'other', json: false })
  })

  it('an OAuth2 error body judged the credentials', () => {
    expect(interpretAnswer(jsonAnswer(401, { error: 'invalid_client', error_description: 'Client authentication failed' }))).toEqual({
      kind: 'oauth-error',
      status: 401,
      detail: `HTTP 401: ${untrusted('invalid_client: Client authentication failed')}`,
      plain: 'HTTP 401 with an OAuth2 error'
    })
  })

  it.each([
    [404, { timestamp: 1, status: 404, error: 'Not Found', path: '/api/v2/token' }],
    [405, { error: 'invalid_client' }],
    [403, { error: 'access_denied' }],
    [400, { error: 'Bad Request' }]
  ])('an "error" field is no OAuth2 verdict unless the status is 400/401 and the code is OAuth2\'s: %i %j', (status, body) => {
    expect(interpretAnswer(jsonAnswer(status, body))).toMatchObject({ kind: 'other', status, json: true })
  })

  it('a v1 error body gives its message and details', () => {
    expect(interpretAnswer(jsonAnswer(400, { code: 400, message: 'Required parameter is missing', details: 'clientSecret' }))).toEqual({
      kind: 'other',
      status: 400,
      detail: `HTTP 400: ${untrusted('Required parameter is missing (clientSecret)')}`,
      plain: 'HTTP 400',
      json: true
    })
  })

  it('marks server text as untrusted, so that the log boundary cuts it short after redacting it', () => {
    const verdict = interpretAnswer(jsonAnswer(400, { message: 'x'.repeat(5000) }))
    expect(verdict.kind === 'other' && verdict.detail).toBe(`HTTP 400: ${untrusted('x'.repeat(5000))}`)
    expect(verdict.kind === 'other' && printableLine(verdict.detail, [])).toBe(`HTTP 400: ${'x'.repeat(200)}…`)
  })

  it.each([429, 500, 502, 503, 504])("%i is an answer like any other: retrying it is the retry policy's call", (status) => {
    expect(interpretAnswer(jsonAnswer(status, { code: status, message: 'Please try again in few minutes.' }))).toMatchObject({
      kind: 'other',
      status
    })
  })

  it.each([301, 302, 303, 307, 308])('%i is a redirect with its location', (status) => {
    expect(interpretAnswer({ status, contentType: '', location: 'https://login.example.com/sso', body: '' })).toEqual({
      kind: 'redirect',
      status,
      location: 'https://login.example.com/sso',
      detail: `HTTP ${status}`,
      plain: `HTTP ${status}`
    })
  })

  it('a redirect without a Location has an empty one', () => {
    expect(interpretAnswer({ status: 302, contentType: '', body: '' })).toMatchObject({ kind: 'redirect', location: '' })
  })

  it('an HTML page is a web page, by content type or by its first character', () => {
    expect(interpretAnswer(textAnswer(200, '<!doctype html><html></html>', 'text/html'))).toMatchObject({ kind: 'web-page', status: 200 })
    expect(interpretAnswer(textAnswer(404, '  <html><body>Not found</body></html>', 'text/plain'))).toMatchObject({
      kind: 'web-page',
      status: 404
    })
  })

  it('404 with plain text is "other", not JSON', () => {
    expect(interpretAnswer(textAnswer(404, '404 page not found'))).toEqual({
      kind: 'other',
      status: 404,
      detail: 'HTTP 404 with a body that is not JSON',
      plain: 'HTTP 404 with a body that is not JSON',
      json: false
    })
  })
})
