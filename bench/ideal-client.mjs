// The ideal client of the network benchmark: the least any client could do to send the same
// requests as the action. Started like the action (bench/network.mjs runs it with runLikeRunner),
// it reads the same INPUT_* variables, opens ONE TCP connection (through ONE CONNECT tunnel when
// HTTPS_PROXY is set), does ONE TLS handshake, sends the POSTs named in INPUT_IDEAL-SEQUENCE one
// after the other on that connection with keep-alive, whatever they answer, without waiting in
// between, then hands on the token of the last answer as the floor does (bench/floor.mjs) and
// closes the connection without waiting for the server. No validation, no retries, no fallback
// logic: it already knows the answers.
//
// The deploy context (issue 15): with INPUT_CLUSTER, INPUT_PROJECT or INPUT_PERMISSION it then
// sends, on the same connection and with the token as a bearer, what src/deploy-context.ts sends
// for them, in its order: GET /api/v1/clusters?verbosity=metadata, GET /api/v1/org-unit/projects
// with the project's name and the cluster's UUID (taken from the clusters answer by name: the one
// thing it must read), one POST /api/v1/authorization/permitted-scopes per resource type. It
// checks none of the answers but their status, and writes `cluster-id` and `project-id` so that
// the bench can see it found what the action finds.
//
// Trust is the action's: Node's root certificates plus the `ca-certificate` file (when given). It
// is built the cheapest way known on Node 20, adding the file to a default context's store
// (`secureContext.context.addCACert`, about 2 ms), not with `ca: [...tls.rootCertificates, pem]`,
// which parses the 144 roots again (tens of milliseconds); see bench/NOTES.md.
import { request as httpRequest } from 'node:http'
import { Agent, request } from 'node:https'
import { connect as tlsConnect, createSecureContext } from 'node:tls'
import { appendFileSync, readFileSync } from 'node:fs'

const env = process.env
const base = new URL(env.INPUT_URL)
const id = env['INPUT_CLIENT-ID'] ?? ''
const secret = env['INPUT_CLIENT-SECRET'] ?? ''
// The same bodies and headers as the action sends (src/generations.ts).
const requests = {
  v2: {
    path: '/api/v2/token',
    type: 'application/x-www-form-urlencoded',
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: id, client_secret: secret }).toString()
  },
  v1: {
    path: '/api/v1/token',
    type: 'application/json',
    body: JSON.stringify({ grantType: 'client_credentials', clientId: id, clientSecret: secret })
  },
  'v1-app-token': {
    path: '/api/v1/token',
    type: 'application/json',
    body: JSON.stringify({ grantType: 'app_token', AppId: id, AppSecret: secret })
  }
}
const sequence = (env['INPUT_IDEAL-SEQUENCE'] ?? 'v2').split(',').map((name) => requests[name])
const port = Number(base.port || 443)
const secureContext = createSecureContext()
if (env['INPUT_CA-CERTIFICATE']) secureContext.context.addCACert(readFileSync(env['INPUT_CA-CERTIFICATE'], 'utf8'))
const agent = new Agent({ keepAlive: true, maxSockets: 1, secureContext })

const proxy = env.HTTPS_PROXY
if (proxy !== undefined) {
  const proxyUrl = new URL(proxy)
  const authority = `${base.hostname}:${port}`
  const tunnel = await new Promise((resolve, reject) => {
    const connectRequest = httpRequest({
      host: proxyUrl.hostname,
      port: proxyUrl.port,
      method: 'CONNECT',
      path: authority,
      headers: { Host: authority }
    })
    connectRequest.once('connect', (res, socket) =>
      res.statusCode === 200 ? resolve(socket) : reject(new Error(`CONNECT: HTTP ${res.statusCode}`))
    )
    connectRequest.once('error', reject)
    connectRequest.end()
  })
  agent.createConnection = (options) => tlsConnect({ ...options, socket: tunnel })
}

/** One request on the kept-alive connection; the headers are the action's (src/transport.ts). */
function send(method, path, { type, body, authorization } = {}) {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: base.hostname,
        port,
        path,
        method,
        agent,
        headers: {
          ...(body === undefined ? {} : { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) }),
          ...(authorization === undefined ? {} : { Authorization: authorization }),
          Accept: 'application/json',
          'User-Agent': 'ideal-client'
        }
      },
      (res) => {
        let text = ''
        res.on('data', (chunk) => (text += chunk))
        res.on('end', () => resolve({ status: res.statusCode, text }))
      }
    )
    req.once('error', reject)
    req.end(body)
  })
}
const fail = (message) => {
  agent.destroy()
  process.stderr.write(`${message}\n`)
  process.exit(1)
}

let answer
for (const { path, type, body } of sequence) answer = await send('POST', path, { type, body })
const parsed = JSON.parse(answer.text)
const token = parsed.access_token ?? parsed.accessToken
if (answer.status !== 200 || typeof token !== 'string') fail(`the last answer was HTTP ${answer.status}, not a token`)

const cluster = env.INPUT_CLUSTER ?? ''
const project = env.INPUT_PROJECT ?? ''
const listClusters = env['INPUT_LIST-CLUSTERS'] === 'true'
// `<action> <resource type>`, comma-separated: one permitted-scopes request per resource type.
const resourceTypes = new Map()
for (const entry of (env.INPUT_PERMISSION ?? '').split(',').map((p) => p.trim().split(/\s+/))) {
  if (entry.length === 2 && !resourceTypes.has(entry[1])) resourceTypes.set(entry[1], entry[0])
}
const outputs = {}
if (cluster !== '' || project !== '' || listClusters || resourceTypes.size > 0) {
  const authorization = `Bearer ${token}`
  const lookup = async (method, path, body) => {
    const got = await send(method, path, { authorization, ...(body === undefined ? {} : { type: 'application/json', body }) })
    if (got.status !== 200) fail(`${method} ${path.split('?')[0]} answered HTTP ${got.status}`)
    return JSON.parse(got.text)
  }
  let clusterId
  if (cluster !== '' || project !== '' || listClusters) {
    const clusters = await lookup('GET', '/api/v1/clusters?verbosity=metadata')
    clusterId = clusters.find((c) => c.name === cluster || c.uuid.toLowerCase() === cluster.toLowerCase())?.uuid
    if (cluster !== '') outputs['cluster-id'] = clusterId
  }
  if (project !== '') {
    const filter = [`name==${project}`, ...(clusterId === undefined ? [] : [`clusterId==${clusterId}`])].join(',')
    const { projects } = await lookup('GET', `/api/v1/org-unit/projects?filterBy=${encodeURIComponent(filter)}&limit=500`)
    outputs['project-id'] = String(projects[0]?.id)
  }
  for (const [resourceType, action] of resourceTypes) {
    await lookup('POST', '/api/v1/authorization/permitted-scopes', JSON.stringify({ resourceType, action }))
  }
}
agent.destroy()
process.stdout.write(`::add-mask::${token}\n`)
appendFileSync(env.GITHUB_OUTPUT, `token<<EOF_TOKEN\n${token}\nEOF_TOKEN\n`)
appendFileSync(env.GITHUB_ENV, `RUNAI_TOKEN<<EOF_TOKEN\n${token}\nEOF_TOKEN\n`)
for (const [name, value] of Object.entries(outputs)) appendFileSync(env.GITHUB_OUTPUT, `${name}<<EOF_VALUE\n${value}\nEOF_VALUE\n`)
