import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { controlPlaneView, describedControlPlanes } from '../../test-server/openapi/control-plane-view.mjs'
import { DEFAULT_CLIENT, startStandIn } from '../../test-server/runai-stand-in.mjs'
import { DEPLOY_CLIENTS, DEPLOY_DATA, type DeployFaults } from '../../test-server/deploy-api.mjs'
import { loadSpec, startPrism } from './openapi-conformance.js'

// The deploy-context lookups against the project's OpenAPI description (test-server/openapi/
// runai-api.json, tag `deploy-context`), with Prism, a server this project did not write:
// - as a proxy in front of the stand-in, Prism checks every answer the stand-in gives (each
//   identity, each switch) against the description, and turns a violation into a 500 that lists it;
// - as a mock serving the description, it takes the requests issue 15 describes (filterBy
//   comma-joined, the permitted-scopes body, a bearer token), so that the action can later run
//   against it as it runs against the stand-in.

type StandIn = Awaited<ReturnType<typeof startStandIn>>
type Prism = Awaited<ReturnType<typeof startPrism>>
interface Answer {
  status: number
  headers: Headers
  body: unknown
}

const CLIENTS = [DEFAULT_CLIENT, ...DEPLOY_CLIENTS]
const EAST = DEPLOY_DATA.clusters[0]?.uuid ?? 'no clusters'
const LOOKUPS = ['/api/v1/clusters', '/api/v1/org-unit/projects', '/api/v1/authorization/permitted-scopes']
// The view of the first and of the last published version; 3.0's is 2.24's for these endpoints.
const VERSIONS = ['2.18', '2.24'] as const

/** One lookup as the action will send it: URLSearchParams encodes the comma-joined filterBy. */
async function ask(base: string, path: string, headers: Record<string, string>, body?: unknown): Promise<Answer> {
  const answer = await fetch(`${base}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const text = await answer.text()
  let parsed: unknown = text
  try {
    parsed = JSON.parse(text)
  } catch {
    // plain text, kept as it is
  }
  return { status: answer.status, headers: answer.headers, body: parsed }
}
const projectsQuery = (...terms: string[]) => `/api/v1/org-unit/projects?${new URLSearchParams({ filterBy: terms.join(',') })}`
const createTrainings = { resourceType: 'trainings', action: 'create' }

/** What Prism, with --errors, says about a request or an answer: the violations it found, or none. */
function violations(answer: Answer): string[] {
  const header = answer.headers.get('sl-violations')
  const listed = header === null ? [] : (JSON.parse(header) as { message: string }[]).map((v) => v.message)
  const body = answer.body as { type?: string; validation?: { message: string }[] }
  // Prism's own error bodies (https://stoplight.io/prism/errors#…) list what they found under `validation`.
  if (typeof body === 'object' && body !== null && String(body.type).startsWith('https://stoplight.io/prism/errors#'))
    listed.push(...(body.validation ?? []).map((v) => v.message))
  return [...new Set(listed)]
}

let dir: string
let standIn: StandIn
const proxies = new Map<string, Prism>()
const mocks = new Map<string, Prism>()
const tokens = new Map<string, string>()
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'runai-deploy-openapi-'))
  standIn = await startStandIn({ clients: CLIENTS })
  await Promise.all(
    VERSIONS.flatMap((version) => [
      startPrism({ ...loadSpec(version), name: `proxy ${version}` }, dir, standIn.url).then((p) => proxies.set(version, p)),
      startPrism({ ...loadSpec(version), name: `mock ${version}` }, dir).then((p) => mocks.set(version, p))
    ])
  )
  for (const { id, secret } of CLIENTS) {
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: id, client_secret: secret })
    const issued = await fetch(`${standIn.url}/api/v2/token`, { method: 'POST', body: form })
    tokens.set(id, ((await issued.json()) as { access_token: string }).access_token)
  }
}, 60_000)
afterAll(async () => {
  for (const prism of [...proxies.values(), ...mocks.values()]) prism.process.kill()
  await standIn.close()
  rmSync(dir, { recursive: true, force: true })
})
const as = (identity: string) => ({ authorization: `Bearer ${tokens.get(identity) ?? 'missing'}` })
const prism = (servers: Map<string, Prism>, version: string) => {
  const server = servers.get(version)
  if (server === undefined) throw new Error(`Prism for ${version} did not start`)
  return server.url
}

describe('the description of the lookups, control plane by control plane', () => {
  type Operation = { tags: string[]; security: object[]; responses: Record<string, unknown> }
  type View = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, { enum?: string[] }> } }
  const view = (version: string) => controlPlaneView(version) as View

  it.each(describedControlPlanes())('%s has the three lookups, each behind the bearer token, with its failures', (version) => {
    const operations = LOOKUPS.map((path) => Object.values(view(version).paths[path] ?? {})[0])
    for (const operation of operations) {
      expect(operation?.tags).toEqual(['deploy-context'])
      expect(operation?.security).toEqual([{ bearerAuth: [] }])
      expect(Object.keys(operation?.responses ?? {})).toEqual(expect.arrayContaining(['200', '401', '403', '404', '500', '503']))
    }
    expect(view(version).components.schemas.ClusterState?.enum).toEqual([
      'WaitingToConnect',
      'Connected',
      'Disconnected',
      'MissingPrerequisites',
      'ServiceIssues',
      'Unknown'
    ])
  })

  it('lists the resource types each version takes, the deploy ones in all', () => {
    const types = (version: string) => view(version).components.schemas.ResourceType?.enum ?? []
    for (const version of describedControlPlanes())
      expect(types(version)).toEqual(expect.arrayContaining(['workloads', 'trainings', 'workspaces', 'inferences']))
    const has = (type: string) => describedControlPlanes().filter((version) => types(version).includes(type))
    expect(has('internal-cluster-config')).toEqual(['2.19'])
    expect(has('groups')).toEqual(['2.18', '2.19', '2.20', '2.21', '2.22'])
    expect(has('scrapeable-metrics')).toEqual(['2.24', '3.0'])
    expect(types('2.18')).toHaveLength(36)
    expect(types('2.24')).toHaveLength(43)
  })
})

describe.each(VERSIONS)("the stand-in's answers, checked by Prism against the %s view", (version) => {
  // [what, switches, identity, path, permitted-scopes body]
  const cases: [string, DeployFaults, string, string, unknown][] = [
    ...CLIENTS.flatMap(({ id }): [string, DeployFaults, string, string, unknown][] => [
      [`${id}: clusters`, {}, id, '/api/v1/clusters?verbosity=metadata', undefined],
      [`${id}: a project by name and cluster`, {}, id, projectsQuery('name==team-a', `clusterId==${EAST}`), undefined],
      [`${id}: all its projects`, {}, id, '/api/v1/org-unit/projects', undefined],
      [`${id}: permitted scopes`, {}, id, LOOKUPS[2] ?? '', createTrainings]
    ]),
    ['a page of projects', {}, 'stand-in-client', '/api/v1/org-unit/projects?limit=2&offset=1', undefined],
    ['filterBy given twice', {}, 'stand-in-client', '/api/v1/org-unit/projects?filterBy=name==team-a&filterBy=name==team-b', undefined],
    ['lookupForbidden', { lookupForbidden: true }, 'stand-in-client', '/api/v1/clusters', undefined],
    [
      'lookupForbidden on permitted scopes',
      { lookupForbidden: ['permitted-scopes'] },
      'stand-in-client',
      LOOKUPS[2] ?? '',
      createTrainings
    ],
    ['lookupUnauthorized', { lookupUnauthorized: true }, 'stand-in-client', projectsQuery('name==team-a'), undefined],
    ['before218, clusters', { before218: true }, 'stand-in-client', '/api/v1/clusters', undefined],
    ['before218, permitted scopes', { before218: true }, 'stand-in-client', LOOKUPS[2] ?? '', createTrainings],
    ['lookupFailure 503', { lookupFailure: { status: 503, retryAfterSeconds: 2 } }, 'stand-in-client', '/api/v1/clusters', undefined],
    ['lookupFailure 500', { lookupFailure: { status: 500 } }, 'stand-in-client', LOOKUPS[2] ?? '', createTrainings],
    ['omitClusterFields', { omitClusterFields: ['version', 'status'] }, 'stand-in-client', '/api/v1/clusters', undefined],
    ['omitClusterFields state', { omitClusterFields: ['state'] }, 'stand-in-client', '/api/v1/clusters', undefined],
    ['deprecatedTenant', { deprecatedTenant: true }, 'stand-in-client', LOOKUPS[2] ?? '', createTrainings],
    ['omitEmptyScopes', { omitEmptyScopes: true }, 'research-deployer', LOOKUPS[2] ?? '', createTrainings]
  ]

  it.each(cases)('%s: passed on unchanged, no violation', async (_, faults, identity, path, body) => {
    standIn.setFaults({ deploy: faults })
    const before = standIn.requests.length
    const answer = await ask(prism(proxies, version), path, as(identity), body)
    const reached = standIn.requests.slice(before).map((r) => r.lookup?.status)
    expect([violations(answer), reached]).toEqual([[], [answer.status]])
  })

  it('catches a project id sent as a number (projectIdAsNumber): the check can fail', async () => {
    standIn.setFaults({ deploy: { projectIdAsNumber: true } })
    const answer = await ask(prism(proxies, version), projectsQuery('name==team-a'), as('stand-in-client'))
    expect([answer.status, violations(answer)]).toEqual([
      500,
      ['Response body property projects.0.id must be string', 'Response body property projects.1.id must be string']
    ])
    standIn.setFaults({})
  })

  it('refuses a filter term the description does not allow, before the stand-in sees it', async () => {
    standIn.setFaults({})
    const before = standIn.requests.length
    // (Prism names the parameter in lower case; as a proxy it answers 422, as a mock the declared 400.)
    const badTerm = await ask(prism(proxies, version), projectsQuery('colour==red'), as('stand-in-client'))
    expect([badTerm.status, violations(badTerm)]).toEqual([
      422,
      [expect.stringContaining('Request query parameter filterby.0 must match pattern')]
    ])
    expect(standIn.requests.length).toBe(before)
  })

  it('refuses a lookup without a bearer token, before the stand-in sees it', async () => {
    const before = standIn.requests.length
    const noToken = await ask(prism(proxies, version), '/api/v1/clusters', {})
    expect([noToken.status, noToken.headers.get('www-authenticate'), (noToken.body as { title?: string }).title]).toEqual([
      401,
      'Bearer',
      'Invalid security scheme used'
    ])
    expect(standIn.requests.length).toBe(before)
  })
})

describe.each(VERSIONS)('Prism serving the %s view as a mock', (version) => {
  it('answers the clusters lookup with the described example', async () => {
    const answer = await ask(prism(mocks, version), '/api/v1/clusters?verbosity=metadata', { authorization: 'Bearer any.made-up.token' })
    expect([answer.status, violations(answer)]).toEqual([200, []])
    expect(answer.body).toEqual([expect.objectContaining({ uuid: expect.any(String), name: 'gpu-east', status: { state: 'Connected' } })])
  })

  it('takes filterBy comma-joined in one value, as the published parameter declares it', async () => {
    const path = projectsQuery('name==team-a', 'clusterId==5b0f7d2e-8c41-4e9a-b3d6-0a9c2e71f458')
    expect(path).toContain('filterBy=name%3D%3Dteam-a%2CclusterId%3D%3D5b0f7d2e')
    const answer = await ask(prism(mocks, version), path, { authorization: 'Bearer any.made-up.token' })
    expect([answer.status, violations(answer)]).toEqual([200, []])
    expect(answer.body).toMatchObject({ projects: [{ id: '101', name: 'team-a', parentId: '12' }] })
  })

  it('takes the permitted-scopes body and answers all four actions', async () => {
    const answer = await ask(prism(mocks, version), LOOKUPS[2] ?? '', { authorization: 'Bearer any.made-up.token' }, createTrainings)
    expect([answer.status, violations(answer)]).toEqual([200, []])
    expect(Object.keys(answer.body as object)).toEqual(['create', 'read', 'update', 'delete'])
  })

  it('answers 401 to each lookup without a bearer token', async () => {
    for (const [path, body] of [
      [LOOKUPS[0], undefined],
      [projectsQuery('name==team-a'), undefined],
      [LOOKUPS[2], createTrainings]
    ] as const)
      expect((await ask(prism(mocks, version), path ?? '', {}, body)).status).toBe(401)
  })

  it('refuses a resource type the version does not have, and a malformed filter term', async () => {
    const token = { authorization: 'Bearer any.made-up.token' }
    const later = await ask(prism(mocks, version), LOOKUPS[2] ?? '', token, { resourceType: 'scrapeable-metrics', action: 'read' })
    expect(later.status).toBe(version === '2.18' ? 400 : 200)
    expect((await ask(prism(mocks, version), LOOKUPS[2] ?? '', token, { resourceType: 'trainingz', action: 'create' })).status).toBe(400)
    expect((await ask(prism(mocks, version), projectsQuery('name=team-a'), token)).status).toBe(400)
  })

  it('gives the described failures on request (Prefer: code=…), each with its body', async () => {
    const token = { authorization: 'Bearer any.made-up.token' }
    for (const code of [401, 403, 404, 500, 503]) {
      const answer = await ask(prism(mocks, version), '/api/v1/clusters', { ...token, prefer: `code=${code}` })
      expect([answer.status, (answer.body as { code?: number }).code]).toEqual([code, code])
    }
  })
})
