import { spawn, type ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { createServer, request as forward, type IncomingHttpHeaders } from 'node:http'
import { createServer as createNetServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { controlPlaneView } from '../../test-server/openapi/control-plane-view.mjs'

// The request of each token-API generation, as docs/runai-token-api.md documents it, and a
// comparison of a request seen on the wire with that documentation and with the project's OpenAPI
// description as one control plane has it (test-server/openapi/). Prism alone cannot catch a
// misspelt field: like NVIDIA's published schemas, the description's v1 schema requires no field
// and allows any other, so Prism answers `{}` with a token.

export type Generation = 'v2' | 'v1' | 'v1-app-token'

interface Documented {
  path: string
  contentType: 'application/x-www-form-urlencoded' | 'application/json'
  grantField: string
  grantType: string
  idField: string
  secretField: string
}

/** The documented request of each generation (docs/runai-token-api.md, "The requests"). */
export const DOCUMENTED: Record<Generation, Documented> = {
  v2: {
    path: '/api/v2/token',
    contentType: 'application/x-www-form-urlencoded',
    grantField: 'grant_type',
    grantType: 'client_credentials',
    idField: 'client_id',
    secretField: 'client_secret'
  },
  v1: {
    path: '/api/v1/token',
    contentType: 'application/json',
    grantField: 'grantType',
    grantType: 'client_credentials',
    idField: 'clientId',
    secretField: 'clientSecret'
  },
  'v1-app-token': {
    path: '/api/v1/token',
    contentType: 'application/json',
    grantField: 'grantType',
    grantType: 'app_token',
    idField: 'AppId',
    secretField: 'AppSecret'
  }
}

export interface RecordedRequest {
  method: string
  /** The request target as sent, query included. */
  target: string
  headers: IncomingHttpHeaders
  body: Buffer
  /** The status the server behind the recorder answered with. */
  status?: number
}

export interface Expected {
  generation: Generation
  clientId: string
  clientSecret: string
}

// ---------------------------------------------------------------------------------------------
// OpenAPI documents: only what the comparison reads, with local `$ref`s resolved.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type JsonObject = { [key: string]: Json }
export interface OpenApiSpec {
  name: string
  document: JsonObject
}

/** The project's description (test-server/openapi/runai-api.json) as control plane `version` has it. */
export function loadSpec(version: string): OpenApiSpec {
  return { name: `control plane ${version}`, document: controlPlaneView(version) as JsonObject }
}

const isObject = (value: Json | undefined): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value)

/** Follows `$ref: '#/…'` pointers until a node that is not a reference. */
function resolve(spec: OpenApiSpec, node: Json | undefined): Json | undefined {
  for (let depth = 0; isObject(node) && typeof node.$ref === 'string' && depth < 20; depth++) {
    const ref: string = node.$ref
    if (!ref.startsWith('#/')) throw new Error(`${spec.name}: only local $refs are supported, got ${ref}`)
    node = ref
      .slice(2)
      .split('/')
      .reduce<Json | undefined>((at, key) => (isObject(at) ? at[key.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined), spec.document)
  }
  return node
}

function child(spec: OpenApiSpec, node: Json | undefined, ...keys: string[]): Json | undefined {
  return keys.reduce<Json | undefined>((at, key) => {
    const here = resolve(spec, at)
    return isObject(here) ? resolve(spec, here[key]) : undefined
  }, node)
}

const strings = (value: Json | undefined): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [])
const list = (names: Iterable<string>) => [...names].map((name) => `\`${name}\``).join(', ') || 'none'
const mediaTypeOf = (header: string) => (header.split(';')[0] ?? '').trim().toLowerCase()

// ---------------------------------------------------------------------------------------------
// The comparison.

/**
 * Everything in `request` that differs from the documented request of `expected.generation` or
 * from what `spec` declares for its endpoint. Empty when the request conforms. Field names must
 * be spelt as documented and be a property of the description's schema. For the v1 JSON keys, the
 * spelling of NVIDIA's specification (`x-runai-spec-spelling`: `clientID` for `clientId`) also
 * counts as declared, because the server's schema has it, but it still differs from the
 * documented request: the action sends what the docs and working clients send. Nothing assumes
 * that the server compares keys without regard to case; OAuth2 form fields have one spelling.
 */
export function requestProblems(request: RecordedRequest, spec: OpenApiSpec, expected: Expected): string[] {
  const doc = DOCUMENTED[expected.generation]
  const problems: string[] = []
  const where = `${spec.name}, ${expected.generation}`

  if (request.method !== 'POST') problems.push(`method is ${request.method}, expected POST`)
  const [path = '', query] = request.target.split('?')
  if (path !== doc.path) problems.push(`path is ${path}, expected ${doc.path}`)
  if (query !== undefined) problems.push(`the request target carries a query string (${query}); the credentials belong in the body`)

  const operation = child(spec, spec.document, 'paths', doc.path, 'post')
  if (!isObject(operation)) return [...problems, `${spec.name} declares no POST ${doc.path}`]

  // Content-Type: the documented one, and one the description declares a request body for.
  const contentType = String(request.headers['content-type'] ?? '')
  const mediaType = mediaTypeOf(contentType)
  const declaredMediaTypes = Object.keys(child(spec, operation, 'requestBody', 'content') ?? {})
  if (mediaType !== doc.contentType) problems.push(`Content-Type is "${contentType}", expected ${doc.contentType}`)
  if (!declaredMediaTypes.includes(mediaType))
    problems.push(`${where}: the description declares a request body only for ${list(declaredMediaTypes)}, not for "${contentType}"`)
  const charset = /;\s*charset=([^;]+)/i.exec(contentType)?.[1]?.trim().replace(/^"|"$/g, '')
  if (charset !== undefined && charset.toLowerCase() !== 'utf-8') problems.push(`Content-Type declares charset ${charset}, expected UTF-8`)
  const length = request.headers['content-length']
  if (length !== undefined && Number(length) !== request.body.length)
    problems.push(`Content-Length is ${length} but the body has ${request.body.length} bytes`)

  // Accept, if sent, must admit the media type of the described success answer.
  const accept = String(request.headers.accept ?? '*/*')
  const answerTypes = Object.keys(child(spec, operation, 'responses', '200', 'content') ?? {})
  const admits = (type: string) =>
    accept.split(',').some((range) => {
      const wanted = mediaTypeOf(range)
      return wanted === '*/*' || wanted === type || (wanted.endsWith('/*') && type.startsWith(wanted.slice(0, -1)))
    })
  if (answerTypes.length > 0 && !answerTypes.some(admits)) problems.push(`Accept "${accept}" admits none of ${list(answerTypes)}`)

  // The body's fields, in the media type the documentation prescribes.
  const fields = parseBody(request.body, doc.contentType, problems)
  if (fields === undefined) return problems
  const names = fields.map(([name]) => name)
  const duplicates = names.filter((name, index) => names.indexOf(name) !== index)
  if (duplicates.length > 0) problems.push(`field(s) ${list(new Set(duplicates))} sent more than once`)
  const values = new Map(fields)

  // Field names: exactly the documented ones, spelt as documented.
  const documentedNames = [doc.grantField, doc.idField, doc.secretField]
  const misspelt = new Set<string>()
  for (const name of documentedNames.filter((n) => !values.has(n))) {
    const nearly = names.find((sent) => sent.toLowerCase() === name.toLowerCase())
    if (nearly !== undefined) misspelt.add(nearly)
    problems.push(
      nearly === undefined
        ? `lacks field \`${name}\` (expected exactly ${list(documentedNames)})`
        : `sends \`${nearly}\`, but the documented spelling is \`${name}\``
    )
  }
  for (const name of new Set(names.filter((n) => !documentedNames.includes(n) && !misspelt.has(n))))
    problems.push(`sends field \`${name}\`, which is not documented (expected exactly ${list(documentedNames)})`)

  // Field names against the description's schema for this media type.
  const schema = child(spec, operation, 'requestBody', 'content', doc.contentType, 'schema')
  const properties = child(spec, schema, 'properties')
  const declared = isObject(properties) ? Object.keys(properties) : []
  const specSpelling = (property: string) => child(spec, properties, property, 'x-runai-spec-spelling')
  const declaredAs = (name: string) => declared.find((p) => p === name || specSpelling(p) === name)
  for (const name of new Set(names))
    if (declaredAs(name) === undefined)
      problems.push(`${where}: field \`${name}\` is not a property of the description's schema (declared: ${list(declared)})`)
  for (const name of strings(child(spec, schema, 'required')))
    if (!names.some((sent) => declaredAs(sent) === name))
      problems.push(`${where}: lacks \`${name}\`, which the description's schema requires`)
  for (const [name, value] of values) {
    const property = declaredAs(name)
    const type = property === undefined ? undefined : child(spec, properties, property, 'type')
    if (type === 'string' && typeof value !== 'string')
      problems.push(`${where}: \`${name}\` is ${JSON.stringify(value)}, the description declares a string`)
  }

  // Values: the grant type (documented, and in the description's enum) and the credentials.
  const grant = values.get(doc.grantField)
  if (grant !== undefined) {
    if (grant !== doc.grantType) problems.push(`\`${doc.grantField}\` is ${JSON.stringify(grant)}, expected "${doc.grantType}"`)
    const grantProperty = declaredAs(doc.grantField)
    const allowed = grantProperty === undefined ? [] : strings(child(spec, properties, grantProperty, 'enum'))
    if (grantProperty !== undefined && !allowed.includes(String(grant)))
      problems.push(`${where}: \`${doc.grantField}\` ${JSON.stringify(grant)} is not in the description's enum (${list(allowed)})`)
  }
  const id = values.get(doc.idField)
  if (id !== undefined && id !== expected.clientId)
    problems.push(`\`${doc.idField}\` is ${JSON.stringify(id)}, expected the client ID ${JSON.stringify(expected.clientId)}`)
  const secret = values.get(doc.secretField)
  // Never print a secret, not even a wrong one: it may be the real one sent under another name.
  if (secret !== undefined && secret !== expected.clientSecret)
    problems.push(
      `\`${doc.secretField}\` does not carry the client secret (it carries another value, ${String(secret).length} characters long)`
    )

  // The description's example(s) of this grant type's request: the same set of keys.
  const media = child(spec, operation, 'requestBody', 'content', doc.contentType)
  for (const [label, example] of examplesOf(spec, media)) {
    if (example[doc.grantField] !== doc.grantType) continue
    const theirs = Object.keys(example)
    const ours = [...new Set(names)]
    if (theirs.length !== ours.length || theirs.some((k) => !ours.includes(k)))
      problems.push(`${where}: the description's example "${label}" has the keys ${list(theirs)}; the request has ${list(ours)}`)
  }
  return problems
}

/** Which generation's request this looks like, by path and grant type; for reports of what was sent. */
export function generationOf(request: RecordedRequest): string {
  const path = request.target.split('?')[0]
  if (request.method === 'POST' && path === DOCUMENTED.v2.path) return 'v2'
  if (request.method === 'POST' && path === DOCUMENTED.v1.path) {
    const grant = /"grantType"\s*:\s*"([^"]*)"/.exec(request.body.toString('utf8'))?.[1]
    if (grant === DOCUMENTED.v1.grantType) return 'v1'
    if (grant === DOCUMENTED['v1-app-token'].grantType) return 'v1-app-token'
    return `v1 with grantType ${grant ?? '(none)'}`
  }
  return `${request.method} ${request.target}`
}

function parseBody(body: Buffer, contentType: Documented['contentType'], problems: string[]): [string, Json][] | undefined {
  const text = body.toString('utf8')
  if (!Buffer.from(text, 'utf8').equals(body)) problems.push('the body is not valid UTF-8')
  if (contentType === 'application/x-www-form-urlencoded') return [...new URLSearchParams(text)]
  let parsed: Json
  try {
    parsed = JSON.parse(text) as Json
  } catch (error) {
    problems.push(`the body is not JSON (${(error as Error).message}): ${JSON.stringify(text.slice(0, 40))}`)
    return undefined
  }
  if (!isObject(parsed)) {
    problems.push(`the body is JSON but not an object: ${JSON.stringify(text.slice(0, 40))}`)
    return undefined
  }
  return Object.entries(parsed)
}

/** The `example` / `examples` of a media-type object, as [label, value] pairs of objects. */
function examplesOf(spec: OpenApiSpec, media: Json | undefined): [string, JsonObject][] {
  if (!isObject(media)) return []
  const found: [string, JsonObject][] = []
  const single = resolve(spec, media.example)
  if (isObject(single)) found.push(['example', single])
  const named = resolve(spec, media.examples)
  if (isObject(named))
    for (const [label, entry] of Object.entries(named)) {
      const value = child(spec, entry, 'value')
      if (isObject(value)) found.push([label, value])
    }
  return found
}

// ---------------------------------------------------------------------------------------------
// Prism, a server this project did not write, serving a view of the description.

async function freePort(): Promise<number> {
  const server = createNetServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/**
 * Prism serving `spec.document`, written to `dir` because Prism reads a file: a mock, or with
 * `upstream` a proxy that forwards every request there and checks the answer against the document.
 */
export async function startPrism(spec: OpenApiSpec, dir: string, upstream?: string): Promise<{ url: string; process: ChildProcess }> {
  const port = await freePort()
  const file = join(dir, `${spec.name.replace(/\W+/g, '-')}.json`)
  writeFileSync(file, JSON.stringify(spec.document))
  // --errors: an answer that violates the description becomes an error too (in proxy mode a 500
  // whose body lists the violations). Requests that violate it get a 4xx either way; for the token
  // requests the flag changes nothing observable, since their schemas forbid so little (hence the
  // recorder and requestProblems).
  const mode = upstream === undefined ? ['mock', file] : ['proxy', file, upstream]
  const child = spawn(
    process.execPath,
    ['node_modules/@stoplight/prism-cli/dist/index.js', ...mode, '--errors', '-h', '127.0.0.1', '-p', String(port)],
    {
      stdio: ['ignore', 'pipe', 'pipe']
    }
  )
  let log = ''
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      log += chunk.toString()
      if (/Prism is listening/.test(log)) resolve()
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.on('exit', (code) => reject(new Error(`prism exited with ${code}: ${log}`)))
  })
  await ready
  return { url: `http://127.0.0.1:${port}`, process: child }
}

// ---------------------------------------------------------------------------------------------
// A recording relay: the action → recorder → the server under it, all on loopback.

export interface Recorder {
  url: string
  requests: RecordedRequest[]
  close(): Promise<void>
}

/** Relays every request to `upstream` unchanged and keeps the exact bytes of what it received. */
export async function startRecorder(upstream: string): Promise<Recorder> {
  const target = new URL(upstream)
  const requests: RecordedRequest[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        target: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks)
      }
      requests.push(recorded)
      const headers = { ...req.headers, host: target.host }
      const out = forward({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers }, (answer) => {
        recorded.status = Number(answer.statusCode)
        res.writeHead(recorded.status, answer.headers)
        answer.pipe(res)
      })
      out.on('error', (error) => {
        recorded.status = 502
        res.writeHead(502, { 'content-type': 'text/plain' }).end(`recorder: ${error.message}`)
      })
      out.end(recorded.body)
    })
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections()
        server.close(() => done())
      })
  }
}
