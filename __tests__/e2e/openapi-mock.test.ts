import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { parse } from 'yaml'
import { runLikeRunner } from '../../test-server/runner.mjs'
import { BUNDLE, leaksOf, maskLineIndex, runAction } from './harness.js'
import { controlPlaneView, describedControlPlanes } from '../../test-server/openapi/control-plane-view.mjs'
import {
  DOCUMENTED,
  generationOf,
  loadSpec,
  requestProblems,
  startPrism,
  startRecorder,
  type Expected,
  type Generation,
  type OpenApiSpec,
  type RecordedRequest,
  type Recorder
} from './openapi-conformance.js'

// Conformance: the action against Prism, a mock server this project did not write, serving the
// project's OpenAPI description of the Run:ai endpoints (test-server/openapi/runai-api.json, from
// the facts in docs/runai-token-api.md) as one control plane of each generation has it. Prism
// answers with the description's examples or values made from its schemas, but its request
// validation is only as strict as the schemas, and the v1 one requires nothing (as NVIDIA's
// does): Prism answers `{}` with a token. So a recording relay sits between the action and
// Prism, and every request the action sent is compared, field by field, with the documented
// request and with the description (requestProblems).

const CLIENT_ID = 'conformance-client'
// Characters that form and JSON encoding must carry through: space, + & = / " \
const SECRET = 'conformance-secret Qm7+&=/"\\'
const credentials = { 'client-id': CLIENT_ID, 'client-secret': SECRET }
const expecting = (generation: Generation): Expected => ({ generation, clientId: CLIENT_ID, clientSecret: SECRET })

// For each generation the first control plane that has it, and 3.0 (v2's grant types changed, app_token gone).
const CONTROL_PLANES = ['3.0', '2.24', '2.20', '2.18'] as const
type ControlPlane = (typeof CONTROL_PLANES)[number]
const specs = Object.fromEntries(CONTROL_PLANES.map((version) => [version, loadSpec(version)])) as Record<ControlPlane, OpenApiSpec>

/** The control planes whose description declares each generation's endpoint and grant type (docs/runai-token-api.md). */
const DECLARED_BY: Record<Generation, ControlPlane[]> = {
  v2: ['2.24', '3.0'],
  v1: ['2.20', '2.24', '3.0'],
  'v1-app-token': ['2.18', '2.20', '2.24']
}

/** The documented request of a generation, as bytes on the wire. */
function documentedRequest(generation: Generation, overrides: Partial<RecordedRequest> = {}): RecordedRequest {
  const doc = DOCUMENTED[generation]
  const fields: [string, string][] = [
    [doc.grantField, doc.grantType],
    [doc.idField, CLIENT_ID],
    [doc.secretField, SECRET]
  ]
  const body = Buffer.from(
    doc.contentType === 'application/json' ? JSON.stringify(Object.fromEntries(fields)) : new URLSearchParams(fields).toString()
  )
  return {
    method: 'POST',
    target: doc.path,
    headers: { 'content-type': doc.contentType, 'content-length': String(body.length), accept: 'application/json' },
    body,
    ...overrides
  }
}
const json = (value: unknown) => ({ body: Buffer.from(JSON.stringify(value)), headers: { 'content-type': 'application/json' } })
const form = (pairs: [string, string][]) => ({
  body: Buffer.from(new URLSearchParams(pairs).toString()),
  headers: { 'content-type': 'application/x-www-form-urlencoded' }
})

describe('the description, control plane by control plane', () => {
  // What docs/runai-token-api.md says each version has, against the views of runai-api.json.
  const v1Before220 = ['app_token', 'refresh_token', 'exchange_token', 'password']
  const v1From220 = ['client_credentials', ...v1Before220]
  const v1From222 = [...v1From220, 'external_token_exchange']
  const v2In224 = ['client_credentials', 'authorization_code', 'password', 'refresh_token']
  const v1Only = ['/api/v1/token']
  const both = ['/api/v2/token', '/api/v1/token']
  // Every version also has the deploy-context lookups (checked in stand-in-deploy-openapi.test.ts).
  const lookups = ['/api/v1/clusters', '/api/v1/org-unit/projects', '/api/v1/authorization/permitted-scopes']
  it.each([
    ['2.18', v1Only, v1Before220, undefined],
    ['2.19', v1Only, v1Before220, undefined],
    ['2.20', v1Only, v1From220, undefined],
    ['2.21', v1Only, v1From220, undefined],
    ['2.22', v1Only, v1From222, undefined],
    ['2.23', v1Only, v1From222, undefined],
    ['2.24', both, v1From222, v2In224],
    ['3.0', both, v1From222.filter((grant) => grant !== 'app_token'), ['client_credentials', 'password', 'external_token_exchange']]
  ])('%s: paths %j, v1 grant types %j, v2 grant types %j', (version, paths, v1Grants, v2Grants) => {
    const view = controlPlaneView(version) as { paths: object; components: { schemas: Record<string, { enum?: string[] }> } }
    expect(Object.keys(view.paths)).toEqual([...paths, ...lookups])
    expect(view.components.schemas.V1GrantType?.enum).toEqual(v1Grants)
    expect(view.components.schemas.V2GrantType?.enum).toEqual(v2Grants)
    expect(JSON.stringify(view)).not.toMatch(/"x-runai-(added|removed|deprecated|enum-added|enum-removed)-in"/)
  })

  it('holds facts for exactly the versions it says, and marks what each deprecates', () => {
    expect(describedControlPlanes()).toEqual(['2.18', '2.19', '2.20', '2.21', '2.22', '2.23', '2.24', '3.0'])
    type Deprecable = { deprecated?: boolean }
    type View = {
      paths: Record<string, { post: Deprecable }>
      components: { schemas: Record<string, { properties?: Record<string, Deprecable> }> }
    }
    // [the v1 endpoint, its AppId field]: deprecated?
    const deprecation = (version: string) => {
      const view = controlPlaneView(version) as View
      const appId = view.components.schemas.V1TokenBody?.properties?.AppId
      return [view.paths['/api/v1/token']?.post.deprecated ?? false, appId === undefined ? 'absent' : (appId.deprecated ?? false)]
    }
    expect(['2.19', '2.20', '2.24', '2.25', '3.0'].map(deprecation)).toEqual([
      [false, false],
      [false, true],
      [false, true],
      [true, true],
      [true, 'absent']
    ])
  })

  it('refuses to make a view whose $refs point at something that version lacks', () => {
    // An operation marked as older than the schemas it refers to: a slip the views must not hide.
    const document = JSON.parse(readFileSync('test-server/openapi/runai-api.json', 'utf8')) as { paths: Record<string, object> }
    delete (document.paths['/api/v2/token'] as Record<string, unknown>)['x-runai-added-in']
    expect(() => controlPlaneView('2.23', document)).toThrow(
      'control plane 2.23: these $refs point at elements it does not have: ' +
        '#/components/schemas/V2TokenForm, #/components/schemas/V2TokenIssued, #/components/responses/V2Refused'
    )
    expect(Object.keys((controlPlaneView('2.24', document) as { paths: object }).paths)).toEqual([
      '/api/v2/token',
      '/api/v1/token',
      '/api/v1/clusters',
      '/api/v1/org-unit/projects',
      '/api/v1/authorization/permitted-scopes'
    ])
  })
})

describe('the request comparison', () => {
  it.each(
    Object.entries(DECLARED_BY).flatMap(([generation, versions]) => versions.map((version) => [generation as Generation, version] as const))
  )('accepts the documented %s request against control plane %s', (generation, version) => {
    expect(requestProblems(documentedRequest(generation), specs[version], expecting(generation))).toEqual([])
  })

  it('rejects a misspelt v1 field (clientIdd)', () => {
    const request = documentedRequest('v1', json({ grantType: 'client_credentials', clientIdd: CLIENT_ID, clientSecret: SECRET }))
    expect(requestProblems(request, specs['2.20'], expecting('v1'))).toEqual([
      'lacks field `clientId` (expected exactly `grantType`, `clientId`, `clientSecret`)',
      'sends field `clientIdd`, which is not documented (expected exactly `grantType`, `clientId`, `clientSecret`)',
      "control plane 2.20, v1: field `clientIdd` is not a property of the description's schema " +
        '(declared: `grantType`, `clientId`, `clientSecret`, `AppId`, `AppSecret`)',
      'control plane 2.20, v1: the description\'s example "service-account" has the keys `grantType`, `clientId`, `clientSecret`; ' +
        'the request has `grantType`, `clientIdd`, `clientSecret`'
    ])
  })

  it('rejects a misspelt v2 field (client-id), exactly as OAuth2 names it', () => {
    const request = documentedRequest(
      'v2',
      form([
        ['grant_type', 'client_credentials'],
        ['client-id', CLIENT_ID],
        ['client_secret', SECRET]
      ])
    )
    expect(requestProblems(request, specs['2.24'], expecting('v2'))).toEqual([
      'lacks field `client_id` (expected exactly `grant_type`, `client_id`, `client_secret`)',
      'sends field `client-id`, which is not documented (expected exactly `grant_type`, `client_id`, `client_secret`)',
      "control plane 2.24, v2: field `client-id` is not a property of the description's schema (declared: `grant_type`, `client_id`, `client_secret`)",
      'control plane 2.24, v2: the description\'s example "service-account" has the keys `grant_type`, `client_id`, `client_secret`; ' +
        'the request has `grant_type`, `client-id`, `client_secret`'
    ])
    // A form field differing only in case is still wrong: OAuth2 parameter names are case-sensitive.
    const upper = documentedRequest(
      'v2',
      form([
        ['grant_type', 'client_credentials'],
        ['Client_Id', CLIENT_ID],
        ['client_secret', SECRET]
      ])
    )
    expect(requestProblems(upper, specs['3.0'], expecting('v2'))).toContainEqual(expect.stringContaining('`Client_Id` is not a property'))
  })

  it("rejects NVIDIA's specification's v1 spelling (clientID), which the description declares: the action sends the documented one", () => {
    const request = documentedRequest('v1', json({ grantType: 'client_credentials', clientID: CLIENT_ID, clientSecret: SECRET }))
    expect(requestProblems(request, specs['2.24'], expecting('v1'))).toEqual([
      'sends `clientID`, but the documented spelling is `clientId`',
      'control plane 2.24, v1: the description\'s example "service-account" has the keys `grantType`, `clientId`, `clientSecret`; ' +
        'the request has `grantType`, `clientID`, `clientSecret`'
    ])
    // Any other case is neither spelling, and the description does not say the server ignores case.
    const shouting = documentedRequest('v1', json({ grantType: 'client_credentials', CLIENTID: CLIENT_ID, clientSecret: SECRET }))
    expect(requestProblems(shouting, specs['2.24'], expecting('v1'))).toContainEqual(
      expect.stringContaining("field `CLIENTID` is not a property of the description's schema")
    )
  })

  it('rejects the wrong Content-Type', () => {
    const asJson = documentedRequest('v2', json({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: SECRET }))
    expect(requestProblems(asJson, specs['2.24'], expecting('v2'))).toEqual(
      expect.arrayContaining([
        'Content-Type is "application/json", expected application/x-www-form-urlencoded',
        'control plane 2.24, v2: the description declares a request body only for `application/x-www-form-urlencoded`, not for "application/json"'
      ])
    )
    const textPlain = documentedRequest('v1', { headers: { 'content-type': 'text/plain' } })
    expect(requestProblems(textPlain, specs['2.20'], expecting('v1'))).toEqual([
      'Content-Type is "text/plain", expected application/json',
      'control plane 2.20, v1: the description declares a request body only for `application/json`, not for "text/plain"'
    ])
  })

  it('rejects an empty body, the one Prism answered with a token', () => {
    expect(requestProblems(documentedRequest('v1', json({})), specs['2.20'], expecting('v1'))).toEqual([
      'lacks field `grantType` (expected exactly `grantType`, `clientId`, `clientSecret`)',
      'lacks field `clientId` (expected exactly `grantType`, `clientId`, `clientSecret`)',
      'lacks field `clientSecret` (expected exactly `grantType`, `clientId`, `clientSecret`)',
      'control plane 2.20, v1: the description\'s example "service-account" has the keys `grantType`, `clientId`, `clientSecret`; ' +
        'the request has none'
    ])
    expect(requestProblems(documentedRequest('v2', form([])), specs['2.24'], expecting('v2'))).toContain(
      "control plane 2.24, v2: lacks `grant_type`, which the description's schema requires"
    )
  })

  it('rejects wrong values: grant type, client ID, secret', () => {
    const request = documentedRequest('v1', json({ grantType: 'client_credential', clientId: 'someone-else', clientSecret: 'wrong' }))
    expect(requestProblems(request, specs['2.20'], expecting('v1'))).toEqual([
      '`grantType` is "client_credential", expected "client_credentials"',
      'control plane 2.20, v1: `grantType` "client_credential" is not in the description\'s enum ' +
        '(`client_credentials`, `app_token`, `refresh_token`, `exchange_token`, `password`)',
      '`clientId` is "someone-else", expected the client ID "conformance-client"',
      '`clientSecret` does not carry the client secret (it carries another value, 5 characters long)'
    ])
  })

  it('rejects a generation the control plane does not have', () => {
    expect(requestProblems(documentedRequest('v1'), specs['2.18'], expecting('v1'))).toEqual([
      "control plane 2.18, v1: field `clientSecret` is not a property of the description's schema (declared: `grantType`, `clientId`, `AppId`, `AppSecret`)",
      'control plane 2.18, v1: `grantType` "client_credentials" is not in the description\'s enum (`app_token`, `refresh_token`, `exchange_token`, `password`)'
    ])
    expect(requestProblems(documentedRequest('v2'), specs['2.20'], expecting('v2'))).toEqual([
      'control plane 2.20 declares no POST /api/v2/token'
    ])
    expect(requestProblems(documentedRequest('v1-app-token'), specs['3.0'], expecting('v1-app-token'))).toEqual([
      "control plane 3.0, v1-app-token: field `AppId` is not a property of the description's schema (declared: `grantType`, `clientId`, `clientSecret`)",
      "control plane 3.0, v1-app-token: field `AppSecret` is not a property of the description's schema (declared: `grantType`, `clientId`, `clientSecret`)",
      'control plane 3.0, v1-app-token: `grantType` "app_token" is not in the description\'s enum ' +
        '(`client_credentials`, `refresh_token`, `exchange_token`, `password`, `external_token_exchange`)'
    ])
  })

  it('rejects the wrong method, path, query string, duplicated fields and framing', () => {
    const spec = specs['2.24']
    expect(requestProblems(documentedRequest('v2', { method: 'PUT' }), spec, expecting('v2'))).toEqual(['method is PUT, expected POST'])
    expect(requestProblems(documentedRequest('v2', { target: '/api/v2/token/' }), spec, expecting('v2'))).toContain(
      'path is /api/v2/token/, expected /api/v2/token'
    )
    expect(requestProblems(documentedRequest('v2', { target: `/api/v2/token?client_secret=x` }), spec, expecting('v2'))).toEqual([
      'the request target carries a query string (client_secret=x); the credentials belong in the body'
    ])
    const twice = documentedRequest('v2')
    twice.body = Buffer.concat([twice.body, Buffer.from('&client_id=other')])
    twice.headers['content-length'] = String(twice.body.length)
    expect(requestProblems(twice, spec, expecting('v2'))).toEqual(expect.arrayContaining(['field(s) `client_id` sent more than once']))
    const short = documentedRequest('v2')
    short.headers['content-length'] = '3'
    expect(requestProblems(short, spec, expecting('v2'))).toEqual([`Content-Length is 3 but the body has ${short.body.length} bytes`])
    const xml = documentedRequest('v1', { headers: { 'content-type': 'application/json', accept: 'application/xml' } })
    expect(requestProblems(xml, spec, expecting('v1'))).toEqual(['Accept "application/xml" admits none of `application/json`'])
  })

  it("rejects a request whose keys differ from the description's example of it", () => {
    // The same view with one key added to its client_credentials example: the comparison must notice.
    const altered = structuredClone(specs['2.24'])
    type Media = { examples: Record<string, { value: Record<string, string> }> }
    type Paths = Record<string, { post: { requestBody: { content: Record<string, Media> } } }>
    const paths = altered.document.paths as unknown as Paths
    const example = paths['/api/v2/token']?.post.requestBody.content['application/x-www-form-urlencoded']?.examples['service-account']
    if (example === undefined) throw new Error('runai-api.json lost its v2 client_credentials example')
    example.value = { ...example.value, scope: 'openid' }
    expect(requestProblems(documentedRequest('v2'), altered, expecting('v2'))).toEqual([
      'control plane 2.24, v2: the description\'s example "service-account" has the keys `grant_type`, `client_id`, `client_secret`, `scope`; ' +
        'the request has `grant_type`, `client_id`, `client_secret`'
    ])
  })
})

// All the Prisms start at once; each sits behind its own recorder.
const servers = new Map<ControlPlane, { prism: Awaited<ReturnType<typeof startPrism>>; recorder: Recorder }>()
let viewsDir: string
beforeAll(async () => {
  viewsDir = mkdtempSync(join(tmpdir(), 'runai-openapi-'))
  await Promise.all(
    CONTROL_PLANES.map(async (version) => {
      const prism = await startPrism(specs[version], viewsDir)
      servers.set(version, { prism, recorder: await startRecorder(prism.url) })
    })
  )
}, 60_000)
afterAll(async () => {
  for (const { prism, recorder } of servers.values()) {
    prism.process.kill()
    await recorder.close()
  }
  rmSync(viewsDir, { recursive: true, force: true })
})

describe.each([
  // control plane, the generation it serves, what `auto` asks in turn and the status Prism answers each with
  ['3.0', 'v2', [['v2', 200]]],
  ['2.24', 'v2', [['v2', 200]]],
  [
    '2.20',
    'v1',
    [
      ['v2', 404],
      ['v1', 200]
    ]
  ],
  [
    '2.18',
    'v1-app-token',
    [
      ['v2', 404],
      ['v1', 400],
      ['v1-app-token', 200]
    ]
  ]
] as const)('against Prism serving control plane %s', (version, expected, negotiation) => {
  let recorder: Recorder
  beforeEach(() => {
    const server = servers.get(version)
    if (server === undefined) throw new Error(`Prism for control plane ${version} did not start`)
    recorder = server.recorder
    recorder.requests.length = 0
  })

  it.each(['auto', expected])(
    `api-version %s gets a token from ${expected}, sending exactly the documented request`,
    async (apiVersion) => {
      const run = await runAction({ url: recorder.url, ...credentials, 'api-version': apiVersion })
      expect(run.stdout.split('\n').find((l) => l.startsWith('::error::')) ?? '').toBe('')
      expect(run.exitCode).toBe(0)
      expect(run.outputs['api-version']).toBe(expected)
      const token = run.outputs.token ?? ''
      expect(token).not.toBe('')
      expect(run.exported.RUNAI_TOKEN).toBe(token)
      expect(maskLineIndex(run, SECRET)).toBe(0)
      expect(maskLineIndex(run, token)).toBeGreaterThan(0)
      expect(leaksOf(run, [SECRET, token])).toEqual([])

      // What went over the wire: the generations in the documented order, each answered as expected.
      const asked = apiVersion === 'auto' ? negotiation : negotiation.filter(([generation]) => generation === expected)
      const sent = recorder.requests
      expect(sent.map((request) => [generationOf(request), request.status])).toEqual(asked)
      // Every request the action sent is its generation's documented request, and conforms to every
      // control plane that has that generation (the one Prism served here among them for the last).
      sent.forEach((request, index) => {
        const generation = asked[index]?.[0] as Generation
        for (const other of DECLARED_BY[generation])
          expect([other, requestProblems(request, specs[other], expecting(generation))]).toEqual([other, []])
      })
      expect(DECLARED_BY[expected]).toContain(version)
    }
  )
})

describe('a bundle that misspells a field', () => {
  // The bundle of the current sources with one field renamed, run through the same recorder and Prism: Prism is blind to
  // the misspelling (the description requires no credential field, so it answers with a token), the
  // comparison is not.
  const inputs = parse(readFileSync('action.yml', 'utf8')) as { inputs: Record<string, { default?: string }> }
  const defaults = Object.fromEntries(Object.entries(inputs.inputs).map(([name, input]) => [name, input.default ?? '']))
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'runai-misspelt-'))
    writeFileSync(join(dir, 'package.json'), readFileSync(join(dirname(BUNDLE), 'package.json')))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  function misspelt(name: string, pattern: RegExp, replacement: string): string {
    const bundle = readFileSync(BUNDLE, 'utf8')
    const changed = bundle.replace(pattern, replacement)
    if (changed === bundle) throw new Error(`${BUNDLE} no longer matches ${pattern}: update this test`)
    writeFileSync(join(dir, name), changed)
    return join(dir, name)
  }

  it.each([
    ['v1', '2.20', /\bclientId(\s*:\s*credentials\.clientId\b)/, 'clientIdd$1', ['lacks field `clientId`', 'sends field `clientIdd`']],
    ['v2', '2.24', /\bclient_id(\s*:\s*credentials\.clientId\b)/, "'client-id'$1", ['lacks field `client_id`', 'sends field `client-id`']]
  ] as const)('is caught at %s against control plane %s', async (generation, version, pattern, replacement, expectedProblems) => {
    const server = servers.get(version)
    if (server === undefined) throw new Error(`Prism for control plane ${version} did not start`)
    server.recorder.requests.length = 0
    const script = misspelt(`${generation}.js`, pattern, replacement)
    const run = await runLikeRunner(script, { ...defaults, url: server.recorder.url, ...credentials, 'api-version': generation })
    expect([run.exitCode, run.outputs['api-version']]).toEqual([0, generation]) // Prism gave it a token all the same
    const [request, ...more] = server.recorder.requests
    expect(more).toEqual([])
    if (request === undefined) throw new Error('the misspelt bundle sent nothing')
    const problems = requestProblems(request, specs[version], expecting(generation))
    for (const text of expectedProblems) expect(problems).toContainEqual(expect.stringContaining(text))
  })
})
