// The plain OpenAPI document of one Run:ai control-plane version, made from runai-api.json, which
// describes every version at once (see its info.description for the x-runai-* marks). The
// conformance tests serve such a view with Prism; to serve one yourself:
//   node test-server/openapi/control-plane-view.mjs 2.20 > /tmp/runai-2.20.json
//   npx prism mock /tmp/runai-2.20.json
// Hand-made because the standard way to derive variants of a document, an OpenAPI Overlay, needs
// a tool the project does not otherwise use, and an overlay per version would repeat what the
// marks say once. Plain Node, no dependencies.
import { readFileSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'

const DOCUMENT = fileURLToPath(new URL('runai-api.json', import.meta.url))

/** Every version the document holds facts for, oldest first. */
export function describedControlPlanes() {
  return [...readDocument().info['x-runai-control-planes']]
}

/**
 * The document as control plane `version` has it: elements added later or removed by then are
 * gone, as are enum values; elements deprecated by then say `deprecated: true`; the version marks
 * themselves are dropped. `document` defaults to runai-api.json (tests pass altered copies).
 */
export function controlPlaneView(version, document = readDocument()) {
  const view = narrow(document, version)
  view.info.version = `${document.info.version} (control plane ${version})`
  view.info.title = `${document.info.title}, control plane ${version}`
  delete view.info['x-runai-control-planes']
  const dangling = [...new Set(localRefs(view))].filter((ref) => pointee(view, ref) === undefined)
  if (dangling.length > 0)
    throw new Error(`control plane ${version}: these $refs point at elements it does not have: ${dangling.join(', ')}`)
  return view
}

const ADDED = 'x-runai-added-in'
const REMOVED = 'x-runai-removed-in'
const DEPRECATED = 'x-runai-deprecated-in'
const ENUM_ADDED = 'x-runai-enum-added-in'
const ENUM_REMOVED = 'x-runai-enum-removed-in'
const MARKS = [ADDED, REMOVED, DEPRECATED, ENUM_ADDED, ENUM_REMOVED]

const isObject = (value) => typeof value === 'object' && value !== null && !Array.isArray(value)
const within = (version, added, removed) =>
  (added === undefined || atLeast(version, added)) && (removed === undefined || !atLeast(version, removed))
const presentIn = (node, version) => !isObject(node) || within(version, node[ADDED], node[REMOVED])

/** A copy of `node` as `version` has it. */
function narrow(node, version) {
  if (Array.isArray(node)) return node.map((item) => narrow(item, version))
  if (!isObject(node)) return node
  const kept = {}
  for (const [key, value] of Object.entries(node)) if (!MARKS.includes(key) && presentIn(value, version)) kept[key] = narrow(value, version)
  if (Array.isArray(node.enum))
    kept.enum = node.enum.filter((value) => within(version, node[ENUM_ADDED]?.[value], node[ENUM_REMOVED]?.[value]))
  if (node[DEPRECATED] !== undefined && atLeast(version, node[DEPRECATED])) kept.deprecated = true
  return kept
}

function* localRefs(node) {
  if (Array.isArray(node)) for (const item of node) yield* localRefs(item)
  else if (isObject(node))
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref') yield value
      else yield* localRefs(value)
    }
}

/** The element a local JSON pointer (`#/components/schemas/…`) names, or undefined. */
const pointee = (document, ref) =>
  ref
    .slice(2)
    .split('/')
    .map((key) => key.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((at, key) => (isObject(at) ? at[key] : undefined), document)

/** Whether version `a` is `b` or later, comparing the dotted numbers one by one (2.9 < 2.18). */
function atLeast(a, b) {
  const [x, y] = [a, b].map((v) => String(v).split('.').map(Number))
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) > (y[i] ?? 0)
  return true
}

function readDocument() {
  return JSON.parse(readFileSync(DOCUMENT, 'utf8'))
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [version] = process.argv.slice(2)
  if (version === undefined || !/^\d+(\.\d+)*$/.test(version)) {
    console.error(`usage: node ${process.argv[1]} <control-plane version, e.g. 2.20>; described: ${describedControlPlanes().join(', ')}`)
    process.exit(2)
  }
  process.stdout.write(`${JSON.stringify(controlPlaneView(version), null, 2)}\n`)
}
