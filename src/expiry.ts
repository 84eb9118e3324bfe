/** The last instant a JavaScript Date can hold (ECMA-262: 8.64e15 ms after the epoch). */
const MAX_DATE_MS = 8.64e15

/** When a token expires: from the answer's `expires_in`, else from the JWT's `exp` claim. */
export interface TokenExpiry {
  expiresInSeconds: number
  expiresAt: string
  /** The JWT's `exp` is not after now: the runner's clock or the control plane's is off. */
  alreadyPast: boolean
}

export function tokenExpiry(accessToken: string, expiresInSeconds: number | undefined, nowMs: number): TokenExpiry | undefined {
  // An expires_in too large to be a date (1e300, Go's MaxInt64) says nothing usable: fall back to exp.
  if (expiresInSeconds !== undefined && nowMs + expiresInSeconds * 1000 <= MAX_DATE_MS) {
    return { expiresInSeconds, expiresAt: new Date(nowMs + expiresInSeconds * 1000).toISOString(), alreadyPast: false }
  }
  const exp = jwtExpiry(accessToken)
  if (exp === undefined) return undefined
  return {
    expiresInSeconds: Math.max(0, Math.floor(exp - nowMs / 1000)),
    expiresAt: new Date(exp * 1000).toISOString(),
    alreadyPast: exp * 1000 <= nowMs
  }
}

/** The `exp` claim (seconds since the epoch) of a JWT, without verifying it: we only report it. */
export function jwtExpiry(token: string): number | undefined {
  const payload = token.split('.')[1]
  if (payload === undefined || payload === '') return undefined
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
    const exp = (claims as { exp?: unknown } | null)?.exp
    // Reject values that Date cannot represent rather than printing "Invalid Date".
    return typeof exp === 'number' && Number.isFinite(exp) && exp > 0 && exp * 1000 <= MAX_DATE_MS ? exp : undefined
  } catch {
    return undefined
  }
}
