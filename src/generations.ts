/**
 * The three generations of Run:ai's token API (docs/runai-token-api.md) and the request each one
 * expects.
 */

export type Generation = 'v2' | 'v1' | 'v1-app-token'
export type ApiVersionChoice = 'auto' | Generation

export const API_VERSION_CHOICES: readonly ApiVersionChoice[] = ['auto', 'v2', 'v1', 'v1-app-token']

export interface Credentials {
  clientId: string
  clientSecret: string
}

export interface TokenRequest {
  generation: Generation
  /** Path below the base URL. */
  path: string
  contentType: string
  body: string
}

export function buildTokenRequest(generation: Generation, credentials: Credentials): TokenRequest {
  switch (generation) {
    case 'v2':
      // OAuth2 client credentials, form-encoded (control planes 2.24+, v3.0, current SaaS).
      return {
        generation,
        path: '/api/v2/token',
        contentType: 'application/x-www-form-urlencoded',
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: credentials.clientId,
          client_secret: credentials.clientSecret
        }).toString()
      }
    case 'v1':
      // 2.20+. The specification spells clientID; the documentation spells clientId, and every public
      // client known to work sends that. Whether the server ignores case is not on record.
      return v1Request(generation, {
        grantType: 'client_credentials',
        clientId: credentials.clientId,
        clientSecret: credentials.clientSecret
      })
    case 'v1-app-token':
      // 2.18 and 2.19: the request of the original "API Authentication" page, as NVIDIA's own client sends it.
      return v1Request(generation, { grantType: 'app_token', AppId: credentials.clientId, AppSecret: credentials.clientSecret })
  }
}

function v1Request(generation: Generation, body: Record<string, string>): TokenRequest {
  return { generation, path: '/api/v1/token', contentType: 'application/json', body: JSON.stringify(body) }
}
