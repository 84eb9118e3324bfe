import { describe, expect, it } from '@jest/globals'
import { interpretAnswer } from '../src/token-answer.js'
import { jsonAnswer, textAnswer } from './helpers/fakes.js'

describe('interpretAnswer', () => {
  it('reads a v2 OAuth2 answer with its other tokens', () => {
    expect(
      interpretAnswer(jsonAnswer(200, { access_token: 'AT', token_type: 'Bearer', expires_in: 3600, refresh_token: 'RT', id_token: 'IT' }))
    ).toEqual({
      kind: 'token',
      grant: { accessToken: 'AT', otherTokens: ['RT', 'IT'], expiresInSeconds: 3600 }
    })
  })

  it('reads a v1 answer, keys in any case, expiresIn as a string', () => {
    expect(interpretAnswer(jsonAnswer(200, { AccessToken: 'AT', EXPIRESIN: '120', idToken: 'IT', externalToken: 'ET' }))).toEqual({
      kind: 'token',
      grant: { accessToken: 'AT', otherTokens: ['IT', 'ET'], expiresInSeconds: 120 }
    })
  })

  it('leaves the expiry out when the answer has none or a nonsensical one', () => {
    expect(interpretAnswer(jsonAnswer(200, { accessToken: 'AT' }))).toEqual({
      kind: 'token',
      grant: { accessToken: 'AT', otherTokens: [] }
    })
    expect(interpretAnswer(jsonAnswer(200, { accessToken: 'AT', expiresIn: -5 }))).toEqual({
      kind: 'token',
      grant: { accessToken: 'AT', otherTokens: [] }
    })
  })

  it.each([[{ token_type: 'Bearer' }], [{ access_token: '' }], [{ access_token: 42 }], [{ accessToken: null }]])(
    'a 200 without a usable token is not a token: %j',
    (body) => {
      expect(interpretAnswer(jsonAnswer(200, body))).toEqual({
        kind: 'other',
        status: 200,
        detail: 'HTTP 200 without an access token in the answer',
        json: true
      })
    }
  )

  it.each(['two words', 'line\nbreak', 'tab\there', 'ünïcode'])('a token that cannot go into a header is refused: %j', (token) => {
    expect(interpretAnswer(jsonAnswer(200, { access_token: token }))).toEqual({
      kind: 'other',
      status: 200,
      detail: 'HTTP 200 with an access token that is not printable ASCII',
      json: true
    })
  })

  it('a body that is not an object is not JSON for us', () => {
    expect(interpretAnswer(jsonAnswer(200, ['access_token']))).toMatchObject({
      kind: 'other',
      detail: 'HTTP 200 with a body that is not JSON',
      json: false
    })
    expect(interpretAnswer(textAnswer(200, '{"access_token": "eyJ', 'application/json'))).toMatchObject({ kind: 'other', json: false })
  })

  it('an OAuth2 error body judged the credentials', () => {
    expect(interpretAnswer(jsonAnswer(401, { error: 'invalid_client', error_description: 'Client authentication failed' }))).toEqual({
      kind: 'oauth-error',
      status: 401,
      detail: 'HTTP 401: invalid_client: Client authentication failed'
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
      detail: 'HTTP 400: Required parameter is missing (clientSecret)',
      json: true
    })
  })

  it('cuts long server text short', () => {
    const verdict = interpretAnswer(jsonAnswer(400, { message: 'x'.repeat(5000) }))
    expect(verdict.kind === 'other' && verdict.detail.length).toBeLessThan(230)
  })

  it.each([429, 500, 502, 503, 504])('%i is transient', (status) => {
    expect(interpretAnswer(jsonAnswer(status, { code: status, message: 'Please try again in few minutes.' }))).toMatchObject({
      kind: 'transient',
      status
    })
  })

  it.each([301, 302, 303, 307, 308])('%i is a redirect with its location', (status) => {
    expect(interpretAnswer({ status, contentType: '', location: 'https://login.example.com/sso', body: '' })).toEqual({
      kind: 'redirect',
      status,
      location: 'https://login.example.com/sso',
      detail: `HTTP ${status}`
    })
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
      json: false
    })
  })
})
