import { afterEach, describe, expect, it } from '@jest/globals'
import { startStandIn, DEFAULT_CLIENT } from '../../test-server/runai-stand-in.mjs'
import { errorOf, leaksOf, maskLineIndex, runAction } from './harness.js'

type StandIn = Awaited<ReturnType<typeof startStandIn>>
let standIn: StandIn | undefined
afterEach(async () => {
  await standIn?.close()
  standIn = undefined
})

const credentials = { 'client-id': DEFAULT_CLIENT.id, 'client-secret': DEFAULT_CLIENT.secret }

/** The checks every successful run must pass, whatever the case. */
function expectHandedOnAndMasked(run: Awaited<ReturnType<typeof runAction>>, server: StandIn, generation: string) {
  expect(run.exitCode).toBe(0)
  const token = run.outputs.token ?? ''
  expect(server.tokensIssued).toContain(token)
  expect(run.exported.RUNAI_TOKEN).toBe(token)
  expect(run.outputs['api-version']).toBe(generation)
  expect(maskLineIndex(run, DEFAULT_CLIENT.secret)).toBe(0)
  expect(maskLineIndex(run, token)).toBeGreaterThan(0)
  expect(leaksOf(run, [DEFAULT_CLIENT.secret, ...server.tokensIssued])).toEqual([])
}

describe.each([
  ['latest', 'v2', ['/api/v2/token']],
  ['2.20', 'v1', ['/api/v2/token', '/api/v1/token']],
  ['2.18', 'v1-app-token', ['/api/v2/token', '/api/v1/token', '/api/v1/token']]
] as const)('a %s control plane', (generation, expected, paths) => {
  it(`with api-version auto: negotiates ${expected}`, async () => {
    standIn = await startStandIn({ generation })
    const run = await runAction({ url: standIn.url, ...credentials })
    expectHandedOnAndMasked(run, standIn, expected)
    expect(standIn.requests.map((r) => r.path)).toEqual(paths)
    expect(run.outputs.url).toBe(standIn.url)
    expect(Number(run.outputs['expires-in'])).toBeGreaterThan(3500)
    expect(Date.parse(run.outputs['expires-at'] ?? '')).toBeGreaterThan(Date.now())
  })

  it(`with api-version ${expected} pinned: one request, as docs/runai-token-api.md describes it`, async () => {
    standIn = await startStandIn({ generation })
    const run = await runAction({ url: standIn.url, ...credentials, 'api-version': expected })
    expectHandedOnAndMasked(run, standIn, expected)
    expect(standIn.requests).toHaveLength(1)
    const request = standIn.requests[0]
    if (request === undefined) throw new Error('no request recorded')
    expect(request.headers['user-agent']).toMatch(/^runai-token-action\/\d+\.\d+\.\d+$/)
    if (expected === 'v2') {
      expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded')
      expect(Object.fromEntries(new URLSearchParams(request.body))).toEqual({
        grant_type: 'client_credentials',
        client_id: DEFAULT_CLIENT.id,
        client_secret: DEFAULT_CLIENT.secret
      })
    } else {
      expect(request.headers['content-type']).toBe('application/json')
      expect(JSON.parse(request.body)).toEqual(
        expected === 'v1'
          ? { grantType: 'client_credentials', clientId: DEFAULT_CLIENT.id, clientSecret: DEFAULT_CLIENT.secret }
          : { grantType: 'app_token', AppId: DEFAULT_CLIENT.id, AppSecret: DEFAULT_CLIENT.secret }
      )
    }
  })

  it('with a wrong secret: fails, says the credentials were refused, leaks nothing', async () => {
    standIn = await startStandIn({ generation })
    const run = await runAction({ url: standIn.url, 'client-id': DEFAULT_CLIENT.id, 'client-secret': 'wrong-secret-123' })
    expect(run.exitCode).toBe(1)
    expect(errorOf(run)).toMatch(/^Run:ai refused the request for a token \(.*HTTP 401.*\)\. Check `client-id` and `client-secret`/)
    expect(run.outputs).toEqual({})
    expect(run.exported).toEqual({})
    expect(leaksOf(run, ['wrong-secret-123', DEFAULT_CLIENT.secret])).toEqual([])
  })
})

it('exports under env-name only, and not at all with export-env false', async () => {
  standIn = await startStandIn()
  const named = await runAction({ url: standIn.url, ...credentials, 'env-name': 'CLUSTER_A_TOKEN' })
  expect(Object.keys(named.exported)).toEqual(['CLUSTER_A_TOKEN'])
  const off = await runAction({ url: standIn.url, ...credentials, 'export-env': 'false' })
  expect(off.exported).toEqual({})
  expect(off.outputs.token).toMatch(/^eyJ/)
})
