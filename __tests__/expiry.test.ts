import { describe, expect, it } from '@jest/globals'
import { jwtExpiry, tokenExpiry } from '../src/expiry.js'
import { fakeJwt } from './helpers/fakes.js'

const NOW = Date.UTC(2026, 10, 29, 12, 0, 0)

describe('tokenExpiry', () => {
  it('prefers the expires_in of the answer', () => {
    expect(tokenExpiry(fakeJwt(NOW / 1000 + 99), 3600, NOW)).toEqual({
      expiresInSeconds: 3600,
      expiresAt: '2026-11-29T13:00:00.000Z',
      alreadyPast: false
    })
  })
  it('falls back to the exp claim of the JWT', () => {
    expect(tokenExpiry(fakeJwt(NOW / 1000 + 600), undefined, NOW)).toEqual({
      expiresInSeconds: 600,
      expiresAt: '2026-11-29T12:10:00.000Z',
      alreadyPast: false
    })
  })
  it('says 0 seconds, and already past, for a token that has already expired', () => {
    expect(tokenExpiry(fakeJwt(NOW / 1000 - 60), undefined, NOW)).toEqual({
      expiresInSeconds: 0,
      expiresAt: '2026-11-29T11:59:00.000Z',
      alreadyPast: true
    })
  })
  it('is undefined for an opaque token without expires_in', () => {
    expect(tokenExpiry('opaque-token', undefined, NOW)).toBeUndefined()
  })
})

describe('jwtExpiry', () => {
  it.each([
    '',
    'a.b.c',
    'a..c',
    `x.${Buffer.from('{"exp":"soon"}').toString('base64url')}.y`,
    `x.${Buffer.from('null').toString('base64url')}.y`,
    `x.${Buffer.from('{"exp":1e20}').toString('base64url')}.y`
  ])('ignores %j', (token) => {
    expect(jwtExpiry(token)).toBeUndefined()
  })
})
