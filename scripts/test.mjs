// The test step of `npm test` (after lint and type-check):
//   1. every jest test on this node, with coverage of the tests' own process (coverage/jest) and of
//      every `node dist/index.js` that the e2e tests start (coverage/raw, RUNAI_E2E_V8_COVERAGE);
//   2. the e2e suites once more with dist/index.js run on Node 24 (RUNAI_E2E_NODE, see
//      test-node24.mjs), the runtime action.yml names, unless this node is 24 already. Prism's
//      conformance suite is left out of this pass: it checks the requests, not the runtime;
//   3. the coverage check over both (coverage.mjs; thresholds in package.json's config.coverage);
//   4. the dist check (check-dist.mjs): the e2e tests ran the committed dist/index.js.
// Every step runs whatever the others gave; a summary follows, and the exit code is 1 if any failed.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { checkCoverage, JEST_DIR, RAW_DIR } from './coverage.mjs'
import { findNode24 } from './test-node24.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const coverageDir = join(root, 'coverage')
const JEST = ['--experimental-vm-modules', join(root, 'node_modules', 'jest', 'bin', 'jest.js')]
// Left out of the Node 24 pass (a path regex each): slow, and not about the runtime.
const NOT_ON_NODE_24 = ['/openapi-mock']

let jestRuns = 0
/** Runs jest on this node; returns whether it passed and its test counts (from --json). */
function jest(label, args, env) {
  const results = join(coverageDir, `jest-results-${++jestRuns}.json`)
  const started = Date.now()
  // RUNAI_E2E_NODE from outside chooses the binary of the Node 24 pass, not the first pass's.
  const childEnv = { ...process.env, RUNAI_E2E_V8_COVERAGE: RAW_DIR, ...env }
  if (env.RUNAI_E2E_NODE === undefined) delete childEnv.RUNAI_E2E_NODE
  const run = spawnSync(process.execPath, [...JEST, '--json', `--outputFile=${results}`, ...args], {
    cwd: root,
    stdio: 'inherit',
    env: childEnv
  })
  let passed = 0
  let failed = 0
  if (existsSync(results)) {
    const summary = JSON.parse(readFileSync(results, 'utf8'))
    passed = summary.numPassedTests
    failed = summary.numFailedTests + summary.numRuntimeErrorTestSuites
  }
  const ok = run.status === 0
  const seconds = ((Date.now() - started) / 1000).toFixed(0)
  const verdict = `${ok ? 'passed' : `FAILED (exit ${run.status ?? run.signal})`}: ${passed} passed, ${failed} failed, ${seconds} s`
  return { label, ok, passed, failed: ok ? failed : Math.max(failed, 1), verdict }
}

rmSync(coverageDir, { recursive: true, force: true })
mkdirSync(RAW_DIR, { recursive: true })

const node24 = findNode24()
const steps = [
  jest(
    `jest on node ${process.version} (every test, with coverage)`,
    ['--coverage', '--coverageReporters=json', `--coverageDirectory=${JEST_DIR}`],
    {}
  )
]
let ranOn = `e2e ran on node ${process.version}`
if (node24.path !== undefined) {
  console.log(`\nThe e2e suites again, with dist/index.js on Node ${node24.version} (${node24.from}):`)
  steps.push(
    jest(`e2e on node ${node24.version} (${node24.from})`, ['__tests__/e2e/', '--testPathIgnorePatterns', ...NOT_ON_NODE_24], {
      RUNAI_E2E_NODE: node24.path
    })
  )
  ranOn += ` and ${node24.version}`
} else if (node24.same) {
  ranOn += ` only: it is Node 24 already, the runtime of action.yml (runs.using: node24)`
} else {
  steps.push({ label: 'e2e on node 24', ok: false, passed: 0, failed: 0, verdict: `FAILED: no Node 24: ${node24.error}` })
}

const coverage = checkCoverage()
steps.push({ label: 'coverage of src/', ok: coverage.ok, passed: 0, failed: 0, verdict: coverage.verdict })

console.log('')
const dist = spawnSync(process.execPath, [join(root, 'scripts', 'check-dist.mjs')], { cwd: root, stdio: 'inherit' })
steps.push({
  label: 'dist/',
  ok: dist.status === 0,
  passed: 0,
  failed: 0,
  verdict: dist.status === 0 ? 'matches a fresh build' : 'FAILED: not what the sources build (npm run build, then commit dist/)'
})

console.log('\nnpm test:')
for (const step of steps) console.log(`  ${step.label}: ${step.verdict}`)
console.log(`${ranOn}.`)
// The closing line: one count over both passes, in the plain form that CI logs are read for.
const count = (key) => steps.reduce((sum, step) => sum + step[key], 0)
console.log(`jest: ${count('passed')} passed, ${count('failed')} failed`)
process.exitCode = steps.every((step) => step.ok) ? 0 : 1
