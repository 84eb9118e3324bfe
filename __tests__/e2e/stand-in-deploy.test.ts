import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { Agent, request } from 'node:http'
import { DEFAULT_CLIENT, startStandIn } from '../../test-server/runai-stand-in.mjs'
import { DEPLOY_CLIENTS, DEPLOY_DATA } from '../../test-server/deploy-api.mjs'

// The stand-in's deploy-context endpoints (test-server/deploy-api.mjs), talked to over loopback
// with node:http as any client would: no action involved. What the action does with them is
// issue 15's src/ side; these tests pin down the server it will be tested against.

type StandIn = Awaited<ReturnType<typeof startStandIn>>
type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  body: Json | undefined
}

const CLIENTS = [DEFAULT_CLIENT, ...DEPLOY_CLIENTS]
const ALL_CLUSTERS = DEPLOY_DATA.clusters.map((c) => c.name)
const uuidOf = (name: string) => DEPLOY_DATA.clusters.find((c) => c.name === name)?.uuid ?? 'no such cluster'
const EAST = uuidOf('gpu-east')
const WEST = uuidOf('gpu-west')

/** One request on `agent` (kept alive, so a test can count connections). */
function call(
  standIn: StandIn,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
  agent?: Agent
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const out = request(`${standIn.url}${path}`, { method, headers, ...(agent ? { agent } : {}) }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let parsed: Json | undefined
        try {
          parsed = JSON.parse(text) as Json
        } catch {
          parsed = undefined
        }
        resolve({ status: Number(res.statusCode), headers: res.headers, text, body: parsed })
      })
    })
    out.on('error', reject)
    out.end(body)
  })
}

async function tokenFor(standIn: StandIn, clientId: string): Promise<string> {
  const secret = CLIENTS.find((c) => c.id === clientId)?.secret ?? 'unknown'
  const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret }).toString()
  const answer = await call(standIn, 'POST', '/api/v2/token', { 'content-type': 'application/x-www-form-urlencoded' }, form)
  const token = (answer.body as { access_token?: string } | undefined)?.access_token
  if (answer.status !== 200 || token === undefined) throw new Error(`no token for ${clientId}: ${answer.status} ${answer.text}`)
  return token
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
const clusters = (standIn: StandIn, headers: Record<string, string>, agent?: Agent) =>
  call(standIn, 'GET', '/api/v1/clusters?verbosity=metadata', headers, undefined, agent)
const projects = (standIn: StandIn, headers: Record<string, string>, query = '', agent?: Agent) =>
  call(standIn, 'GET', `/api/v1/org-unit/projects${query}`, headers, undefined, agent)
const scopes = (standIn: StandIn, headers: Record<string, string>, body: unknown = { resourceType: 'trainings', action: 'create' }) =>
  call(
    standIn,
    'POST',
    '/api/v1/authorization/permitted-scopes',
    { ...headers, 'content-type': 'application/json' },
    typeof body === 'string' ? body : JSON.stringify(body)
  )
/** Every endpoint once, in the order the action would ask. */
const everyEndpoint = (standIn: StandIn, headers: Record<string, string>) =>
  Promise.all([clusters(standIn, headers), projects(standIn, headers), scopes(standIn, headers)])
const filter = (...terms: string[]) => `?filterBy=${encodeURIComponent(terms.join(','))}`
const names = (answer: Answer) => (answer.body as { name: string }[]).map((c) => c.name)
const projectIds = (answer: Answer) => (answer.body as { projects: { id: string | number }[] }).projects.map((p) => p.id)

let standIn: StandIn
const tokens = new Map<string, string>()
const as = (clientId: string) => bearer(tokens.get(clientId) ?? 'missing')
beforeAll(async () => {
  standIn = await startStandIn({ clients: CLIENTS })
  for (const { id } of CLIENTS) tokens.set(id, await tokenFor(standIn, id))
})
afterAll(() => standIn.close())
afterEach(() => standIn.setFaults({}))

describe('the bearer check', () => {
  it.each([
    ['no Authorization header', {}, 'no Authorization header'],
    [
      'a Basic header',
      { authorization: `Basic ${Buffer.from('stand-in-client:x').toString('base64')}` },
      'Authorization is not a bearer token'
    ],
    ['an empty bearer', { authorization: 'Bearer ' }, 'Authorization is not a bearer token']
  ])('answers 401 to %s, on all three endpoints', async (_, headers, details) => {
    for (const answer of await everyEndpoint(standIn, headers))
      expect([answer.status, answer.body]).toEqual([401, { code: 401, message: 'Unauthorized', details }])
  })

  it('answers 401 to a token it did not issue, though shaped like its own', async () => {
    const [head, , signature] = (tokens.get(DEFAULT_CLIENT.id) ?? '').split('.')
    const claims = Buffer.from(JSON.stringify({ sub: DEFAULT_CLIENT.id, exp: Math.floor(Date.now() / 1000) + 3600 })).toString('base64url')
    for (const answer of await everyEndpoint(standIn, bearer(`${head}.${claims}.${signature}`)))
      expect([answer.status, answer.body]).toEqual([401, { code: 401, message: 'Unauthorized', details: 'Issuer is not familiar.' }])
  })

  it("answers 401 to another stand-in's token", async () => {
    const other = await startStandIn({ clients: CLIENTS })
    try {
      const theirs = await tokenFor(other, DEFAULT_CLIENT.id)
      expect((await clusters(standIn, bearer(theirs))).status).toBe(401)
      expect((await clusters(other, bearer(theirs))).status).toBe(200)
    } finally {
      await other.close()
    }
  })

  it('answers 401 to an expired token of its own', async () => {
    const shortLived = await startStandIn({ clients: CLIENTS, tokenTtlSeconds: 0 })
    try {
      const expired = await tokenFor(shortLived, DEFAULT_CLIENT.id)
      for (const answer of await everyEndpoint(shortLived, bearer(expired)))
        expect([answer.status, answer.body]).toEqual([401, { code: 401, message: 'Unauthorized', details: 'token is expired' }])
    } finally {
      await shortLived.close()
    }
  })

  it('takes a v1 token as well as a v2 one, and the scheme in any case', async () => {
    const v1 = await startStandIn({ generation: '2.20', clients: CLIENTS })
    try {
      const body = JSON.stringify({ grantType: 'client_credentials', clientId: DEFAULT_CLIENT.id, clientSecret: DEFAULT_CLIENT.secret })
      const issued = await call(v1, 'POST', '/api/v1/token', { 'content-type': 'application/json' }, body)
      const token = (issued.body as { accessToken: string }).accessToken
      expect((await clusters(v1, { authorization: `bearer ${token}` })).status).toBe(200)
    } finally {
      await v1.close()
    }
  })
})

describe('GET /api/v1/clusters', () => {
  it.each([
    ['stand-in-client', ALL_CLUSTERS],
    ['platform-operator', ALL_CLUSTERS],
    ['east-operator', ['gpu-east']],
    ['research-deployer', ['gpu-east']],
    ['team-a-deployer', ['gpu-east']],
    ['research-viewer', ['gpu-east']]
  ])('%s sees %j', async (identity, expected) => {
    const answer = await clusters(standIn, as(identity))
    expect([answer.status, answer.headers['content-type']]).toEqual([200, 'application/json'])
    expect(names(answer)).toEqual(expected)
  })

  it('answers 403 to an identity with no access rule, whose token was issued all the same', async () => {
    const answer = await clusters(standIn, as('no-rules'))
    expect([answer.status, answer.body]).toEqual([403, { code: 403, message: 'You do not have sufficient permissions.' }])
  })

  it('lists each cluster with the fields it holds: a Disconnected one, one without a version, an upper-case UUID, names differing in case', async () => {
    const answer = await clusters(standIn, as('stand-in-client'))
    const listed = answer.body as Record<string, Json>[]
    expect(listed.map(({ uuid, name, version, status }) => ({ uuid, name, version, status }))).toEqual([
      { uuid: EAST, name: 'gpu-east', version: '2.24.3', status: { state: 'Connected' } },
      { uuid: 'B71E4F0A-2C93-4D58-A6E1-9F30C7D2B845', name: 'gpu-west', version: '2.23.5', status: { state: 'Disconnected' } },
      { uuid: uuidOf('edge-lab'), name: 'edge-lab', version: undefined, status: { state: 'WaitingToConnect' } },
      { uuid: uuidOf('staging'), name: 'staging', version: '2.21.2', status: { state: 'Connected' } },
      { uuid: uuidOf('Staging'), name: 'Staging', version: '2.21.2', status: { state: 'ServiceIssues' } }
    ])
    expect(listed.map((c) => 'version' in c)).toEqual([true, true, false, true, true])
    for (const cluster of listed) expect([cluster.tenantId, typeof cluster.createdAt]).toEqual([1001, 'string'])
  })

  it('answers the same with or without verbosity=metadata', async () => {
    const full = await call(standIn, 'GET', '/api/v1/clusters', as('stand-in-client'))
    expect(full.body).toEqual((await clusters(standIn, as('stand-in-client'))).body)
  })
})

describe('GET /api/v1/org-unit/projects', () => {
  it('finds a name in every cluster that has it, and only in one with clusterId (comma-joined, UUID in any case)', async () => {
    const everywhere = await projects(standIn, as('stand-in-client'), filter('name==team-a'))
    expect(everywhere.status).toBe(200)
    expect((everywhere.body as { projects: Json[] }).projects.map((p) => (p as { clusterId: string }).clusterId)).toEqual([EAST, WEST])
    expect(projectIds(everywhere)).toEqual(['101', '201'])
    const west = await projects(standIn, as('stand-in-client'), filter('name==team-a', `clusterId==${WEST.toLowerCase()}`))
    expect(west.body).toEqual({
      projects: [
        {
          id: '201',
          name: 'team-a',
          clusterId: WEST,
          parentId: '21',
          parent: { id: '21', name: 'research' },
          description: '',
          createdAt: '2025-01-15T09:30:00Z',
          updatedAt: '2025-01-15T09:30:00Z',
          status: { phase: 'Ready', namespace: 'runai-team-a' }
        }
      ]
    })
  })

  it('gives a department inside another with its parent', async () => {
    const answer = await projects(standIn, as('stand-in-client'), filter('name==team-a', `clusterId==${EAST}`))
    const [project] = (answer.body as { projects: Record<string, Json>[] }).projects
    expect([project?.parentId, project?.parent]).toEqual(['12', { id: '12', name: 'vision', parent: { id: '11', name: 'research' } }])
  })

  it.each([
    ['stand-in-client', ['101', '102', '103', '201', '301', '302', '401']],
    ['east-operator', ['101', '102', '103']],
    ['research-deployer', ['101', '102']], // 101 through vision, a department inside research
    ['team-a-deployer', ['101']],
    ['research-viewer', ['101', '102']]
  ])('%s sees the projects %j', async (identity, expected) => {
    expect(projectIds(await projects(standIn, as(identity)))).toEqual(expected)
  })

  it('answers 403 to an identity with no access rule', async () => {
    expect((await projects(standIn, as('no-rules'), filter('name==team-a'))).status).toBe(403)
  })

  it.each([
    ['name==Team-A', []],
    ['name=^team', ['101', '102', '201']],
    ['name!=team-a', ['102', '103', '301', '302', '401']],
    ['name=$-b', ['102']],
    ['name=@mok', ['301', '302']],
    ['name!@-', ['103', '301', '302']],
    ['departmentId==11', ['102']],
    ['parentName==qa', ['301', '302']]
  ])('filters by %s', async (term, expected) => {
    expect(projectIds(await projects(standIn, as('stand-in-client'), filter(term)))).toEqual(expected)
  })

  it.each([
    [
      'filterBy given twice (the exploded form)',
      `?filterBy=name==team-a&filterBy=clusterId==${EAST}`,
      'filterBy is given more than once; join the terms with commas (explode: false)'
    ],
    ['a term without an operator', filter('name:team-a'), 'filterBy term "name:team-a" is not <field><operator><value>'],
    ['an unknown field', filter('colour==red'), 'filterBy term "colour==red" is not <field><operator><value>'],
    ['limit 0', '?limit=0', 'limit must be an integer from 1 to 500'],
    ['a negative offset', '?offset=-1', 'offset must be a non-negative integer']
  ])('answers 400 to %s', async (_, query, details) => {
    const answer = await projects(standIn, as('stand-in-client'), query)
    expect([answer.status, answer.body]).toEqual([400, { code: 400, message: 'Bad request', details }])
  })

  it('pages with limit, offset and next', async () => {
    const first = await projects(standIn, as('stand-in-client'), '?limit=3')
    expect([projectIds(first), (first.body as { next?: number }).next]).toEqual([['101', '102', '103'], 3])
    const last = await projects(standIn, as('stand-in-client'), '?limit=3&offset=6')
    expect([projectIds(last), (last.body as { next?: number }).next]).toEqual([['401'], undefined])
  })
})

describe('POST /api/v1/authorization/permitted-scopes', () => {
  const none = { system: false, tenants: [], clusters: [], departments: [], projects: [] }
  it.each([
    ['stand-in-client', { ...none, tenants: ['1001'] }, { ...none, tenants: ['1001'] }],
    ['platform-operator', { ...none, system: true }, { ...none, system: true }],
    ['east-operator', { ...none, clusters: [EAST] }, { ...none, clusters: [EAST] }],
    ['research-deployer', { ...none, departments: ['11'] }, { ...none, departments: ['11'] }],
    ['team-a-deployer', { ...none, projects: ['101'] }, { ...none, projects: ['101'] }],
    ['research-viewer', none, { ...none, departments: ['11'] }],
    ['no-rules', none, none]
  ])('%s may create trainings in %j and read them in %j', async (identity, create, read) => {
    const answer = await scopes(standIn, as(identity))
    expect(answer.status).toBe(200)
    expect(answer.body).toEqual({ create, read, update: create, delete: create })
  })

  it('answers for the resource type asked about, whatever the action', async () => {
    const inferences = await scopes(standIn, as('research-deployer'), { resourceType: 'inferences', action: 'create' })
    expect(inferences.body).toMatchObject({ create: { departments: [] }, read: { departments: ['11'] } })
    const noAction = await scopes(standIn, as('research-deployer'), { resourceType: 'trainings' })
    expect(noAction.body).toEqual((await scopes(standIn, as('research-deployer'))).body)
  })

  it.each([
    ['a body that is not JSON', '{"resourceType": ', 'the body is not JSON'],
    ['an array', '[]', 'the body is not a JSON object'],
    ['no resource type', { action: 'create' }, 'resourceType is missing or malformed'],
    ['an unknown action', { resourceType: 'trainings', action: 'deploy' }, 'action must be one of create, read, update, delete']
  ])('answers 400 to %s', async (_, body, details) => {
    const answer = await scopes(standIn, as('stand-in-client'), body)
    expect([answer.status, answer.body]).toEqual([400, { code: 400, message: 'Bad request', details }])
  })
})

describe('switches', () => {
  const statuses = async (headers: Record<string, string>) => (await everyEndpoint(standIn, headers)).map((a) => a.status)

  it('lookupForbidden: 403 on the clusters and projects lookups (true), or on those named', async () => {
    standIn.setFaults({ deploy: { lookupForbidden: true } })
    const [clustersAnswer, ...rest] = await everyEndpoint(standIn, as('stand-in-client'))
    expect([clustersAnswer?.status, clustersAnswer?.body]).toEqual([403, { code: 403, message: 'You do not have sufficient permissions.' }])
    expect(rest.map((a) => a.status)).toEqual([403, 200])
    standIn.setFaults({ deploy: { lookupForbidden: ['permitted-scopes'] } })
    expect(await statuses(as('stand-in-client'))).toEqual([200, 200, 403])
  })

  it('lookupUnauthorized: 401 although the token is valid, as when a gateway drops Authorization', async () => {
    standIn.setFaults({ deploy: { lookupUnauthorized: true } })
    for (const answer of await everyEndpoint(standIn, as('stand-in-client')))
      expect([answer.status, answer.body]).toEqual([401, { code: 401, message: 'Unauthorized', details: 'no Authorization header' }])
    standIn.setFaults({ deploy: { lookupUnauthorized: ['projects'] } })
    expect(await statuses(as('stand-in-client'))).toEqual([200, 401, 200])
  })

  it('before218: 404 in plain text on all three, while tokens are still issued', async () => {
    standIn.setFaults({ deploy: { before218: true } })
    for (const answer of await everyEndpoint(standIn, as('stand-in-client')))
      expect([answer.status, answer.headers['content-type'], answer.text]).toEqual([404, 'text/plain', '404 page not found'])
    await expect(tokenFor(standIn, DEFAULT_CLIENT.id)).resolves.toMatch(/^ey/)
  })

  it('lookupFailure: 503 with Retry-After for the first N lookups, then answers', async () => {
    standIn.setFaults({ deploy: { lookupFailure: { status: 503, first: 2, retryAfterSeconds: 3 } } })
    const answers = [
      await clusters(standIn, as('stand-in-client')),
      await projects(standIn, as('stand-in-client')),
      await clusters(standIn, as('stand-in-client'))
    ]
    expect(answers.map((a) => [a.status, a.headers['retry-after']])).toEqual([
      [503, '3'],
      [503, '3'],
      [200, undefined]
    ])
    expect(answers[0]?.body).toEqual({ code: 503, message: 'Please try again in few minutes.' })
    // Setting the switches again counts from the start again.
    standIn.setFaults({ deploy: { lookupFailure: { status: 503, first: 1 } } })
    expect((await clusters(standIn, as('stand-in-client'))).status).toBe(503)
  })

  it('lookupFailure: 500 on the endpoints named only, without Retry-After unless given', async () => {
    standIn.setFaults({ deploy: { lookupFailure: { status: 500, on: ['permitted-scopes'] } } })
    const answers = await everyEndpoint(standIn, as('stand-in-client'))
    expect(answers.map((a) => a.status)).toEqual([200, 200, 500])
    expect([answers[2]?.body, answers[2]?.headers['retry-after']]).toEqual([
      { code: 500, message: 'An unexpected error occurred.' },
      undefined
    ])
  })

  it('projectIdAsNumber: project ids as JSON numbers', async () => {
    standIn.setFaults({ deploy: { projectIdAsNumber: true } })
    const answer = await projects(standIn, as('stand-in-client'), filter('name==team-a'))
    expect(projectIds(answer)).toEqual([101, 201])
    expect(answer.text).toContain('"id":101,')
  })

  it('omitClusterFields: version, status, or the state within status, left out of every cluster', async () => {
    const shapes = async (omitted: ('version' | 'status' | 'state')[]) => {
      standIn.setFaults({ deploy: { omitClusterFields: omitted } })
      const listed = (await clusters(standIn, as('stand-in-client'))).body as Record<string, Json>[]
      return new Set(listed.map((c) => JSON.stringify(['version' in c, c.status ?? 'no status'])))
    }
    expect(await shapes(['version'])).toEqual(
      new Set([
        '[false,{"state":"Connected"}]',
        '[false,{"state":"Disconnected"}]',
        '[false,{"state":"WaitingToConnect"}]',
        '[false,{"state":"ServiceIssues"}]'
      ])
    )
    expect(await shapes(['status'])).toEqual(new Set(['[true,"no status"]', '[false,"no status"]']))
    expect(await shapes(['state', 'version'])).toEqual(new Set(['[false,{}]']))
  })

  it('deprecatedTenant: the tenant in `tenant`, no `tenants`', async () => {
    standIn.setFaults({ deploy: { deprecatedTenant: true } })
    const answer = await scopes(standIn, as('stand-in-client'))
    expect((answer.body as Record<string, Json>).create).toEqual({
      system: false,
      tenant: '1001',
      clusters: [],
      departments: [],
      projects: []
    })
    expect((((await scopes(standIn, as('east-operator'))).body as Record<string, Json>).create as object) ?? {}).not.toHaveProperty(
      'tenant'
    )
  })

  it('omitEmptyScopes: empty lists and a false system left out', async () => {
    standIn.setFaults({ deploy: { omitEmptyScopes: true } })
    expect((await scopes(standIn, as('research-deployer'))).body).toEqual({
      create: { departments: ['11'] },
      read: { departments: ['11'] },
      update: { departments: ['11'] },
      delete: { departments: ['11'] }
    })
    expect((await scopes(standIn, as('no-rules'))).body).toEqual({ create: {}, read: {}, update: {}, delete: {} })
  })
})

describe('what the stand-in records', () => {
  it('each lookup with its endpoint, query as sent, identity and status; all on one kept-alive connection', async () => {
    const counted = await startStandIn({ clients: CLIENTS })
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    try {
      const token = await tokenFor(counted, 'team-a-deployer')
      const before = counted.connections
      const query = filter('name==team-a', `clusterId==${EAST}`)
      await clusters(counted, bearer(token), agent)
      await projects(counted, bearer(token), query, agent)
      await projects(counted, as('no-rules'), '', agent)
      expect(counted.connections - before).toBe(1)
      expect(counted.requests.map((r) => r.lookup ?? r.path)).toEqual([
        '/api/v2/token',
        { endpoint: 'clusters', query: 'verbosity=metadata', identity: 'team-a-deployer', status: 200 },
        { endpoint: 'projects', query: query.slice(1), identity: 'team-a-deployer', status: 200 },
        { endpoint: 'projects', query: '', identity: undefined, status: 401 } // as('no-rules') holds the shared stand-in's token
      ])
      expect(counted.requests[1]?.headers.authorization).toBe(`Bearer ${token}`)
    } finally {
      agent.destroy()
      await counted.close()
    }
  })

  it('serves other data when given, and leaves every other path as it was (404)', async () => {
    const only = { ...DEPLOY_DATA, clusters: [{ uuid: EAST, name: 'solo', version: '2.18.0', state: 'Unknown' }] }
    const custom = await startStandIn({ clients: CLIENTS, deployData: only })
    try {
      const answer = await clusters(custom, bearer(await tokenFor(custom, DEFAULT_CLIENT.id)))
      expect([names(answer), (answer.body as Record<string, Json>[])[0]?.status]).toEqual([['solo'], { state: 'Unknown' }])
      const wrongMethod = await call(custom, 'POST', '/api/v1/clusters', {})
      expect([wrongMethod.status, wrongMethod.text]).toEqual([404, '404 page not found'])
    } finally {
      await custom.close()
    }
  })
})
