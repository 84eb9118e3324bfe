// The deploy-context endpoints of the stand-in Run:ai control plane (issue 15): the clusters an
// identity can see, its projects, and where it may do an action on a resource type. The data and
// the access rules are the stand-in's own; the shapes follow the project's OpenAPI description
// (test-server/openapi/runai-api.json, tag `deploy-context`). runai-stand-in.mjs hands every
// request for these paths to `deployApi(...).answer`. Plain Node, no dependencies.

/** @typedef {'clusters'|'projects'|'permitted-scopes'} DeployEndpoint */
/**
 * What the stand-in's record of a deploy request adds: the endpoint, the query string as received,
 * the identity its token names (once the token passed the check) and the status answered.
 * @typedef {{endpoint: DeployEndpoint, query: string, identity: string|undefined, status: number}} Lookup
 */

/** The paths served here, by the name the switches use. */
export const DEPLOY_ENDPOINTS = /** @type {const} */ ({
  clusters: { method: 'GET', path: '/api/v1/clusters' },
  projects: { method: 'GET', path: '/api/v1/org-unit/projects' },
  'permitted-scopes': { method: 'POST', path: '/api/v1/authorization/permitted-scopes' }
})

/**
 * Switches for the deploy endpoints, under `faults.deploy` of the stand-in (see Faults there).
 * @typedef {object} DeployFaults
 * @property {true|DeployEndpoint[]} [lookupForbidden]    403 on these lookups (true: clusters and projects), whoever asks
 * @property {true|DeployEndpoint[]} [lookupUnauthorized] 401 on these (true: all three) although the token is valid,
 *                                                        as behind a gateway that drops `Authorization`
 * @property {boolean} [before218]           404 with a plain-text body on all three, as a control plane that predates them
 * @property {{status: 500|503, first?: number, on?: DeployEndpoint[], retryAfterSeconds?: number}} [lookupFailure]
 *   answer lookups with `status` (only the first N lookups with `first`; only on the endpoints in `on`), with
 *   `Retry-After: retryAfterSeconds` when given
 * @property {boolean} [projectIdAsNumber]   send each project's `id` as a JSON number (the published example is one)
 * @property {('version'|'status'|'state')[]} [omitClusterFields]  leave these out of every cluster (`state`: keep
 *                                           `status` but without its `state`)
 * @property {boolean} [deprecatedTenant]    in permitted scopes, name the tenant in the deprecated `tenant` string
 *                                           instead of the `tenants` array
 * @property {boolean} [omitEmptyScopes]     in permitted scopes, leave out empty lists and a false `system`
 */

/**
 * @typedef {{id: string, name: string, clusterId: string, parentId: string|null}} Department
 *   `parentId`: the department above it, or null under the cluster
 * @typedef {{id: string, name: string, clusterId: string, parentId: string}} Project  `parentId`: its department
 * @typedef {{uuid: string, name: string, version?: string, state?: string}} Cluster
 * @typedef {{role: keyof typeof ROLES, scope: {type: 'system'} | {type: 'tenant', id: string} | {type: 'cluster'|'department'|'project', id: string}}} AccessRule
 * @typedef {{tenantId: number, clusters: Cluster[], departments: Department[], projects: Project[], accessRules: Record<string, AccessRule[]>}} DeployData
 */

/**
 * What each role lets its holder do: `<action> <resource type>` entries, `*` for any. The role
 * names are the stand-in's; which permissions Run:ai's own roles carry is not in the excerpts.
 */
export const ROLES = {
  administrator: ['*'],
  // Deploys trainings and workspaces, reads inferences.
  researcher: [
    'read cluster',
    'read project',
    'read department',
    ...['workloads', 'trainings', 'workspaces'].flatMap((type) =>
      ['create', 'read', 'update', 'delete'].map((action) => `${action} ${type}`)
    ),
    'read inferences'
  ],
  // Looks, deploys nothing.
  viewer: ['read cluster', 'read project', 'read department', 'read workloads', 'read trainings', 'read workspaces', 'read inferences']
}

// Client IDs with no run of 8 characters in common with their secrets (the action hides such runs).
/** The identities of DEPLOY_DATA that are not DEFAULT_CLIENT, to pass as the stand-in's `clients`. */
export const DEPLOY_CLIENTS = [
  { id: 'platform-operator', secret: 'po-secret-not-real-1' },
  { id: 'east-operator', secret: 'eo-secret-not-real-2' },
  { id: 'research-deployer', secret: 'rd-secret-not-real-3' },
  { id: 'team-a-deployer', secret: 'ta-secret-not-real-4' },
  { id: 'research-viewer', secret: 'rv-secret-not-real-5' },
  { id: 'no-rules', secret: 'nr-secret-not-real-6' }
]

const C = {
  east: '3f9a1c52-7d4e-4b8a-9c61-2e5f0a7b8d13',
  // Upper case, as the published example of a cluster writes its UUID: the action must keep it as given.
  west: 'B71E4F0A-2C93-4D58-A6E1-9F30C7D2B845',
  edge: '0c4d8e21-95ab-4f3c-8e7d-61a2b9f04c77',
  staging: 'a2e6f913-4b07-4c8d-b1f5-7d39e08c2a64',
  stagingUpper: 'd85b0c3e-61f2-4a97-8e40-c1f7a92d5b08'
}

/**
 * The stand-in's own organisation. Cases it holds: a Disconnected cluster (gpu-west), one with no
 * version yet (edge-lab), two names that differ only in case (staging, Staging), the same project
 * name in two clusters (team-a), a department inside another (vision in research), a cluster
 * UUID in upper case.
 * @type {DeployData}
 */
export const DEPLOY_DATA = {
  tenantId: 1001,
  clusters: [
    { uuid: C.east, name: 'gpu-east', version: '2.24.3', state: 'Connected' },
    { uuid: C.west, name: 'gpu-west', version: '2.23.5', state: 'Disconnected' },
    { uuid: C.edge, name: 'edge-lab', state: 'WaitingToConnect' },
    { uuid: C.staging, name: 'staging', version: '2.21.2', state: 'Connected' },
    { uuid: C.stagingUpper, name: 'Staging', version: '2.21.2', state: 'ServiceIssues' }
  ],
  departments: [
    { id: '11', name: 'research', clusterId: C.east, parentId: null },
    { id: '12', name: 'vision', clusterId: C.east, parentId: '11' },
    { id: '13', name: 'operations', clusterId: C.east, parentId: null },
    { id: '21', name: 'research', clusterId: C.west, parentId: null },
    { id: '31', name: 'qa', clusterId: C.staging, parentId: null },
    { id: '32', name: 'qa', clusterId: C.stagingUpper, parentId: null },
    { id: '41', name: 'edge', clusterId: C.edge, parentId: null }
  ],
  projects: [
    { id: '101', name: 'team-a', clusterId: C.east, parentId: '12' },
    { id: '102', name: 'team-b', clusterId: C.east, parentId: '11' },
    { id: '103', name: 'serving', clusterId: C.east, parentId: '13' },
    { id: '201', name: 'team-a', clusterId: C.west, parentId: '21' },
    { id: '301', name: 'smoke', clusterId: C.staging, parentId: '31' },
    { id: '302', name: 'smoke', clusterId: C.stagingUpper, parentId: '32' },
    { id: '401', name: 'edge-demo', clusterId: C.edge, parentId: '41' }
  ],
  accessRules: {
    // DEFAULT_CLIENT of the stand-in: the demo's identity sees everything.
    'stand-in-client': [{ role: 'administrator', scope: { type: 'tenant', id: '1001' } }],
    'platform-operator': [{ role: 'administrator', scope: { type: 'system' } }],
    'east-operator': [{ role: 'researcher', scope: { type: 'cluster', id: C.east } }],
    'research-deployer': [{ role: 'researcher', scope: { type: 'department', id: '11' } }],
    'team-a-deployer': [{ role: 'researcher', scope: { type: 'project', id: '101' } }],
    'research-viewer': [{ role: 'viewer', scope: { type: 'department', id: '11' } }]
    // 'no-rules' has none: its token is issued, its lookups answer 403.
  }
}

const ACTIONS = ['create', 'read', 'update', 'delete']
// Only the fields every published version filters projects by, plus two later ones the stand-in
// also takes; the operators are the published ones.
const FILTER = /^(name|clusterId|departmentId|parentId|parentName)(==|!=|<=|>=|=@|!@|=\^|=\$)(.+)$/s
const CREATED = '2025-01-15T09:30:00Z'
// Fixed, so that answers are the same from run to run.
const LIVE = '2025-06-01T12:00:00Z'

/**
 * The deploy endpoints over `data`, for one stand-in.
 * @param {object} context
 * @param {DeployData} [context.data]
 * @param {() => DeployFaults} context.faults  the switches now in force
 * @param {(token: string) => boolean} context.issued  whether the stand-in issued this token
 */
export function deployApi({ data = DEPLOY_DATA, faults, issued }) {
  let lookups = 0
  /** @type {DeployFaults|undefined} */ let countedFor

  const endpointOf = (method, path) =>
    /** @type {DeployEndpoint|undefined} */ (Object.entries(DEPLOY_ENDPOINTS).find(([, e]) => e.method === method && e.path === path)?.[0])

  /**
   * Answers a request for a deploy path and returns true, or returns false for any other path.
   * `record` is the stand-in's record of the request: it gains `lookup` (endpoint, identity, status).
   * @param {import('node:http').IncomingMessage} req
   * @param {import('node:http').ServerResponse} res
   * @param {{path: string, body: string, lookup?: Lookup}} record
   */
  function answer(req, res, record) {
    const endpoint = endpointOf(req.method, record.path)
    if (endpoint === undefined) return false
    const target = new URL(req.url ?? '/', 'http://stand-in')
    const query = target.searchParams
    const switches = faults()
    if (countedFor !== switches) [countedFor, lookups] = [switches, 0]
    const n = ++lookups
    /** @type {Lookup} */
    const lookup = { endpoint, query: target.search.slice(1), identity: undefined, status: 0 }
    record.lookup = lookup
    const reply = (status, value, headers = {}) => {
      lookup.status = status
      writeJson(res, status, value, headers)
      return true
    }

    if (switches.before218) {
      lookup.status = 404
      res.writeHead(404, { 'Content-Type': 'text/plain', 'Content-Length': 18 }).end('404 page not found')
      return true
    }
    const failure = switches.lookupFailure
    if (failure && (failure.first === undefined || n <= failure.first) && (failure.on ?? [endpoint]).includes(endpoint)) {
      const retry = failure.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(failure.retryAfterSeconds) }
      const message = failure.status === 503 ? 'Please try again in few minutes.' : 'An unexpected error occurred.'
      return reply(failure.status, { code: failure.status, message }, retry)
    }

    const dropped = named(switches.lookupUnauthorized, ['clusters', 'projects', 'permitted-scopes']).includes(endpoint)
    const who = bearer(dropped ? undefined : req.headers.authorization)
    if (who.problem !== undefined) return reply(401, { code: 401, message: 'Unauthorized', details: who.problem })
    lookup.identity = who.subject
    const rules = data.accessRules[who.subject] ?? []

    const forbidden = { code: 403, message: 'You do not have sufficient permissions.' }
    if (named(switches.lookupForbidden, ['clusters', 'projects']).includes(endpoint)) return reply(403, forbidden)
    if (endpoint === 'permitted-scopes') {
      // No rule is needed to ask where one may act: the published answers list no 403 here.
      const asked = permittedScopesRequest(record.body)
      if (typeof asked === 'string') return reply(400, { code: 400, message: 'Bad request', details: asked })
      return reply(200, permittedScopes(rules, asked.resourceType, switches))
    }
    if (!rules.some((r) => canRead(r, endpoint))) return reply(403, forbidden)
    if (endpoint === 'clusters')
      return reply(
        200,
        visibleClusters(rules).map((c) => clusterAnswer(c, switches))
      )
    const listed = projectsAnswer(rules, query, switches)
    return typeof listed === 'string' ? reply(400, { code: 400, message: 'Bad request', details: listed }) : reply(200, listed)
  }

  /** The subject of a valid bearer token this stand-in issued, or what is wrong with it. */
  function bearer(header) {
    if (header === undefined) return { problem: 'no Authorization header' }
    const match = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(header)
    if (match === null) return { problem: 'Authorization is not a bearer token' }
    const token = /** @type {string} */ (match[1])
    if (!issued(token)) return { problem: 'Issuer is not familiar.' }
    // The stand-in's tokens carry {sub, exp} in their middle part (runai-stand-in.mjs, issueToken).
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'))
    if (claims.exp * 1000 <= Date.now()) return { problem: 'token is expired' }
    return { subject: String(claims.sub) }
  }

  const clusterOf = (scope) =>
    scope.type === 'cluster'
      ? scope.id
      : scope.type === 'department'
        ? data.departments.find((d) => d.id === scope.id)?.clusterId
        : data.projects.find((p) => p.id === scope.id)?.clusterId

  /** The departments above `departmentId`, nearest first, itself included. */
  function departmentChain(departmentId) {
    const chain = []
    for (let d = data.departments.find((x) => x.id === departmentId); d !== undefined && chain.length < 16;) {
      chain.push(d)
      d = d.parentId === null ? undefined : data.departments.find((x) => x.id === d?.parentId)
    }
    return chain
  }

  /** Whether `rule` covers `project` (at it, its departments, its cluster, the tenant or the system). */
  function covers(rule, project) {
    const { scope } = rule
    if (scope.type === 'system' || scope.type === 'tenant') return true
    if (scope.type === 'cluster') return scope.id === project.clusterId
    if (scope.type === 'project') return scope.id === project.id
    return departmentChain(project.parentId).some((d) => d.id === scope.id)
  }

  const allows = (rule, action, resourceType) => {
    const granted = ROLES[rule.role] ?? []
    return granted.includes('*') || granted.includes(`${action} ${resourceType}`)
  }
  const canRead = (rule, endpoint) => allows(rule, 'read', endpoint === 'clusters' ? 'cluster' : 'project')

  /** The clusters any rule reaches: all of them for a system or tenant rule, else the rules' own. */
  function visibleClusters(rules) {
    const reading = rules.filter((r) => canRead(r, 'clusters'))
    if (reading.some((r) => r.scope.type === 'system' || r.scope.type === 'tenant')) return data.clusters
    const ids = new Set(reading.map((r) => clusterOf(r.scope)))
    return data.clusters.filter((c) => ids.has(c.uuid))
  }

  function clusterAnswer(cluster, switches) {
    const omit = new Set(switches.omitClusterFields ?? [])
    const status = omit.has('state') || cluster.state === undefined ? {} : { state: cluster.state }
    return {
      uuid: cluster.uuid,
      tenantId: data.tenantId,
      name: cluster.name,
      createdAt: CREATED,
      domain: `https://${cluster.name.toLowerCase()}.clusters.example.com`,
      ...(omit.has('version') || cluster.version === undefined ? {} : { version: cluster.version }),
      ...(omit.has('status') ? {} : { status }),
      updatedAt: CREATED,
      lastLiveness: cluster.state === 'Connected' ? LIVE : CREATED
    }
  }

  /** The answer to a project listing, or why the query is refused. */
  function projectsAnswer(rules, query, switches) {
    const filters = query.getAll('filterBy')
    // The published parameter is an array with explode: false, so one comma-joined value. How the
    // real server treats a repeated parameter is not known; the stand-in refuses it, so that a
    // client sending the exploded form is caught.
    if (filters.length > 1) return 'filterBy is given more than once; join the terms with commas (explode: false)'
    const terms = []
    for (const term of filters.length === 0 ? [] : (filters[0] ?? '').split(',')) {
      const match = FILTER.exec(term)
      if (match === null) return `filterBy term ${JSON.stringify(term)} is not <field><operator><value>`
      terms.push({ field: match[1], operator: match[2], value: match[3] })
    }
    const limit = query.has('limit') ? Number(query.get('limit')) : 50
    const offset = query.has('offset') ? Number(query.get('offset')) : 0
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) return 'limit must be an integer from 1 to 500'
    if (!Number.isInteger(offset) || offset < 0) return 'offset must be a non-negative integer'
    const reading = rules.filter((r) => canRead(r, 'projects'))
    const matching = data.projects.filter((p) => reading.some((r) => covers(r, p)) && terms.every((t) => matches(p, t)))
    const page = matching.slice(offset, offset + limit).map((p) => projectAnswer(p, switches))
    return { projects: page, ...(offset + limit < matching.length ? { next: offset + limit } : {}) }
  }

  function matches(project, { field, operator, value }) {
    const department = data.departments.find((d) => d.id === project.parentId)
    const fields = {
      name: project.name,
      clusterId: project.clusterId,
      departmentId: project.parentId,
      parentId: project.parentId,
      parentName: department?.name
    }
    let actual = String(fields[field] ?? '')
    // A UUID is the same UUID in either case (a database uuid column compares it so); names are compared exactly.
    if (field === 'clusterId') [actual, value] = [actual.toLowerCase(), value.toLowerCase()]
    switch (operator) {
      case '==':
        return actual === value
      case '!=':
        return actual !== value
      case '<=':
        return actual <= value
      case '>=':
        return actual >= value
      case '=@':
        return actual.includes(value)
      case '!@':
        return !actual.includes(value)
      case '=^':
        return actual.startsWith(value)
      default:
        return actual.endsWith(value)
    }
  }

  function projectAnswer(project, switches) {
    /** @returns {object|undefined} */
    const parent = (departmentId) => {
      const d = data.departments.find((x) => x.id === departmentId)
      return d === undefined ? undefined : { id: d.id, name: d.name, ...(d.parentId === null ? {} : { parent: parent(d.parentId) }) }
    }
    return {
      id: switches.projectIdAsNumber ? Number(project.id) : project.id,
      name: project.name,
      clusterId: project.clusterId,
      parentId: project.parentId,
      parent: parent(project.parentId),
      description: '',
      createdAt: CREATED,
      updatedAt: CREATED,
      status: { phase: 'Ready', namespace: `runai-${project.name}` }
    }
  }

  /** Where the rules let their holder do each action on `resourceType`. */
  function permittedScopes(rules, resourceType, switches) {
    const answer = {}
    for (const action of ACTIONS) {
      const scopes = rules.filter((r) => allows(r, action, resourceType)).map((r) => r.scope)
      const ids = (type) => [...new Set(scopes.filter((s) => s.type === type).map((s) => /** @type {{id: string}} */ (s).id))]
      const tenants = ids('tenant')
      const entry = {
        system: scopes.some((s) => s.type === 'system'),
        ...(switches.deprecatedTenant ? (tenants[0] === undefined ? {} : { tenant: tenants[0] }) : { tenants }),
        clusters: ids('cluster'),
        departments: ids('department'),
        projects: ids('project')
      }
      const empty = (value) => value === false || (Array.isArray(value) && value.length === 0)
      answer[action] = switches.omitEmptyScopes ? Object.fromEntries(Object.entries(entry).filter(([, value]) => !empty(value))) : entry
    }
    return answer
  }

  return { answer }
}

/** The resource type of a permitted-scopes request body, or what is wrong with the body. */
function permittedScopesRequest(body) {
  let asked
  try {
    asked = JSON.parse(body)
  } catch {
    return 'the body is not JSON'
  }
  if (typeof asked !== 'object' || asked === null || Array.isArray(asked)) return 'the body is not a JSON object'
  if (typeof asked.resourceType !== 'string' || !/^[a-z][a-z_/-]*$/.test(asked.resourceType)) return 'resourceType is missing or malformed'
  if (asked.action !== undefined && asked.action !== null && !ACTIONS.includes(asked.action))
    return `action must be one of ${ACTIONS.join(', ')}`
  return { resourceType: asked.resourceType }
}

/** @param {true|DeployEndpoint[]|undefined} value @param {DeployEndpoint[]} all */
const named = (value, all) => (value === true ? all : (value ?? []))

function writeJson(res, status, value, headers) {
  const body = JSON.stringify(value)
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers })
  res.end(body)
}
