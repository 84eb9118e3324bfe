/**
 * Issue 15 end to end: the bundle, run as the runner runs it, with `cluster`, `project`,
 * `permission` and `list-clusters` alone and together against the stand-in's deploy endpoints
 * (test-server/deploy-api.mjs), and against a hostile control plane. Outputs are compared with
 * what the stand-in holds (DEPLOY_DATA); connections and requests are counted from its records.
 */
import { describe, expect, it } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import { DEPLOY_CLIENTS, DEPLOY_DATA } from '../../test-server/deploy-api.mjs'
import { json, startHostileServer, type ScriptedAnswer } from '../../test-server/hostile-server.mjs'
import { MIB } from '../../test-server/pathological-text.mjs'
import { DEFAULT_CLIENT } from '../../test-server/runai-stand-in.mjs'
import { logSafetyProblems, matcherAnnotations } from '../../test-server/runner-log.mjs'
import { errorOf, leaksOf, runAction, serversClosedAfterEach, type ActionRun, type StandIn } from './harness.js'

const servers = serversClosedAfterEach()
const CLIENTS = [DEFAULT_CLIENT, ...DEPLOY_CLIENTS]
const secretOf = (id: string): string => CLIENTS.find((c) => c.id === id)?.secret ?? 'unknown'

type StandInOptions = Parameters<typeof servers.standIn>[0]

async function deploy(inputs: Record<string, string>, identity = DEFAULT_CLIENT.id, options: StandInOptions = {}) {
  const server = await servers.standIn({ clients: CLIENTS, ...options })
  const run = await runAction({ url: server.url, 'client-id': identity, 'client-secret': secretOf(identity), ...inputs })
  return { server, run }
}

const lookupsOf = (server: StandIn) => server.requests.flatMap((r) => (r.lookup === undefined ? [] : [r.lookup]))
const endpointsOf = (server: StandIn) => lookupsOf(server).map((l) => l.endpoint)

const plainOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)
type HeldCluster = (typeof DEPLOY_DATA.clusters)[number]
const held = (name: string): HeldCluster => {
  const found = DEPLOY_DATA.clusters.find((c) => c.name === name)
  if (found === undefined) throw new Error(`no cluster ${name} in DEPLOY_DATA`)
  return found
}
const entryOf = (c: HeldCluster) => ({ id: c.uuid, name: c.name, version: c.version ?? '', state: c.state ?? '' })
const ALL_CLUSTERS = [...DEPLOY_DATA.clusters].sort((a, b) => plainOrder(a.name, b.name)).map(entryOf)
const projectId = (name: string, cluster: string): string => {
  const found = DEPLOY_DATA.projects.find((p) => p.name === name && p.clusterId === held(cluster).uuid)
  if (found === undefined) throw new Error(`no project ${name} in ${cluster}`)
  return found.id
}
const clusterOutputs = (name: string) => {
  const c = held(name)
  return { 'cluster-id': c.uuid, 'cluster-name': c.name, 'cluster-version': c.version ?? '' }
}

/** A run that handed a token on, which travelled only in its add-mask line and in Authorization headers. */
function expectHandedOn(run: ActionRun, server: StandIn, identity = DEFAULT_CLIENT.id) {
  expect(errorOf(run)).toBe('')
  expect(run.exitCode).toBe(0)
  const token = run.outputs.token ?? ''
  expect(server.tokensIssued).toContain(token)
  expect(run.exported.RUNAI_TOKEN).toBe(token)
  expect(leaksOf(run, [secretOf(identity), ...server.tokensIssued])).toEqual([])
  expectTokenOnlyInAuthorization(server, token)
}

function expectTokenOnlyInAuthorization(server: StandIn, token: string) {
  for (const request of server.requests) {
    const { authorization, ...headers } = request.headers
    expect(JSON.stringify([request.path, request.body, headers, request.lookup?.query ?? ''])).not.toContain(token)
    if (request.lookup !== undefined) expect(authorization).toBe(`Bearer ${token}`)
  }
}

/** A failed run: exit 1, no token output, no variable. */
function expectNothingHandedOn(run: ActionRun) {
  expect(run.exitCode).toBe(1)
  expect(run.outputs.token).toBeUndefined()
  expect(run.exported).toEqual({})
}

const deployOutputs = (run: ActionRun) =>
  Object.fromEntries(
    Object.entries(run.outputs).filter(([name]) =>
      ['cluster-id', 'cluster-name', 'cluster-version', 'project-id', 'clusters'].includes(name)
    )
  )

describe('each input alone and together, outputs as the stand-in holds them', () => {
  it('no deploy input: the token request alone, no deploy output', async () => {
    const { server, run } = await deploy({})
    expectHandedOn(run, server)
    expect(deployOutputs(run)).toEqual({})
    expect(server.requests.map((r) => r.path)).toEqual(['/api/v2/token'])
  })

  it('cluster by name: its id, name and version, and every cluster it sees sorted by name in plain string order', async () => {
    const { server, run } = await deploy({ cluster: 'gpu-east' })
    expectHandedOn(run, server)
    expect(deployOutputs(run)).toEqual({ ...clusterOutputs('gpu-east'), clusters: JSON.stringify(ALL_CLUSTERS) })
    expect(ALL_CLUSTERS.map((c) => c.name)).toEqual(['Staging', 'edge-lab', 'gpu-east', 'gpu-west', 'staging'])
    expect(endpointsOf(server)).toEqual(['clusters'])
    expect(lookupsOf(server)[0]?.query).toBe('verbosity=metadata')
    expect(server.connections).toBe(1)
    expect(run.stdout).toContain(`Deploying to cluster gpu-east (${held('gpu-east').uuid}).`)
  })

  it('cluster by UUID in another case: matched, and cluster-id is the server’s value as given', async () => {
    const west = held('gpu-west').uuid
    expect(west).not.toBe(west.toLowerCase())
    const { server, run } = await deploy({ cluster: west.toLowerCase() })
    expectHandedOn(run, server)
    expect(run.outputs['cluster-id']).toBe(west)
  })

  it('a Disconnected cluster: a warning naming the state, and still a token', async () => {
    const { server, run } = await deploy({ cluster: 'gpu-west' })
    expectHandedOn(run, server)
    expect(run.stdout).toContain(
      '::warning::Cluster gpu-west is Disconnected, not Connected: a deploy to it may wait in a queue until it connects.'
    )
    expect(deployOutputs(run)).toMatchObject(clusterOutputs('gpu-west'))
  })

  it('a Connected cluster: no warning', async () => {
    const { run } = await deploy({ cluster: 'staging' })
    expect(run.stdout).not.toContain('::warning::')
  })

  it('project alone, unique across clusters: project-id and the cluster it is in', async () => {
    const { server, run } = await deploy({ project: 'serving' })
    expectHandedOn(run, server)
    expect(deployOutputs(run)).toEqual({
      ...clusterOutputs('gpu-east'),
      'project-id': projectId('serving', 'gpu-east'),
      clusters: JSON.stringify(ALL_CLUSTERS)
    })
    expect(lookupsOf(server).map((l) => [l.endpoint, l.query])).toEqual([
      ['clusters', 'verbosity=metadata'],
      ['projects', `filterBy=${encodeURIComponent('name==serving')}&limit=500`]
    ])
  })

  it('permission alone: one permitted-scopes request, checked anywhere; no cluster looked up', async () => {
    const { server, run } = await deploy({ permission: 'create trainings' }, 'research-deployer')
    expectHandedOn(run, server, 'research-deployer')
    expect(deployOutputs(run)).toEqual({})
    expect(endpointsOf(server)).toEqual(['permitted-scopes'])
    expect(JSON.parse(server.requests[1]?.body ?? '')).toEqual({ resourceType: 'trainings', action: 'create' })
    expect(run.stdout).toContain('It may create trainings there.')
  })

  it('list-clusters alone: the clusters output, nothing chosen', async () => {
    const { server, run } = await deploy({ 'list-clusters': 'true' }, 'east-operator')
    expectHandedOn(run, server, 'east-operator')
    expect(deployOutputs(run)).toEqual({ clusters: JSON.stringify([entryOf(held('gpu-east'))]) })
    expect(run.stdout).toContain('It sees 1 cluster(s): output `clusters`.')
  })

  it('all together: one connection, one permitted-scopes request per distinct resource type, filterBy comma-joined', async () => {
    const { server, run } = await deploy(
      {
        cluster: 'gpu-east',
        project: 'team-a',
        permission: 'create trainings, read trainings, delete trainings, create workspaces',
        'list-clusters': 'true'
      },
      'research-deployer'
    )
    expectHandedOn(run, server, 'research-deployer')
    expect(deployOutputs(run)).toEqual({
      ...clusterOutputs('gpu-east'),
      'project-id': projectId('team-a', 'gpu-east'),
      clusters: JSON.stringify([entryOf(held('gpu-east'))])
    })
    const east = held('gpu-east').uuid
    expect(lookupsOf(server).map((l) => [l.endpoint, l.query, l.identity, l.status])).toEqual([
      ['clusters', 'verbosity=metadata', 'research-deployer', 200],
      ['projects', `filterBy=${encodeURIComponent(`name==team-a,clusterId==${east}`)}&limit=500`, 'research-deployer', 200],
      ['permitted-scopes', '', 'research-deployer', 200],
      ['permitted-scopes', '', 'research-deployer', 200]
    ])
    expect(server.requests.filter((r) => r.lookup?.endpoint === 'permitted-scopes').map((r) => JSON.parse(r.body))).toEqual([
      // Several actions for trainings: asked without one, so that the answer holds them all.
      { resourceType: 'trainings' },
      { resourceType: 'workspaces', action: 'create' }
    ])
    expect(server.connections).toBe(1)
  })

  it.each([
    ['the tenant', DEFAULT_CLIENT.id, {}],
    ['the deprecated `tenant`', DEFAULT_CLIENT.id, { deprecatedTenant: true }],
    ['system scope', 'platform-operator', {}],
    ['its cluster', 'east-operator', {}],
    ['a department above the project’s (nested `parent`)', 'research-deployer', {}],
    ['the project itself', 'team-a-deployer', {}],
    ['the project itself, empty scopes left out', 'team-a-deployer', { omitEmptyScopes: true }]
  ])('permission allowed through %s', async (_, identity, faults) => {
    const { server, run } = await deploy({ cluster: 'gpu-east', project: 'team-a', permission: 'create trainings' }, identity, {
      faults: { deploy: faults }
    })
    expectHandedOn(run, server, identity)
    expect(run.outputs['project-id']).toBe(projectId('team-a', 'gpu-east'))
  })

  it('permission with cluster alone: allowed through a project within that cluster', async () => {
    const { server, run } = await deploy({ cluster: 'gpu-east', permission: 'create trainings' }, 'team-a-deployer')
    expectHandedOn(run, server, 'team-a-deployer')
    expect(server.connections).toBe(1)
  })

  it('a project id sent as a number is output as a string', async () => {
    const { server, run } = await deploy({ cluster: 'gpu-east', project: 'team-b' }, DEFAULT_CLIENT.id, {
      faults: { deploy: { projectIdAsNumber: true } }
    })
    expectHandedOn(run, server)
    expect(run.outputs['project-id']).toBe('102')
  })

  it.each([[['version', 'status']], [['version', 'state']]] as const)(
    'a cluster without %j: "" in the outputs and in `clusters`',
    async (omit) => {
      const { server, run } = await deploy({ cluster: 'gpu-east' }, DEFAULT_CLIENT.id, {
        faults: { deploy: { omitClusterFields: [...omit] } }
      })
      expectHandedOn(run, server)
      expect(run.outputs['cluster-version']).toBe('')
      expect(JSON.parse(run.outputs.clusters ?? '')).toEqual(ALL_CLUSTERS.map((c) => ({ ...c, version: '', state: '' })))
      expect(run.stdout).toContain('::warning::Cluster gpu-east is in a state the control plane did not name, not Connected')
    }
  )

  it('a cluster the stand-in holds without a version (edge-lab): "" in cluster-version', async () => {
    const { run } = await deploy({ cluster: 'edge-lab' })
    expect(deployOutputs(run)).toMatchObject(clusterOutputs('edge-lab'))
    expect(run.outputs['cluster-version']).toBe('')
  })
})

describe('failures say what to do, and hand nothing on', () => {
  it('403 on the clusters lookup: names the identity and where to add an access rule; not retried', async () => {
    const { server, run } = await deploy({ cluster: 'gpu-east' }, 'no-rules')
    expectNothingHandedOn(run)
    expect(errorOf(run)).toBe(
      `GET ${server.url}/api/v1/clusters answered HTTP 403: You do not have sufficient permissions. The identity no-rules has no access rule that lets it read the clusters. In the Run:ai UI, open Access → Access rules and add one for it, with a role that can view the clusters, scoped to the cluster or project it deploys to.`
    )
    expect(endpointsOf(server)).toEqual(['clusters'])
  })

  it('403 on the projects lookup (lookupForbidden)', async () => {
    const { server, run } = await deploy({ project: 'team-a' }, DEFAULT_CLIENT.id, {
      faults: { deploy: { lookupForbidden: ['projects'] } }
    })
    expectNothingHandedOn(run)
    expect(errorOf(run)).toContain(
      `GET ${server.url}/api/v1/org-unit/projects answered HTTP 403: You do not have sufficient permissions. The identity stand-in-client has no access rule that lets it read the projects.`
    )
  })

  it.each([
    ['clusters', { cluster: 'gpu-east' }, '/api/v1/clusters'],
    ['permitted-scopes', { permission: 'create trainings' }, '/api/v1/authorization/permitted-scopes']
  ] as const)('401 on %s (a gateway drops Authorization): said so, not retried', async (endpoint, inputs, path) => {
    const { server, run } = await deploy(inputs, DEFAULT_CLIENT.id, { faults: { deploy: { lookupUnauthorized: [endpoint] } } })
    expectNothingHandedOn(run)
    const method = endpoint === 'clusters' ? 'GET' : 'POST'
    expect(errorOf(run)).toBe(
      `${method} ${server.url}${path} answered HTTP 401: Unauthorized. The control plane did not accept the token it had just issued: a gateway or proxy in front of it may drop the Authorization header. Check with whoever runs it.`
    )
    expect(endpointsOf(server)).toEqual([endpoint])
  })

  it('404 before 2.18: the control plane predates these endpoints', async () => {
    const { server, run } = await deploy({ 'list-clusters': 'true' }, DEFAULT_CLIENT.id, { faults: { deploy: { before218: true } } })
    expectNothingHandedOn(run)
    expect(errorOf(run)).toBe(
      `GET ${server.url}/api/v1/clusters answered HTTP 404. This control plane predates the clusters and projects API (Run:ai 2.18): leave \`cluster\`, \`project\`, \`permission\` and \`list-clusters\` empty against it.`
    )
  })

  it('a missing cluster: the names it sees, sorted', async () => {
    const { run } = await deploy({ cluster: 'gpu-north' })
    expectNothingHandedOn(run)
    expect(errorOf(run)).toBe(
      'No cluster "gpu-north" among the clusters this identity sees: Staging, edge-lab, gpu-east, gpu-west, staging. Set `cluster` to one of them (a name or a UUID), or add an access rule for the cluster.'
    )
  })

  it.each([
    ['GPU-East', 'gpu-east'],
    ['STAGING', 'Staging, staging']
  ])('a cluster name that differs only in case (%s): suggested', async (wanted, suggested) => {
    const { run } = await deploy({ cluster: wanted })
    expectNothingHandedOn(run)
    expect(errorOf(run)).toContain(`. Names differ in case: did you mean ${suggested}? Set \`cluster\``)
  })

  it('a missing project in a cluster: the projects it sees there, sorted; a case-only match suggested', async () => {
    const { run } = await deploy({ cluster: 'gpu-east', project: 'Team-A' })
    expectNothingHandedOn(run)
    expect(errorOf(run)).toBe(
      'No project "Team-A" in cluster gpu-east; the projects this identity sees there: serving, team-a, team-b. Names differ in case: did you mean team-a? Set `project` to one of them, or add an access rule for the project.'
    )
  })

  it('a project the identity cannot see', async () => {
    const { run } = await deploy({ project: 'serving' }, 'research-deployer')
    expectNothingHandedOn(run)
    expect(errorOf(run)).toBe(
      'No project "serving" in the clusters this identity sees; the projects this identity sees there: team-a, team-b. Set `project` to one of them, or add an access rule for the project.'
    )
  })

  it('an ambiguous project without `cluster`: the clusters it is in', async () => {
    const { run } = await deploy({ project: 'smoke' })
    expectNothingHandedOn(run)
    expect(errorOf(run)).toBe('Project "smoke" is in 2 clusters: Staging, staging. Set `cluster` to the one to deploy to.')
  })

  it('a missing permission: action, resource type, scope checked, and where it does have it', async () => {
    const { run } = await deploy(
      { cluster: 'gpu-east', project: 'team-a', permission: 'read trainings, create trainings' },
      'research-viewer'
    )
    expectNothingHandedOn(run)
    expect(errorOf(run)).toBe(
      'The identity research-viewer may not create trainings in project team-a (id 101) in cluster gpu-east: no access rule allows it there; it may do that nowhere. In the Run:ai UI, open Access → Access rules and give it a role that can create trainings, scoped to the project or cluster it deploys to.'
    )
  })

  it('a permission held elsewhere only: lists where', async () => {
    const { run } = await deploy({ cluster: 'gpu-west', permission: 'create trainings' }, 'east-operator', {
      deployData: {
        ...DEPLOY_DATA,
        accessRules: {
          ...DEPLOY_DATA.accessRules,
          'east-operator': [
            ...(DEPLOY_DATA.accessRules['east-operator'] ?? []),
            { role: 'viewer', scope: { type: 'cluster', id: held('gpu-west').uuid } }
          ]
        }
      }
    })
    expectNothingHandedOn(run)
    expect(errorOf(run)).toBe(
      `The identity east-operator may not create trainings in cluster gpu-west: no access rule allows it there; it may do that in clusters gpu-east. In the Run:ai UI, open Access → Access rules and give it a role that can create trainings, scoped to the project or cluster it deploys to.`
    )
  })

  it('no permission anywhere, with neither cluster nor project', async () => {
    const { run } = await deploy({ permission: 'delete inferences' }, 'research-deployer')
    expectNothingHandedOn(run)
    expect(errorOf(run)).toContain(
      'The identity research-deployer may not delete inferences anywhere: no access rule allows it there; it may do that nowhere.'
    )
  })

  it('lists of more than 20 names: the first 20 sorted, and how many more', async () => {
    const many = Array.from({ length: 25 }, (_, i) => ({
      uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      name: `c-${String(25 - i).padStart(2, '0')}`,
      version: '2.24.0',
      state: 'Connected'
    }))
    const { run } = await deploy({ cluster: 'c-99' }, DEFAULT_CLIENT.id, { deployData: { ...DEPLOY_DATA, clusters: many, projects: [] } })
    expectNothingHandedOn(run)
    const first20 = Array.from({ length: 20 }, (_, i) => `c-${String(i + 1).padStart(2, '0')}`)
    expect(errorOf(run)).toBe(
      `No cluster "c-99" among the clusters this identity sees: ${first20.join(', ')} and 5 more. Set \`cluster\` to one of them (a name or a UUID), or add an access rule for the cluster.`
    )
  })
})

describe('retries on lookups', () => {
  it('a 500 on the clusters lookup is retried on the same connection', async () => {
    const { server, run } = await deploy({ cluster: 'gpu-east' }, DEFAULT_CLIENT.id, {
      faults: { deploy: { lookupFailure: { status: 500, first: 1 } } }
    })
    expectHandedOn(run, server)
    expect(lookupsOf(server).map((l) => [l.endpoint, l.status])).toEqual([
      ['clusters', 500],
      ['clusters', 200]
    ])
    expect(run.stdout).toMatch(
      new RegExp(`Attempt 1 of 5 at GET ${server.url}/api/v1/clusters failed with HTTP 500. Trying again in \\d+\\.\\d s.`)
    )
    expect(server.connections).toBe(1)
  })

  it('a 503 with Retry-After on permitted-scopes is waited out', async () => {
    const { server, run } = await deploy({ permission: 'create trainings' }, DEFAULT_CLIENT.id, {
      faults: { deploy: { lookupFailure: { status: 503, first: 1, retryAfterSeconds: 1, on: ['permitted-scopes'] } } }
    })
    expectHandedOn(run, server)
    const scopes = server.requests.filter((r) => r.lookup?.endpoint === 'permitted-scopes')
    expect(scopes.map((r) => r.lookup?.status)).toEqual([503, 200])
    expect((scopes[1]?.at ?? 0) - (scopes[0]?.at ?? 0)).toBeGreaterThanOrEqual(1000)
  })

  it('a kept-alive connection the server dropped before a lookup: replaced at once, without spending an attempt', async () => {
    const { server, run } = await deploy({ cluster: 'gpu-east', 'max-attempts': '1' }, DEFAULT_CLIENT.id, { faults: { resetReused: true } })
    expectHandedOn(run, server)
    expect(server.requests.map((r) => r.lookup?.status ?? r.path)).toEqual(['/api/v2/token', '/api/v1/clusters', 200])
    expect(server.connections).toBe(2)
  })

  it('a 500 that keeps coming: gives up after max-attempts, with the lookup named', async () => {
    const { server, run } = await deploy({ cluster: 'gpu-east', 'max-attempts': '2' }, DEFAULT_CLIENT.id, {
      faults: { deploy: { lookupFailure: { status: 500 } } }
    })
    expectNothingHandedOn(run)
    expect(errorOf(run)).toMatch(
      new RegExp(
        `^Could not look up the clusters from GET ${server.url}/api/v1/clusters after 2 attempt\\(s\\) in \\d+ s; the last one failed with HTTP 500: An unexpected error occurred. The control plane may be down or overloaded; try again later, or raise \`max-attempts\`.$`
      )
    )
  })
})

// ---------------------------------------------------------------------------------------------
// A hostile control plane: a token first, then lookups answered with whatever it likes
// ---------------------------------------------------------------------------------------------

const SECRET = 'fake-Hd7Kq2-secret-Wr5Xp9'
const CLIENT = 'fake-deploy-hostile-client'
const EAST = '3f9a1c52-7d4e-4b8a-9c61-2e5f0a7b8d13'

function jwt(): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
  return `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ sub: CLIENT, exp: Math.floor(Date.now() / 1000) + 3600 })}.${randomBytes(24).toString('base64url')}`
}

const EVIL = [
  '::error::evil',
  '##[set-output name=token;]evil',
  '::set-env name=NODE_OPTIONS::--require /tmp/evil.js',
  'line\nbreak',
  'carriage\rreturn',
  'esc\u001b[31mred',
  'nul\u0000byte',
  '::stop-commands::resume-me'
]

type Lookup = (path: string, token: string) => ScriptedAnswer

async function hostileRun(inputs: Record<string, string>, lookup: Lookup) {
  const token = jwt()
  // The token request first, then every lookup answered by `lookup`, by path.
  const lookups = Array.from({ length: 12 }, () => (request: { path: string }) => lookup(request.path, token))
  const server = servers.track(
    await startHostileServer({ answers: [json(200, { access_token: token, token_type: 'Bearer', expires_in: 3600 }), ...lookups] })
  )
  const run = await runAction({ url: server.url, 'client-id': CLIENT, 'client-secret': SECRET, 'api-version': 'v2', ...inputs })
  return { server, run, token }
}

/** Every outcome defined: exit 0 or 1 with one error; safe log; valid outputs only. */
function expectDefined(run: ActionRun, token: string, serverTexts: string[]) {
  expect([0, 1]).toContain(run.exitCode)
  expect(logSafetyProblems(run.stdout, { masked: [SECRET, token], stderr: run.stderr, serverTexts })).toEqual([])
  expect(matcherAnnotations(run.stdout, { stderr: run.stderr })).toEqual([])
  expect(run.stdout).not.toContain('failed unexpectedly')
  if (run.exitCode === 1) expectNothingHandedOn(run)
  const { outputs } = run
  if (outputs['cluster-id'] !== undefined)
    expect(outputs['cluster-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i)
  for (const name of ['cluster-name', 'cluster-version', 'project-id'])
    if (outputs[name] !== undefined) expect(outputs[name]).toMatch(/^[\x20-\x7e]{0,253}$/)
  if (outputs.clusters !== undefined) {
    const listed = JSON.parse(outputs.clusters) as Record<string, string>[]
    expect(listed.length).toBeLessThanOrEqual(256)
    for (const c of listed) {
      expect(Object.keys(c)).toEqual(['id', 'name', 'version', 'state'])
      for (const v of Object.values(c)) expect(v).toMatch(/^[\x20-\x7e]{0,253}$/)
    }
  }
}

const cluster = (overrides: Record<string, unknown> = {}) => ({
  uuid: EAST,
  name: 'gpu-east',
  version: '2.24.3',
  status: { state: 'Connected' },
  ...overrides
})
const byPath =
  (answers: { clusters?: unknown; projects?: unknown; scopes?: unknown }): Lookup =>
  (path) =>
    path === '/api/v1/clusters'
      ? json(200, 'clusters' in answers ? answers.clusters : [cluster()])
      : path === '/api/v1/org-unit/projects'
        ? json(200, answers.projects ?? { projects: [{ id: '7', name: 'team-a', clusterId: EAST, parentId: '3' }] })
        : json(200, answers.scopes ?? { create: { system: true } })
const ALL = { cluster: 'gpu-east', project: 'team-a', permission: 'create trainings', 'list-clusters': 'true' }

describe('hostile lookup answers: every outcome defined, nothing reaches the log as a command or an output unchecked', () => {
  it('a well-formed hostile server: the outputs it sent, the token only in Authorization', async () => {
    const { server, run, token } = await hostileRun(ALL, byPath({}))
    expectDefined(run, token, [])
    expect(run.exitCode).toBe(0)
    expect(deployOutputs(run)).toEqual({
      'cluster-id': EAST,
      'cluster-name': 'gpu-east',
      'cluster-version': '2.24.3',
      'project-id': '7',
      clusters: JSON.stringify([{ id: EAST, name: 'gpu-east', version: '2.24.3', state: 'Connected' }])
    })
    expect(server.requests.slice(1).map((r) => r.headers.authorization)).toEqual(Array(3).fill(`Bearer ${token}`))
  })

  it.each([
    ['clusters not an array', { clusters: { clusters: [cluster()] } }],
    ['clusters null', { clusters: null }],
    ['wrong types in a cluster', { clusters: [cluster({ uuid: 42 }), cluster({ name: { x: 1 } }), cluster({ name: ['gpu-east'] })] }],
    ['an invalid uuid', { clusters: [cluster({ uuid: 'not-a-uuid' })] }],
    ['projects not a list', { projects: { projects: 'team-a' } }],
    [
      'project ids not ids',
      {
        projects: {
          projects: [
            { id: -1, name: 'team-a', clusterId: EAST },
            { id: 1.5, name: 'team-a', clusterId: EAST },
            { id: 'a b', name: 'team-a', clusterId: EAST },
            { id: 1e300, name: 'team-a', clusterId: EAST }
          ]
        }
      }
    ],
    [
      'scopes of the wrong types',
      { scopes: { create: { system: 'true', tenants: 'all', tenant: {}, clusters: EAST, projects: [8, null, {}] } } }
    ],
    ['scopes an array', { scopes: [] }]
  ])('%s: a defined failure, with a message in the action’s words', async (_, answers) => {
    const { run, token } = await hostileRun(ALL, byPath(answers))
    expectDefined(run, token, [])
    expect(run.exitCode).toBe(1)
    expect(errorOf(run)).toMatch(
      /^(No cluster "gpu-east"|No project "team-a"|The identity fake-deploy-hostile-client may not create trainings|GET \/api\/v1\/(clusters|org-unit\/projects) at .+ answered HTTP 200 with something that is not a list of (clusters|projects))/
    )
  })

  it('odd but valid values: a numeric project id, a version that is not one, a state that is not a word', async () => {
    const { run, token } = await hostileRun(
      ALL,
      byPath({
        clusters: [cluster({ version: '2.24\n::error::x', status: { state: 'Connected\n::error::x' } })],
        projects: {
          projects: [
            { id: 7, name: 'team-a', clusterId: EAST.toUpperCase(), parentId: 3, parent: { id: 3, parent: { id: '2', parent: 'x' } } }
          ]
        },
        scopes: { create: { departments: ['2'] } }
      })
    )
    expectDefined(run, token, ['::error::x'])
    expect(run.exitCode).toBe(0)
    expect(deployOutputs(run)).toMatchObject({ 'cluster-version': '', 'project-id': '7' })
    expect(JSON.parse(run.outputs.clusters ?? '')).toEqual([{ id: EAST, name: 'gpu-east', version: '', state: '' }])
  })

  it('names with commands, newlines and control characters: never a command, never an output', async () => {
    const clusters = EVIL.map((name, i) => cluster({ uuid: EAST.replace(/.{2}$/, String(10 + i)), name }))
    const { run, token } = await hostileRun({ cluster: 'gpu-north', 'list-clusters': 'true' }, byPath({ clusters }))
    expectDefined(run, token, EVIL)
    expect(run.exitCode).toBe(1)
    // Only the printable ones are names; the others were left out.
    expect(errorOf(run)).toContain('No cluster "gpu-north" among the clusters this identity sees: ')
    for (const control of ['\r', '\n', '\u0000', '\u001b']) expect(errorOf(run)).not.toContain(control)
  })

  it('a cluster named like a command, chosen: in the outputs as data, in the log neutralised', async () => {
    const name = '::set-output name=token::evil'
    const { run, token } = await hostileRun({ cluster: name }, byPath({ clusters: [cluster({ name, status: { state: 'Disconnected' } })] }))
    expectDefined(run, token, [])
    expect(run.exitCode).toBe(0)
    expect(run.outputs['cluster-name']).toBe(name)
    expect(run.outputs.token).toBe(token)
  })

  it('a huge array of clusters: `clusters` bounded at 256, names in messages at 20', async () => {
    const many = Array.from({ length: 6000 }, (_, i) => ({
      uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      name: `c${String(i).padStart(5, '0')}`
    }))
    const { run, token } = await hostileRun({ cluster: 'c00001', 'list-clusters': 'true' }, byPath({ clusters: many }))
    expectDefined(run, token, [])
    expect(run.exitCode).toBe(0)
    expect(JSON.parse(run.outputs.clusters ?? '')).toHaveLength(256)
    expect(run.stdout).toContain('::warning::The identity sees 6000 clusters; the `clusters` output holds the first 256 by name.')
  })

  it('an answer over 1 MiB: refused as the token answer would be', async () => {
    const { run, token } = await hostileRun({ cluster: 'gpu-east' }, () => json(200, [cluster({ padding: 'x'.repeat(MIB) })]))
    expectDefined(run, token, [])
    expect(run.exitCode).toBe(1)
    expect(errorOf(run)).toContain('larger than 1 MiB')
  })

  it('deep JSON: a defined failure or success, no crash', async () => {
    const depth = 200_000
    const { run, token } = await hostileRun({ cluster: 'gpu-east' }, () => ({
      status: 200,
      headers: { 'Content-Type': 'application/json' },
      body: `${'['.repeat(depth)}${']'.repeat(depth)}`
    }))
    expectDefined(run, token, [])
    expect(run.exitCode).toBe(1)
    expect(errorOf(run)).toBe(
      'No cluster "gpu-east" among the clusters this identity sees: it sees none. Set `cluster` to one of them (a name or a UUID), or add an access rule for the cluster.'
    )
  })

  it('a body that is not JSON', async () => {
    const { server, run, token } = await hostileRun({ cluster: 'gpu-east' }, () => ({ status: 200, body: '<html>::error::x</html>' }))
    expectDefined(run, token, ['::error::x'])
    expect(errorOf(run)).toBe(
      `GET ${server.url}/api/v1/clusters answered HTTP 200 with a body that is not JSON; check that \`url\` is the Run:ai control plane.`
    )
  })

  it.each(EVIL.map((text) => [JSON.stringify(text), text]))('a 403 whose message is %s: quoted, neutralised', async (_, text) => {
    const { run, token } = await hostileRun({ cluster: 'gpu-east' }, () => json(403, { message: text }))
    expectDefined(run, token, [text])
    expect(run.exitCode).toBe(1)
    expect(errorOf(run)).toContain('The identity fake-deploy-hostile-client has no access rule that lets it read the clusters.')
  })

  it('a 403 that quotes the token: redacted', async () => {
    const { run, token } = await hostileRun({ cluster: 'gpu-east' }, (_, t) => json(403, { message: `your token ${t} is not allowed` }))
    expectDefined(run, token, [])
    expect(errorOf(run)).toContain('your token *** is not allowed')
  })

  it('a redirect on a lookup: not followed, the token stays here', async () => {
    const { server, run, token } = await hostileRun({ cluster: 'gpu-east' }, () => ({
      status: 302,
      headers: { Location: 'http://127.0.0.1:9/steal' }
    }))
    expectDefined(run, token, [])
    expect(run.exitCode).toBe(1)
    expect(errorOf(run)).toContain('a redirect. Redirects are not followed because the request carries the token.')
    expect(server.requests).toHaveLength(2)
  })
})
