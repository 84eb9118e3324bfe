import { describe, expect, it } from '@jest/globals'
import { listed, resolveDeployContext, wantsDeployContext, type DeployContextSettings } from '../src/deploy-context.js'
import type { DeployRequest } from '../src/inputs.js'
import { CLIENT_ID, fakeClock, jsonAnswer, scriptedSender, textAnswer, type Reply } from './helpers/fakes.js'

// What the end-to-end runs (e2e/deploy-context.test.ts) do not reach: answers no stand-in sends.

const BASE = 'https://runai.example.com'
const EAST = '3f9a1c52-7d4e-4b8a-9c61-2e5f0a7b8d13'
const WEST = 'b71e4f0a-2c93-4d58-a6e1-9f30c7d2b845'
const OTHER = '0c4d8e21-95ab-4f3c-8e7d-61a2b9f04c77'
const TOKEN = 'fake-token-Kq3Zr8'

function settings(request: Partial<DeployRequest>): DeployContextSettings {
  const clock = fakeClock()
  return {
    cluster: '',
    project: '',
    permissions: [],
    listClusters: false,
    ...request,
    baseUrl: BASE,
    clientId: CLIENT_ID,
    maxAttempts: 2,
    timeoutMs: 60_000,
    deadline: clock.now() + 60_000
  }
}

async function resolve(request: Partial<DeployRequest>, replies: Reply[]) {
  const send = scriptedSender(replies)
  const log: string[] = []
  const deps = {
    send,
    clock: fakeClock(),
    info: (m: string) => log.push(m),
    warning: (m: string) => log.push(`warning: ${m}`),
    debug: (m: string) => log.push(`debug: ${m}`)
  }
  const outcome = await resolveDeployContext(settings(request), TOKEN, deps).then(
    (context) => ({ context, error: undefined }),
    // Without the private-use marks that tell the log boundary where server text starts and ends.
    (error: Error) => ({ context: undefined, error: error.message.replace(/[\ue000-\uf8ff]/g, '') })
  )
  return { ...outcome, send, log }
}

const cluster = (uuid: string, name: string) => ({ uuid, name, version: '2.24.0', status: { state: 'Connected' } })
const project = (id: string, name: string, clusterId: string, parentId = '9') => ({ id, name, clusterId, parentId })

describe('wantsDeployContext', () => {
  it.each([
    [{}, false],
    [{ cluster: 'a' }, true],
    [{ project: 'a' }, true],
    [{ permissions: [{ action: 'read' as const, resourceType: 'workloads' }] }, true],
    [{ listClusters: true }, true]
  ])('%j: %s', (request, wanted) => {
    expect(wantsDeployContext({ cluster: '', project: '', permissions: [], listClusters: false, ...request })).toBe(wanted)
  })
})

describe('listed', () => {
  it('sorts in plain string order, drops repeats, and counts what is past 20', () => {
    expect(listed(['b', 'B', 'a', 'a'])).toBe('B, a, b')
    const many = Array.from({ length: 22 }, (_, i) => `n${String(i).padStart(2, '0')}`)
    expect(listed(many)).toBe(`${many.slice(0, 20).join(', ')} and 2 more`)
  })
})

describe('resolveDeployContext', () => {
  it('sends the token, GETs without a body, and POSTs permitted-scopes as JSON', async () => {
    const { send } = await resolve({ listClusters: true, permissions: [{ action: 'read', resourceType: 'workloads' }] }, [
      jsonAnswer(200, [cluster(EAST, 'east')]),
      jsonAnswer(200, { read: { system: true } })
    ])
    expect(send.requests.map((r) => [r.method, r.url, r.authorization, r.body, r.contentType])).toEqual([
      ['GET', `${BASE}/api/v1/clusters?verbosity=metadata`, `Bearer ${TOKEN}`, undefined, undefined],
      [
        'POST',
        `${BASE}/api/v1/authorization/permitted-scopes`,
        `Bearer ${TOKEN}`,
        '{"resourceType":"workloads","action":"read"}',
        'application/json'
      ]
    ])
  })

  it('two clusters of the same name keep the order they came in, and invalid ones are left out (debug)', async () => {
    const { context, log } = await resolve({ listClusters: true }, [
      jsonAnswer(200, [cluster(WEST, 'same'), null, cluster(EAST, 'same'), cluster(EAST, 'a')])
    ])
    expect(context?.clusters?.map((c) => c.id)).toEqual([EAST, WEST, EAST])
    expect(log).toEqual(['debug: 1 of 4 clusters had no valid uuid or name and were left out.'])
  })

  it('projects that are not objects are left out', async () => {
    const { error } = await resolve({ cluster: 'east', project: 'p' }, [
      jsonAnswer(200, [cluster(EAST, 'east')]),
      jsonAnswer(200, { projects: [null, 'p', 7] }),
      jsonAnswer(200, { projects: [] })
    ])
    expect(error).toBe(
      'No project "p" in cluster east: this identity sees no project there. Set `project` to one of them, or add an access rule for the project.'
    )
  })

  it("a server that ignores filterBy: another cluster's projects are neither matched nor listed", async () => {
    const elsewhere = { id: '9', name: 'p', clusterId: WEST, parentId: '1' }
    const { error } = await resolve({ cluster: 'east', project: 'p' }, [
      jsonAnswer(200, [cluster(EAST, 'east'), cluster(WEST, 'west')]),
      jsonAnswer(200, { projects: [elsewhere] }),
      jsonAnswer(200, { projects: [elsewhere, { ...elsewhere, id: '10', name: 'q' }] })
    ])
    expect(error).toBe(
      'No project "p" in cluster east: this identity sees no project there. Set `project` to one of them, or add an access rule for the project.'
    )
  })

  it('a project name also in a cluster the identity does not see: the one in a cluster it sees', async () => {
    const { context } = await resolve({ project: 'p' }, [
      jsonAnswer(200, [cluster(EAST, 'east')]),
      jsonAnswer(200, { projects: [project('1', 'p', EAST), project('2', 'p', WEST)] })
    ])
    expect(context?.project?.id).toBe('1')
    expect(context?.cluster?.name).toBe('east')
  })

  it('a project only in a cluster the identity does not see: a failure that says so, no permission asked', async () => {
    const { error, send } = await resolve({ project: 'p', permissions: [{ action: 'create', resourceType: 'trainings' }] }, [
      jsonAnswer(200, [cluster(EAST, 'east')]),
      jsonAnswer(200, { projects: [project('1', 'p', WEST)] })
    ])
    expect(send.requests).toHaveLength(2)
    expect(error).toBe(
      `Project "p" is in a cluster this identity does not see (${WEST}), so a deploy could not name its cluster. In the Run:ai UI, open Access → Access rules and give it a role that can view that cluster.`
    )
  })

  it('a permission missing on the project: names the departments and clusters where the identity has it', async () => {
    const { error } = await resolve({ project: 'p', permissions: [{ action: 'create', resourceType: 'trainings' }] }, [
      jsonAnswer(200, [cluster(EAST, 'east')]),
      jsonAnswer(200, { projects: [project('1', 'p', EAST)] }),
      jsonAnswer(200, { create: { departments: ['5'], clusters: [OTHER] } })
    ])
    expect(error).toBe(
      `The identity ${CLIENT_ID} may not create trainings in project p (id 1) in cluster east: no access rule allows it there; it may do that in clusters ${OTHER}; departments 5. In the Run:ai UI, open Access → Access rules and give it a role that can create trainings, scoped to the project or cluster it deploys to.`
    )
  })

  it('two clusters of the same name: a failure listing their UUIDs, never the first of them', async () => {
    const { error } = await resolve({ cluster: 'prod' }, [jsonAnswer(200, [cluster(EAST, 'prod'), cluster(WEST, 'prod')])])
    expect(error).toBe(
      `2 clusters this identity sees are named "prod": ${[EAST, WEST].sort().join(', ')}. Set \`cluster\` to the UUID of the one to deploy to.`
    )
  })

  it('with cluster alone, a project scope in another cluster does not count, even from a server that ignores filterBy', async () => {
    const { error } = await resolve({ cluster: 'east', permissions: [{ action: 'create', resourceType: 'trainings' }] }, [
      jsonAnswer(200, [cluster(EAST, 'east'), cluster(WEST, 'west')]),
      jsonAnswer(200, { create: { projects: ['7'] } }),
      jsonAnswer(200, { projects: [project('7', 'p', WEST)] })
    ])
    expect(error).toMatch(
      /^The identity .+ may not create trainings in cluster east: no access rule allows it there; it may do that in projects 7\./
    )
  })

  it('asks without an action when several are asked for one resource type, and compares ids without regard to case', async () => {
    const { context, send } = await resolve(
      {
        project: 'p',
        permissions: [
          { action: 'read', resourceType: 'trainings' },
          { action: 'create', resourceType: 'trainings' }
        ]
      },
      [
        jsonAnswer(200, [cluster(EAST, 'east')]),
        jsonAnswer(200, { projects: [{ ...project('1', 'p', EAST), parentId: 'AB-12' }] }),
        jsonAnswer(200, { read: { departments: ['ab-12'] }, create: { projects: ['1'] } })
      ]
    )
    expect(context?.project?.id).toBe('1')
    expect(send.requests[2]?.body).toBe('{"resourceType":"trainings"}')
  })

  it.each([
    ['clusters', [jsonAnswer(200, { error: 'nope' })], 'GET /api/v1/clusters'],
    ['projects', [jsonAnswer(200, [cluster(EAST, 'east')]), jsonAnswer(200, { items: [] })], 'GET /api/v1/org-unit/projects']
  ])("an answer of %s that is not a list fails, in the action's words", async (what, replies, endpoint) => {
    const { error } = await resolve({ project: 'p' }, replies)
    expect(error).toBe(
      `${endpoint} at ${BASE} answered HTTP 200 with something that is not a list of ${what}; check that \`url\` is the Run:ai control plane.`
    )
  })

  it('with cluster alone, a department scope reaches it through a project of that cluster', async () => {
    const { context, send } = await resolve({ cluster: 'east', permissions: [{ action: 'create', resourceType: 'trainings' }] }, [
      jsonAnswer(200, [cluster(EAST, 'east')]),
      jsonAnswer(200, { create: { departments: ['5'] } }),
      jsonAnswer(200, { projects: [{ ...project('1', 'p', EAST, '6'), parent: { id: '6', parent: { id: '5' } } }] })
    ])
    expect(context?.cluster?.name).toBe('east')
    expect(send.requests[2]?.url).toBe(`${BASE}/api/v1/org-unit/projects?filterBy=${encodeURIComponent(`clusterId==${EAST}`)}&limit=500`)
  })

  it('with cluster alone, project scopes elsewhere: refused', async () => {
    const { error } = await resolve({ cluster: 'east', permissions: [{ action: 'update', resourceType: 'trainings' }] }, [
      jsonAnswer(200, [cluster(EAST, 'east')]),
      jsonAnswer(200, { update: { projects: ['2'] } }),
      jsonAnswer(200, { projects: [project('1', 'p', EAST)] })
    ])
    expect(error).toContain(
      `The identity ${CLIENT_ID} may not update trainings in cluster east: no access rule allows it there; it may do that in projects 2.`
    )
  })

  it('with cluster alone and no scope at all: refused without a projects lookup', async () => {
    const { error, send } = await resolve({ cluster: 'east', permissions: [{ action: 'delete', resourceType: 'trainings' }] }, [
      jsonAnswer(200, [cluster(EAST, 'east')]),
      jsonAnswer(200, {})
    ])
    expect(send.requests).toHaveLength(2)
    expect(error).toContain('may not delete trainings in cluster east: no access rule allows it there; it may do that nowhere.')
  })

  it.each([
    [400, '{"message":"Bad request"}', 'answered HTTP 400: Bad request. Check that `url` is the Run:ai control plane.'],
    [404, 'not found', 'answered HTTP 404. Check that `url` is the Run:ai control plane.'],
    [409, '{"message":"   "}', 'answered HTTP 409. Check that `url` is the Run:ai control plane.']
  ])('HTTP %d on the projects lookup', async (status, body, said) => {
    const { error } = await resolve({ project: 'p' }, [jsonAnswer(200, [cluster(EAST, 'east')]), textAnswer(status, body)])
    expect(error).toBe(`GET ${BASE}/api/v1/org-unit/projects ${said}`)
  })

  it('401 and 403 are not retried', async () => {
    for (const status of [401, 403]) {
      const { send, error } = await resolve({ listClusters: true }, [jsonAnswer(status, {}), jsonAnswer(200, [])])
      expect(send.requests).toHaveLength(1)
      expect(error).toContain(`answered HTTP ${status}.`)
    }
  })
})
