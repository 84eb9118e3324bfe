import { USER_AGENT } from './constants.js'
import { ActionError } from './errors.js'
import type { DeployRequest, Permission } from './inputs.js'
import { sentence, untrusted } from './log-boundary.js'
import { withRetries, type Clock } from './retry.js'
import type { ApiRequest, HttpAnswer } from './transport.js'

/**
 * The deploy context (issue 15): with the token it just got, the action finds the cluster and
 * project a deploy step needs by name, and checks that the identity may do what the deploy will
 * do, so that a missing access rule fails here and not in the deploy. The endpoints, as
 * test-server/openapi/README.md describes them: GET /api/v1/clusters, GET
 * /api/v1/org-unit/projects (filterBy, comma-joined), POST /api/v1/authorization/permitted-scopes.
 */

export interface Cluster {
  id: string
  name: string
  /** '' when the control plane leaves it out. */
  version: string
  /** Connected, Disconnected, …; '' when the control plane leaves it out. */
  state: string
}

export interface Project {
  id: string
  name: string
  clusterId: string
  /** The project's department, then that department's parents, as far as the answer gives them. */
  departments: string[]
}

export interface DeployContext {
  cluster?: Cluster
  project?: Project
  /** Every cluster the identity sees, sorted by name: whenever the clusters were looked up. */
  clusters?: Cluster[]
}

export interface DeployContextSettings extends DeployRequest {
  baseUrl: string
  clientId: string
  maxAttempts: number
  timeoutMs: number
  /** The step's deadline, shared with the token request. */
  deadline: number
}

export interface DeployContextDeps {
  send: (request: ApiRequest) => Promise<HttpAnswer>
  clock: Clock
  info: (message: string) => void
  warning: (message: string) => void
  debug: (message: string) => void
}

/** Messages list at most this many names; the rest are counted. */
const MAX_LISTED = 20
/** The `clusters` output holds at most this many: a matrix larger than that is not one workflow. */
export const MAX_CLUSTERS_OUTPUT = 256

export function wantsDeployContext(request: DeployRequest): boolean {
  return request.cluster !== '' || request.project !== '' || request.permissions.length > 0 || request.listClusters
}

/** Looks up what the settings ask for, in order: clusters, the cluster, the project, the permissions. */
export async function resolveDeployContext(
  settings: DeployContextSettings,
  token: string,
  deps: DeployContextDeps
): Promise<DeployContext> {
  const lookup = lookups(settings, token, deps)
  const context: DeployContext = {}
  if (settings.cluster !== '' || settings.project !== '' || settings.listClusters) {
    context.clusters = await lookup.clusters()
  }
  const clusters = context.clusters ?? []
  if (settings.cluster !== '') context.cluster = pickCluster(settings.cluster, clusters)
  let target: ProjectTarget | undefined
  if (settings.project !== '') {
    target = await findProject(settings.project, context.cluster, clusters, lookup)
    context.project = target.project
    context.cluster = target.cluster
  }
  if (context.cluster !== undefined && context.cluster.state !== 'Connected') {
    deps.warning(
      `Cluster ${context.cluster.name} is ${context.cluster.state === '' ? 'in a state the control plane did not name' : context.cluster.state}, not Connected: a deploy to it may wait in a queue until it connects.`
    )
  }
  for (const [resourceType, actions] of groupByResourceType(settings.permissions)) {
    // One request per resource type: its answer holds every action's scopes.
    const scopes = await lookup.permittedScopes(resourceType, actions)
    for (const action of actions) await checkPermission(action, resourceType, scopes[action], context, target, settings, lookup)
  }
  return context
}

// ---------------------------------------------------------------------------------------------
// The requests
// ---------------------------------------------------------------------------------------------

type Lookups = ReturnType<typeof lookups>

function lookups(settings: DeployContextSettings, token: string, deps: DeployContextDeps) {
  const get = (path: string, what: string, body?: string): Promise<unknown> => request(settings, token, deps, path, what, body)
  return {
    async clusters(): Promise<Cluster[]> {
      const answer = await get('/api/v1/clusters?verbosity=metadata', 'the clusters')
      if (!Array.isArray(answer)) throw new ActionError(notAList('GET /api/v1/clusters', 'clusters', settings))
      const listed: unknown[] = answer
      const clusters = listed.map(clusterOf).filter((c): c is Cluster => c !== undefined)
      if (clusters.length < listed.length) {
        deps.debug(`${listed.length - clusters.length} of ${listed.length} clusters had no valid uuid or name and were left out.`)
      }
      return clusters.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    },
    async projects(filter: string[]): Promise<Project[]> {
      // One filterBy, comma-joined: the parameter is an array with explode: false.
      const query = filter.length === 0 ? 'limit=500' : `filterBy=${encodeURIComponent(filter.join(','))}&limit=500`
      const answer = await get(`/api/v1/org-unit/projects?${query}`, 'the projects')
      if (!isRecord(answer) || !Array.isArray(answer.projects))
        throw new ActionError(notAList('GET /api/v1/org-unit/projects', 'projects', settings))
      const listed: unknown[] = answer.projects
      return listed.map(projectOf).filter((p): p is Project => p !== undefined)
    },
    async permittedScopes(resourceType: string, actions: readonly string[]): Promise<Record<string, unknown>> {
      // `action` narrows the answer to one action: sent only when one is asked for this type.
      const body = JSON.stringify(actions.length === 1 ? { resourceType, action: actions[0] } : { resourceType })
      const answer = await get('/api/v1/authorization/permitted-scopes', `where it may ${actions.join(' and ')} ${resourceType}`, body)
      return isRecord(answer) ? answer : {}
    }
  }
}

async function request(
  settings: DeployContextSettings,
  token: string,
  deps: DeployContextDeps,
  path: string,
  what: string,
  body: string | undefined
): Promise<unknown> {
  const url = `${settings.baseUrl}${path}`
  const method = body === undefined ? 'GET' : 'POST'
  const endpoint = `${method} ${settings.baseUrl}${path.replace(/\?.*/s, '')}`
  const answer = await withRetries(
    endpoint,
    async (timeoutMs) => {
      const answer = await deps.send({
        method,
        url,
        ...(body === undefined ? {} : { body, contentType: 'application/json' }),
        authorization: `Bearer ${token}`,
        userAgent: USER_AGENT,
        timeoutMs
      })
      const said = serverMessage(answer.body)
      return {
        value: answer,
        status: answer.status,
        problem: said === undefined ? `HTTP ${answer.status}` : `HTTP ${answer.status}: ${untrusted(said)}`,
        plainProblem: `HTTP ${answer.status}`,
        retryAfter: answer.retryAfter
      }
    },
    { maxAttempts: settings.maxAttempts, timeoutMs: settings.timeoutMs, deadline: settings.deadline },
    deps.clock,
    { progress: deps.info, debug: deps.debug },
    `look up ${what}`
  )
  if (answer.status >= 200 && answer.status < 300) {
    const parsed = parseJson(answer.body)
    if (parsed === undefined)
      throw new ActionError(
        `${endpoint} answered HTTP ${answer.status} with a body that is not JSON; check that \`url\` is the Run:ai control plane.`
      )
    return parsed
  }
  throw new ActionError(refusal(answer, endpoint, what, settings, path))
}

/** What to tell the user when a lookup was refused. */
function refusal(answer: HttpAnswer, endpoint: string, what: string, settings: DeployContextSettings, path: string): string {
  const said = serverMessage(answer.body)
  const quoted = said === undefined ? '' : `: ${untrusted(said)}`
  const status = sentence(`${endpoint} answered HTTP ${answer.status}${quoted}`).slice(0, -1)
  if (answer.status === 401) {
    return `${status}. The control plane did not accept the token it had just issued: a gateway or proxy in front of it may drop the Authorization header. Check with whoever runs it.`
  }
  if (answer.status === 403) {
    return `${status}. The identity ${settings.clientId} has no access rule that lets it read ${what}. In the Run:ai UI, open Access → Access rules and add one for it, with a role that can view ${what}, scoped to the cluster or project it deploys to.`
  }
  if (answer.status === 404 && path.startsWith('/api/v1/clusters')) {
    return `${status}. This control plane predates the clusters and projects API (Run:ai 2.18): leave \`cluster\`, \`project\`, \`permission\` and \`list-clusters\` empty against it.`
  }
  if (answer.status >= 300 && answer.status < 400 && answer.status !== 304) {
    return `${status}, a redirect. Redirects are not followed because the request carries the token. Set \`url\` to the Run:ai control-plane address itself.`
  }
  return `${status}. Check that \`url\` is the Run:ai control plane.`
}

// ---------------------------------------------------------------------------------------------
// Choosing
// ---------------------------------------------------------------------------------------------

function pickCluster(wanted: string, clusters: Cluster[]): Cluster {
  const found = UUID.test(wanted) ? clusters.filter((c) => sameId(c.id, wanted)) : clusters.filter((c) => c.name === wanted)
  if (found.length > 1) {
    // Never the first of several: a deploy to the wrong cluster is worse than a failed step.
    throw new ActionError(
      `${found.length} clusters this identity sees are named ${JSON.stringify(wanted)}: ${listed(found.map((c) => c.id))}. Set \`cluster\` to the UUID of the one to deploy to.`
    )
  }
  if (found[0] !== undefined) return found[0]
  throw new ActionError(
    `No cluster ${JSON.stringify(wanted)} among the clusters ${clusters.length === 0 ? 'this identity sees: it sees none' : `this identity sees: ${listed(clusters.map((c) => c.name))}`}.${caseHint(
      wanted,
      clusters.map((c) => c.name)
    )} Set \`cluster\` to one of them (a name or a UUID), or add an access rule for the cluster.`
  )
}

/** A project, and the cluster it is in: the given one, or the visible one it is in. */
interface ProjectTarget {
  project: Project
  cluster: Cluster
}

async function findProject(name: string, cluster: Cluster | undefined, clusters: Cluster[], lookup: Lookups): Promise<ProjectTarget> {
  const filter = [`name==${name}`, ...(cluster === undefined ? [] : [`clusterId==${cluster.id}`])]
  const named = (await lookup.projects(filter)).filter((p) => p.name === name)
  // Only projects in a cluster this identity sees (the given one, if any): a deploy needs its id too.
  const candidates = cluster === undefined ? clusters : [cluster]
  const matches = named.flatMap((project) =>
    candidates.filter((c) => sameId(c.id, project.clusterId)).map((c) => ({ project, cluster: c }))
  )
  if (matches.length === 0 && cluster === undefined && named.length > 0) {
    throw new ActionError(
      `Project ${JSON.stringify(name)} is in a cluster this identity does not see (${listed(named.map((p) => p.clusterId))}), so a deploy could not name its cluster. In the Run:ai UI, open Access → Access rules and give it a role that can view that cluster.`
    )
  }
  const [match, ...others] = matches
  if (match !== undefined && others.length === 0) return match
  if (match !== undefined) {
    throw new ActionError(
      `Project ${JSON.stringify(name)} is in ${matches.length} clusters: ${listed(matches.map((m) => m.cluster.name))}. Set \`cluster\` to the one to deploy to.`
    )
  }
  const where = cluster === undefined ? 'the clusters this identity sees' : `cluster ${cluster.name}`
  // Filtered here as well: a server that ignores filterBy must not get another cluster's projects listed.
  const visible = (await lookup.projects(cluster === undefined ? [] : [`clusterId==${cluster.id}`]))
    .filter((p) => cluster === undefined || sameId(p.clusterId, cluster.id))
    .map((p) => p.name)
  throw new ActionError(
    `No project ${JSON.stringify(name)} in ${where}${visible.length === 0 ? ': this identity sees no project there' : `; the projects this identity sees there: ${listed(visible)}`}.${caseHint(name, visible)} Set \`project\` to one of them, or add an access rule for the project.`
  )
}

type ScopeAnswer = unknown

async function checkPermission(
  action: Permission['action'],
  resourceType: string,
  answer: ScopeAnswer,
  context: DeployContext,
  target: ProjectTarget | undefined,
  settings: DeployContextSettings,
  lookup: Lookups
): Promise<void> {
  const scopes = scopesOf(answer)
  const { cluster } = context
  let allowed: boolean
  let scope: string
  if (scopes.system || scopes.tenants.length > 0) {
    allowed = true
    scope = ''
  } else if (target !== undefined) {
    const { project } = target
    scope = `project ${project.name} (id ${project.id}) in cluster ${target.cluster.name}`
    allowed =
      holds(scopes.projects, project.id) ||
      project.departments.some((d) => holds(scopes.departments, d)) ||
      scopes.clusters.some((c) => sameId(c, project.clusterId))
  } else if (cluster !== undefined) {
    scope = `cluster ${cluster.name}`
    allowed = scopes.clusters.some((c) => sameId(c, cluster.id))
    if (!allowed && (scopes.projects.length > 0 || scopes.departments.length > 0)) {
      // Scoped to projects or departments: allowed when one of them is in this cluster.
      // Filtered here too: a server that ignores filterBy must not lend another cluster's scopes.
      const inCluster = (await lookup.projects([`clusterId==${cluster.id}`])).filter((p) => sameId(p.clusterId, cluster.id))
      allowed = inCluster.some((p) => holds(scopes.projects, p.id) || p.departments.some((d) => holds(scopes.departments, d)))
    }
  } else {
    scope = 'anywhere'
    allowed = scopes.clusters.length > 0 || scopes.departments.length > 0 || scopes.projects.length > 0
  }
  if (allowed) return
  const seen = context.clusters ?? []
  const has = [
    // Clusters by the names the identity sees them by; one it does not see, by its id.
    ...(scopes.clusters.length > 0
      ? [`clusters ${listed(scopes.clusters.map((id) => seen.find((c) => sameId(c.id, id))?.name ?? id))}`]
      : []),
    ...(scopes.departments.length > 0 ? [`departments ${listed(scopes.departments)}`] : []),
    ...(scopes.projects.length > 0 ? [`projects ${listed(scopes.projects)}`] : [])
  ]
  throw new ActionError(
    `The identity ${settings.clientId} may not ${action} ${resourceType} ${scope === 'anywhere' ? scope : `in ${scope}`}: no access rule allows it there; ${has.length === 0 ? 'it may do that nowhere' : `it may do that in ${has.join('; ')}`}. In the Run:ai UI, open Access → Access rules and give it a role that can ${action} ${resourceType}, scoped to the project or cluster it deploys to.`
  )
}

// ---------------------------------------------------------------------------------------------
// Reading the answers: every field is hostile text, checked before it is used or written
// ---------------------------------------------------------------------------------------------

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
// Names as Run:ai allows them are Kubernetes-like; any printable ASCII line is accepted here.
const NAME = /^[\x21-\x7e](?:[\x20-\x7e]{0,251}[\x21-\x7e])?$/
const VERSION = /^[0-9A-Za-z.+_-]{1,64}$/
const STATE = /^[A-Za-z]{1,32}$/
const ID = /^[0-9A-Za-z-]{1,64}$/

function clusterOf(value: unknown): Cluster | undefined {
  if (!isRecord(value)) return undefined
  const id = text(value.uuid)
  const name = text(value.name)
  if (!UUID.test(id) || !NAME.test(name)) return undefined
  const version = text(value.version)
  const state = isRecord(value.status) ? text(value.status.state) : ''
  return { id, name, version: VERSION.test(version) ? version : '', state: STATE.test(state) ? state : '' }
}

function projectOf(value: unknown): Project | undefined {
  if (!isRecord(value)) return undefined
  const id = idOf(value.id)
  const name = text(value.name)
  const clusterId = text(value.clusterId)
  if (id === undefined || !NAME.test(name) || !UUID.test(clusterId)) return undefined
  const departments: string[] = []
  const parentId = idOf(value.parentId)
  if (parentId !== undefined) departments.push(parentId)
  // The answer may nest the department's parents (parent.parent…): followed to a bounded depth.
  let parent: unknown = value.parent
  for (let depth = 0; depth < 16 && isRecord(parent); depth++) {
    const id = idOf(parent.id)
    if (id !== undefined && !departments.includes(id)) departments.push(id)
    parent = parent.parent
  }
  return { id, name, clusterId, departments }
}

interface Scopes {
  system: boolean
  tenants: string[]
  clusters: string[]
  departments: string[]
  projects: string[]
}

function scopesOf(value: unknown): Scopes {
  const entry = isRecord(value) ? value : {}
  const ids = (list: unknown): string[] => (Array.isArray(list) ? list.map(idOf).filter((id): id is string => id !== undefined) : [])
  const tenant = idOf(entry.tenant)
  return {
    system: entry.system === true,
    tenants: [...ids(entry.tenants), ...(tenant === undefined ? [] : [tenant])],
    clusters: ids(entry.clusters),
    departments: ids(entry.departments),
    projects: ids(entry.projects)
  }
}

/** An id as a string: a server may send a project's id as a number. */
function idOf(value: unknown): string | undefined {
  const id = typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? String(value) : text(value)
  return ID.test(id) ? id : undefined
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : ''
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body) as unknown
  } catch {
    return undefined
  }
}

/** The `message` of a control plane's error body, if it has one: the server's words. */
function serverMessage(body: string): string | undefined {
  const parsed = parseJson(body)
  return isRecord(parsed) && typeof parsed.message === 'string' && parsed.message.trim() !== '' ? parsed.message : undefined
}

function sameId(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase()
}

/** Ids compare without regard to case: UUIDs come in either. */
function holds(ids: string[], id: string): boolean {
  return ids.some((candidate) => sameId(candidate, id))
}

function notAList(endpoint: string, what: string, settings: DeployContextSettings): string {
  return `${endpoint} at ${settings.baseUrl} answered HTTP 200 with something that is not a list of ${what}; check that \`url\` is the Run:ai control plane.`
}

type Actions = [Permission['action'], ...Permission['action'][]]

/** The actions asked for each resource type, in the order given; never an empty list. */
function groupByResourceType(permissions: Permission[]): Map<string, Actions> {
  const groups = new Map<string, Actions>()
  for (const { action, resourceType } of permissions) {
    const actions = groups.get(resourceType)
    if (actions === undefined) groups.set(resourceType, [action])
    else if (!actions.includes(action)) actions.push(action)
  }
  return groups
}

/** The first {@link MAX_LISTED} of `names`, sorted, and how many more. */
export function listed(names: string[]): string {
  const sorted = [...new Set(names)].sort()
  const more = sorted.length - MAX_LISTED
  return `${sorted.slice(0, MAX_LISTED).join(', ')}${more > 0 ? ` and ${more} more` : ''}`
}

/** "Did you mean …" when a name differs from a visible one only in case. */
function caseHint(wanted: string, names: string[]): string {
  const lower = wanted.toLowerCase()
  const close = names.filter((n) => n !== wanted && n.toLowerCase() === lower)
  return close.length === 0 ? '' : ` Names differ in case: did you mean ${listed(close)}?`
}
