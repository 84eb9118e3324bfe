// Coverage of src/, counted over the unit and the end-to-end tests together, checked against the
// thresholds in package.json ("config": {"coverage": {"lines": …, "branches": …}}).
//
// Two sides, both measured by V8 and turned into Istanbul data by v8-to-istanbul, so that they
// merge by location (line by line for lines; by the innermost enclosing range for branches):
//   coverage/jest/coverage-final.json  jest's own, in-process (coverageProvider 'v8', ts-jest's
//                                      source maps); its files are the universe (collectCoverageFrom)
//   coverage/raw/                      raw V8 coverage of every `node dist/index.js` that the e2e
//                                      tests started (RUNAI_E2E_V8_COVERAGE, see runner.mjs), mapped
//                                      back to src/*.ts through dist/index.js.map by `c8 report`
// Writes coverage/coverage-final.json and coverage/lcov.info, prints a summary and, for every file
// below a threshold, its uncovered lines and the lines of its uncovered branches. Exits 1 below a
// threshold. Run by scripts/test.mjs; `node scripts/coverage.mjs` again re-reads the last run.
//
// Excluding code: `/* c8 ignore next */` (the next line), `/* c8 ignore next 3 */`, or
// `/* c8 ignore start */` … `/* c8 ignore stop */`, each with a reason; they work on both sides.
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const libCoverage = require('istanbul-lib-coverage')
const libReport = require('istanbul-lib-report')
const reports = require('istanbul-reports')

const root = fileURLToPath(new URL('..', import.meta.url))
const dir = join(root, 'coverage')
export const RAW_DIR = join(dir, 'raw')
export const JEST_DIR = join(dir, 'jest')
const E2E_DIR = join(dir, 'e2e')

/** The thresholds, in percent: package.json's config.coverage. */
export function thresholds() {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  const { lines = 100, branches = 100 } = pkg.config?.coverage ?? {}
  return { lines, branches }
}

/** The end-to-end side: c8 maps the raw V8 coverage of dist/index.js back to src/ (its source map). */
function e2eCoverage() {
  if (!existsSync(RAW_DIR) || readdirSync(RAW_DIR).length === 0) return {}
  rmSync(E2E_DIR, { recursive: true, force: true })
  // Not --exclude-after-remap: with the file:// sources of Node's source-map cache it drops every
  // range (c8 12), so filtering to src/ happens below, on the mapped paths.
  execFileSync(
    process.execPath,
    [
      require.resolve('c8/bin/c8.js'),
      'report',
      '--temp-directory',
      RAW_DIR,
      '--reports-dir',
      E2E_DIR,
      '--reporter',
      'json',
      '--include',
      'dist/index.js',
      '--all',
      'false'
    ],
    { cwd: root, stdio: 'inherit' }
  )
  return JSON.parse(readFileSync(join(E2E_DIR, 'coverage-final.json'), 'utf8'))
}

/** Line numbers as short ranges: 3,7-9. */
function ranges(numbers) {
  const sorted = [...new Set(numbers)].sort((a, b) => a - b)
  const out = []
  for (const n of sorted) {
    const last = out.at(-1)
    if (last !== undefined && n === last[1] + 1) last[1] = n
    else out.push([n, n])
  }
  return out.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(',')
}

export function checkCoverage() {
  const jestFile = join(JEST_DIR, 'coverage-final.json')
  if (!existsSync(jestFile)) {
    const verdict = `FAILED: no ${relative(root, jestFile)}; run \`npm test\` first`
    console.error(`coverage: ${verdict}.`)
    return { ok: false, verdict }
  }
  const unit = JSON.parse(readFileSync(jestFile, 'utf8'))
  const e2e = e2eCoverage()
  const map = libCoverage.createCoverageMap({})
  for (const data of Object.values(unit)) map.addFileCoverage(data)
  const universe = new Set(Object.keys(unit))
  for (const [file, data] of Object.entries(e2e)) if (universe.has(file)) map.addFileCoverage(data)

  const context = libReport.createContext({ dir, coverageMap: map, defaultSummarizer: 'flat' })
  for (const name of ['json', 'lcovonly']) reports.create(name).execute(context)

  const min = thresholds()
  const rows = []
  for (const file of map.files().sort()) {
    const coverage = map.fileCoverageFor(file)
    const summary = coverage.toSummary()
    const { lines, branches } = summary
    const below = lines.pct < min.lines || branches.pct < min.branches
    if (!below) continue
    const branchLines = []
    for (const [id, counts] of Object.entries(coverage.b)) {
      counts.forEach((count, i) => {
        if (count === 0) branchLines.push(coverage.branchMap[id].locations[i]?.start.line ?? coverage.branchMap[id].line)
      })
    }
    rows.push([
      relative(root, file).split(sep).join('/'),
      `${lines.pct}%`,
      `${branches.pct}%`,
      ranges(coverage.getUncoveredLines().map(Number)),
      ranges(branchLines)
    ])
  }
  const total = map.getCoverageSummary()
  const belowTotal = total.lines.pct < min.lines || total.branches.pct < min.branches
  const e2eFiles = Object.keys(e2e).filter((file) => universe.has(file)).length
  console.log(
    `\nCoverage of src/ (unit tests in jest + the e2e runs of dist/index.js mapped back through its source map, ${e2eFiles} files reached):`
  )
  console.log(
    `  lines ${total.lines.pct}% (${total.lines.covered}/${total.lines.total}), branches ${total.branches.pct}% (${total.branches.covered}/${total.branches.total}), functions ${total.functions.pct}% (${total.functions.covered}/${total.functions.total})`
  )
  if (rows.length > 0) {
    const header = ['file below the threshold', 'lines', 'branches', 'uncovered lines', 'uncovered branches at lines']
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
    const line = (cells) => `  ${cells.map((c, i) => c.padEnd(widths[i])).join('  ')}`.trimEnd()
    console.log(line(header))
    for (const row of rows) console.log(line(row))
  }
  const numbers = `lines ${total.lines.pct}%, branches ${total.branches.pct}%; thresholds ${min.lines}%, ${min.branches}% (package.json config.coverage)`
  if (belowTotal || rows.length > 0) {
    const verdict = `FAILED: below the threshold in ${rows.length} file(s): ${numbers}`
    console.error(`coverage: ${verdict}. The table above lists them; coverage/lcov.info has the details.`)
    return { ok: false, verdict }
  }
  const verdict = `passed: ${numbers}`
  console.log(`coverage: ${verdict}.`)
  return { ok: true, verdict }
}

if (resolve(process.argv[1] ?? '') === fileURLToPath(import.meta.url)) {
  process.exitCode = checkCoverage().ok ? 0 : 1
}
