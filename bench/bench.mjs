// `npm run bench`: times whole processes as the runner starts them, against the stand-in Run:ai
// server on loopback, and writes BENCHMARKS.md. Compare the ratios it prints, not absolute times:
// they come from one run on one machine, with the runs interleaved so that drift hits all alike.
import { spawn, execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { gzipSync } from 'node:zlib'
import { DEFAULT_CLIENT, startStandIn } from '../test-server/runai-stand-in.mjs'
import { runLikeRunner } from '../test-server/runner.mjs'

const { values: options } = parseArgs({
  options: { rounds: { type: 'string', default: '40' }, out: { type: 'string', default: 'BENCHMARKS.md' } }
})
const ROUNDS = Number(options.rounds)
const WARM_UP = 3
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined // GNU time gives the child's peak RSS
const work = mkdtempSync(join(tmpdir(), 'runai-bench-'))
const log = (line) => process.stdout.write(`${line}\n`)

// ---------- one process, as the runner starts it ----------
let runCounter = 0
async function runProcess(script, inputs, { expectToken = true, nodeArgs = [] } = {}) {
  const rssFile = join(work, `rss-${runCounter++}`)
  const wrapper = TIME ? [TIME, '-f', '%M', '-o', rssFile] : []
  const run = await runLikeRunner(script, inputs, { wrapper, nodeArgs })
  const ok = run.exitCode === 0 && (!expectToken || run.outputs.token !== undefined)
  const rssKb = TIME && existsSync(rssFile) ? Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop()) : NaN
  return { wallMs: run.durationMs, rssKb, ok }
}

// ---------- statistics ----------
const sorted = (xs) => [...xs].sort((a, b) => a - b)
const quantile = (xs, q) => {
  const s = sorted(xs)
  const i = (s.length - 1) * q
  const lo = Math.floor(i)
  return s[lo] + (s[Math.ceil(i)] - s[lo]) * (i - lo)
}
const median = (xs) => quantile(xs, 0.5)
const fmt = (x, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a')
const spread = (xs, digits = 1) => `${fmt(quantile(xs, 0.1), digits)} – ${fmt(quantile(xs, 0.9), digits)}`

// ---------- the scenarios ----------
const latest = await startStandIn({ generation: 'latest' })
const old = await startStandIn({ generation: '2.18' })
const credentials = { 'client-id': DEFAULT_CLIENT.id, 'client-secret': DEFAULT_CLIENT.secret }
const variants = {
  floor: () => runProcess('bench/floor.mjs', { url: latest.url, ...credentials }),
  v2: () => runProcess('dist/index.js', { url: latest.url, ...credentials, 'api-version': 'v2' }),
  auto218: () => runProcess('dist/index.js', { url: old.url, ...credentials, 'api-version': 'auto' })
}

log(`node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}; ${ROUNDS} rounds after ${WARM_UP} warm-up rounds`)
for (let i = 0; i < WARM_UP; i++) for (const run of Object.values(variants)) await run()
const results = { floor: [], v2: [], auto218: [] }
const ratios = { v2: [], auto218: [] }
for (let round = 0; round < ROUNDS; round++) {
  // A B A C: each action run is paired with the floor run just before it.
  for (const name of ['v2', 'auto218']) {
    const floor = await variants.floor()
    const action = await variants[name]()
    if (!floor.ok || !action.ok) throw new Error(`a ${floor.ok ? name : 'floor'} run failed in round ${round}`)
    results.floor.push(floor)
    results[name].push(action)
    ratios[name].push(action.wallMs / floor.wallMs)
  }
}
await latest.close()
await old.close()

// ---------- bundle size and load time ----------
const bundle = readFileSync('dist/index.js')
const variantsDir = join('bench', '.variants')
rmSync(variantsDir, { recursive: true, force: true })
mkdirSync(variantsDir, { recursive: true })
// What the issue calls "a bundle that only imports @actions/core": every export kept.
writeFileSync(join(variantsDir, 'core-only.js'), "import * as core from '@actions/core'\nglobalThis.keep = Object.keys(core)\n")
const ncc = (entry, outDir, extra = []) =>
  execFileSync(process.execPath, ['node_modules/@vercel/ncc/dist/ncc/cli.js', 'build', entry, '-o', outDir, '--quiet', ...extra], {
    stdio: 'ignore'
  })
ncc(join(variantsDir, 'core-only.js'), join(variantsDir, 'core-only'))
ncc('src/index.ts', join(variantsDir, 'minified'), ['--minify'])
writeFileSync(join(variantsDir, 'empty.mjs'), '')
const loadTargets = {
  'empty file': join(variantsDir, 'empty.mjs'),
  'dist/index.js': 'dist/index.js',
  'dist, minified': join(variantsDir, 'minified', 'index.js'),
  '@actions/core only, every export': join(variantsDir, 'core-only', 'index.js')
}
async function loadMs(file) {
  const child = spawn(process.execPath, ['bench/load-only.mjs', file], {
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'ignore', 'pipe']
  })
  let err = ''
  child.stderr.on('data', (c) => (err += c))
  await new Promise((resolve) => child.on('close', resolve))
  return Number(err.trim().split('\n').pop())
}
const loads = Object.fromEntries(Object.keys(loadTargets).map((k) => [k, []]))
const starts = Object.fromEntries(Object.keys(loadTargets).map((k) => [k, []]))
for (let round = 0; round < WARM_UP + ROUNDS; round++) {
  for (const [name, file] of Object.entries(loadTargets)) {
    const ms = await loadMs(file)
    const whole = await runProcess(file, {}, { expectToken: false })
    if (round >= WARM_UP) {
      loads[name].push(ms)
      starts[name].push(whole.wallMs)
    }
  }
}
const sizeOf = (file) => ({ bytes: statSync(file).size, gzip: gzipSync(readFileSync(file)).length })
const distSize = sizeOf('dist/index.js')
const minSize = sizeOf(loadTargets['dist, minified'])
const coreSize = sizeOf(loadTargets['@actions/core only, every export'])

// What the bytes of dist/index.js are: the concatenated modules webpack names in comments.
const text = bundle.toString('utf8')
const marks = [...text.matchAll(/\/\/ CONCATENATED MODULE: (\S+)/g)].map((m) => ({ name: m[1], at: m.index }))
const byOrigin = new Map()
marks.forEach((mark, i) => {
  const end = marks[i + 1]?.at ?? text.length
  const origin = mark.name.startsWith('./src/') ? 'src/ (this action)' : mark.name.replace(/^\.\/node_modules\/((@[^/]+\/)?[^/]+).*$/, '$1')
  byOrigin.set(origin, (byOrigin.get(origin) ?? 0) + (end - mark.at))
})
const runtimeBytes = text.length - [...byOrigin.values()].reduce((a, b) => a + b, 0)

// ---------- where a v2 run spends its time: a CPU profile ----------
const profileDir = join(work, 'profile')
const profLatest = await startStandIn({ generation: 'latest' })
await runProcess(
  'dist/index.js',
  { url: profLatest.url, ...credentials, 'api-version': 'v2' },
  { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, '--cpu-prof-interval=100'] }
)
await profLatest.close()
const profile = JSON.parse(readFileSync(join(profileDir, readdirSync(profileDir)[0]), 'utf8'))
const interval = (profile.endTime - profile.startTime) / 1000 / profile.samples.length
const nodeById = new Map(profile.nodes.map((n) => [n.id, n]))
const selfBy = new Map()
for (const id of profile.samples) {
  const { callFrame } = nodeById.get(id)
  const where = callFrame.url.includes('dist/index.js')
    ? 'dist/index.js'
    : callFrame.url.startsWith('node:')
      ? 'Node internals (node:*)'
      : callFrame.functionName.startsWith('(')
        ? callFrame.functionName
        : callFrame.url || '(native)'
  selfBy.set(where, (selfBy.get(where) ?? 0) + interval)
}
const profileTotal = [...selfBy.values()].reduce((a, b) => a + b, 0)

// ---------- load: 100 runs at once, 20 tokens a second ----------
const clients = Array.from({ length: 100 }, (_, i) => ({ id: `load-${i}`, secret: `load-secret-${i}` }))
const limited = await startStandIn({ clients, faults: { tokensPerSecond: 20 } })
const loadStarted = Date.now()
const loadRuns = await Promise.all(
  clients.map((c) => runProcess('dist/index.js', { url: limited.url, 'client-id': c.id, 'client-secret': c.secret }))
)
const loadElapsed = (Date.now() - loadStarted) / 1000
const loadRequests = limited.requests.length
const earlyRetries = limited.earlyRetries
await limited.close()
rmSync(work, { recursive: true, force: true })
rmSync(variantsDir, { recursive: true, force: true })

// ---------- report ----------
const row = (name, runs, ratioList) =>
  `| ${name} | ${fmt(median(runs.map((r) => r.wallMs)))} | ${spread(runs.map((r) => r.wallMs))} | ${fmt(median(runs.map((r) => r.rssKb)) / 1024)} | ${spread(runs.map((r) => r.rssKb / 1024))} | ${ratioList ? `**${fmt(median(ratioList), 2)}** (${spread(ratioList, 2)})` : '1'} |`
const report = `# Benchmarks

Produced by \`npm run bench\` (\`node bench/bench.mjs --rounds ${ROUNDS}\`) on ${new Date().toISOString().slice(0, 10)}: node ${process.version},
${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}. Every number below comes from that one run. Timings on this machine are
noisy: read the ratios, which pair each run with the floor run just before it.

## Start to token, whole processes

Each run is a new process started as the runner starts it (inputs as \`INPUT_*\`, \`GITHUB_OUTPUT\` and
\`GITHUB_ENV\` files), against the stand-in Run:ai server on loopback. ${WARM_UP} warm-up rounds, then ${ROUNDS} rounds of
floor, v2, floor, auto. Spread is the 10th to 90th percentile. Peak memory is the child's maximum RSS
(${TIME ? 'GNU time' : 'not measured: /usr/bin/time is missing'}).

| run | median wall ms | spread | median peak RSS MiB | spread | ratio to floor, median of pairs (spread) |
| --- | --- | --- | --- | --- | --- |
${row('floor: bare node:http script (bench/floor.mjs)', results.floor)}
${row('dist/index.js, api-version v2', results.v2, ratios.v2)}
${row('dist/index.js, auto against 2.18 (3 requests)', results.auto218, ratios.auto218)}

Target: ratio at most 1.3 for v2. Measured: **${fmt(median(ratios.v2), 2)}**.

## Bundle: size and load time

| bundle | bytes | gzip | load in-process, median ms | spread | whole process with no inputs, median ms |
| --- | --- | --- | --- | --- | --- |
| empty file (Node start alone) | 0 | 0 | ${fmt(median(loads['empty file']), 2)} | ${spread(loads['empty file'], 2)} | ${fmt(median(starts['empty file']))} |
| **dist/index.js** (committed) | ${distSize.bytes} | ${distSize.gzip} | ${fmt(median(loads['dist/index.js']), 2)} | ${spread(loads['dist/index.js'], 2)} | ${fmt(median(starts['dist/index.js']))} |
| dist, built with \`ncc --minify\` | ${minSize.bytes} | ${minSize.gzip} | ${fmt(median(loads['dist, minified']), 2)} | ${spread(loads['dist, minified'], 2)} | ${fmt(median(starts['dist, minified']))} |
| \`@actions/core\` only, every export kept | ${coreSize.bytes} | ${coreSize.gzip} | ${fmt(median(loads['@actions/core only, every export']), 2)} | ${spread(loads['@actions/core only, every export'], 2)} | ${fmt(median(starts['@actions/core only, every export']))} |

"Load in-process" is the time of \`await import(bundle)\` inside a process (bench/load-only.mjs), with no
inputs, so the action stops at its first input check.

What the ${distSize.bytes} bytes of dist/index.js are:

| origin | bytes |
| --- | --- |
${[...byOrigin.entries()]
  .sort((a, b) => b[1] - a[1])
  .map(([origin, bytes]) => `| ${origin} | ${bytes} |`)
  .join('\n')}
| webpack runtime, imports of Node built-ins, license comments | ${runtimeBytes} |

## Where a v2 run spends its CPU time

\`node --cpu-prof --cpu-prof-interval=100\` on one \`api-version: v2\` run; self time by where the code lives
(${fmt(profileTotal)} ms sampled).

| where | ms | share |
| --- | --- | --- |
${[...selfBy.entries()]
  .sort((a, b) => b[1] - a[1])
  .slice(0, 8)
  .map(([where, ms]) => `| ${where} | ${fmt(ms)} | ${fmt((100 * ms) / profileTotal, 0)} % |`)
  .join('\n')}

## Load: 100 runs at once, 20 tokens a second

100 processes of dist/index.js started together, each with its own client, against a stand-in that
serves at most 20 tokens a second and answers the rest 429 with \`Retry-After\`.

| succeeded | token requests seen | retries | runs that retried before Retry-After | time until the last finished | ideal (100 / 20) |
| --- | --- | --- | --- | --- | --- |
| ${loadRuns.filter((r) => r.ok).length} / 100 | ${loadRequests} | ${loadRequests - 100} | ${earlyRetries} | ${fmt(loadElapsed, 2)} s | 5.00 s |
`
const notes = existsSync('bench/NOTES.md') ? `\n${readFileSync('bench/NOTES.md', 'utf8')}` : ''
writeFileSync(options.out, report + notes)
log(report)
