// `npm run test:coverage`: every jest test once, with the coverage of src/ counted over the tests'
// own processes and over every `node .build/index.js` the e2e tests start, checked against
// THRESHOLDS. Extra arguments go to jest.
//
// Two standard tools measure, one small step here merges. Why not c8 alone (`c8 jest`): Node keeps
// no source map for code that jest runs as ES modules (vm.SourceTextModule), so c8 would lay the
// offsets of ts-jest's output over the .ts files. Jest's own V8 coverage maps its transforms right,
// and c8 maps the action's processes through .build/index.js.map; neither reads the other's data,
// so the two coverage maps are merged here with istanbul-lib-coverage (what both use inside).
//
// Leaving code out: say why next to `/* c8 ignore next */`, `/* c8 ignore start */` … `stop`.
import { spawnSync } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const libCoverage = require('istanbul-lib-coverage')
const libReport = require('istanbul-lib-report')
const reports = require('istanbul-reports')

export const THRESHOLDS = { lines: 100, branches: 100 }
const root = fileURLToPath(new URL('..', import.meta.url))
const dir = join(root, 'coverage')
const run = (args, env = {}) => spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } }).status

rmSync(dir, { recursive: true, force: true })
// RUNAI_E2E_V8_COVERAGE: test-server/runner.mjs gives the action's processes NODE_V8_COVERAGE.
const jest = run(
  ['--experimental-vm-modules', join(root, 'node_modules', 'jest', 'bin', 'jest.js'), '--coverage', ...process.argv.slice(2)],
  { RUNAI_E2E_V8_COVERAGE: join(dir, 'raw') }
)
const e2e = run(
  [join(root, 'node_modules', 'c8', 'bin', 'c8.js'), 'report', '--temp-directory', 'coverage/raw', '--reports-dir', 'coverage/e2e'],
  { NODE_V8_COVERAGE: '' }
)
if (jest !== 0 || e2e !== 0) process.exit(1)

const map = libCoverage.createCoverageMap(JSON.parse(readFileSync(join(dir, 'jest', 'coverage-final.json'), 'utf8')))
const files = new Set(map.files())
// The bundle maps back to @actions/* too; only src/ counts, and jest's list of src/ is complete.
for (const data of Object.values(JSON.parse(readFileSync(join(dir, 'e2e', 'coverage-final.json'), 'utf8'))))
  if (files.has(data.path)) map.addFileCoverage(data)
const context = libReport.createContext({ dir, coverageMap: map })
for (const name of ['text-summary', 'lcovonly']) reports.create(name).execute(context)
const total = map.getCoverageSummary()
const below = Object.entries(THRESHOLDS).filter(([kind, min]) => total[kind].pct < min)
const numbers = `lines ${total.lines.pct}% (${total.lines.covered}/${total.lines.total}), branches ${total.branches.pct}% (${total.branches.covered}/${total.branches.total})`
if (below.length > 0) {
  reports.create('text', { skipFull: true }).execute(context)
  console.error(
    `coverage of src/: FAILED: ${numbers}; thresholds ${THRESHOLDS.lines}%, ${THRESHOLDS.branches}%. The table lists the files below; coverage/lcov.info has the details.`
  )
  process.exit(1)
}
console.log(`coverage of src/ (jest and the e2e runs of .build/index.js): ${numbers}.`)
