// `npm run bench`: times whole processes as the runner starts them, against the stand-in Run:ai
// server on loopback and behind a latency relay, and writes BENCHMARKS.md. Compare the ratios it
// prints, not absolute times: they come from one run on one machine, with the runs interleaved so
// that drift hits all alike.
//
//   node bench/bench.mjs [--rounds N] [--rtt MS] [--only start,network,bundle,profile,load] [--out FILE] [--action FILE]
//
// --rounds: rounds of every part (default 40, the network part 10); --rtt: round-trip time of the
// network part (default 40); --only: run only these parts and print the report, writing it only
// when --out is given too (a partial report must not replace BENCHMARKS.md by accident); --action:
// the action script the start and network parts run (default dist/index.js), e.g. an older bundle
// saved as .mjs (`git show HEAD:dist/index.js > /tmp/old.mjs`) to compare.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { gzipSync } from 'node:zlib'
import { createHash } from 'node:crypto'
import { build } from '../scripts/build.mjs'
import { DEFAULT_CLIENT, startStandIn } from '../test-server/runai-stand-in.mjs'
import { runLikeRunner } from '../test-server/runner.mjs'
import { measureNetwork, networkReport } from './network.mjs'

const { values: options } = parseArgs({
  options: {
    rounds: { type: 'string' },
    rtt: { type: 'string', default: '40' },
    only: { type: 'string' },
    out: { type: 'string' },
    action: { type: 'string', default: 'dist/index.js' }
  }
})
const PARTS = ['start', 'network', 'bundle', 'profile', 'load']
const only = options.only?.split(',').map((p) => p.trim())
const unknown = only?.filter((p) => !PARTS.includes(p)) ?? []
if (unknown.length > 0) throw new Error(`--only: unknown part(s) ${unknown.join(', ')}; the parts are ${PARTS.join(', ')}`)
const runs = (part) => only === undefined || only.includes(part)
const ROUNDS = Number(options.rounds ?? 40)
const NETWORK_ROUNDS = Number(options.rounds ?? 10)
const RTT_MS = Number(options.rtt)
for (const [name, n, least] of [
  ['--rounds', ROUNDS, 1],
  ['--rtt', RTT_MS, 0]
]) {
  if (!Number.isFinite(n) || n < least || n > 1000) throw new Error(`${name} must be a number from ${least} to 1000`)
}
const ACTION = options.action
const OUT = options.out ?? (only === undefined ? 'BENCHMARKS.md' : undefined)
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

const credentials = { 'client-id': DEFAULT_CLIENT.id, 'client-secret': DEFAULT_CLIENT.secret }
// Others may rebuild dist/ while this runs: the report names the file it timed and says if it changed.
const fingerprint = () => `${createHash('sha256').update(readFileSync(ACTION)).digest('hex').slice(0, 12)}, ${statSync(ACTION).size} bytes`
const actionAtStart = fingerprint()
const benchStarted = Date.now()
const partSeconds = {}
/** Runs one part and notes how long it took. */
async function part(name, measure) {
  if (!runs(name)) return undefined
  const started = Date.now()
  log(`--- ${name}`)
  const result = await measure()
  partSeconds[name] = (Date.now() - started) / 1000
  log(`--- ${name}: ${partSeconds[name].toFixed(0)} s`)
  return result
}

// ---------- start to token on loopback: floor, v2, auto ----------
const start = await part('start', async () => {
  const latest = await startStandIn({ generation: 'latest' })
  const old = await startStandIn({ generation: '2.18' })
  const variants = {
    floor: () => runProcess('bench/floor.mjs', { url: latest.url, ...credentials }),
    v2: () => runProcess(ACTION, { url: latest.url, ...credentials, 'api-version': 'v2' }),
    auto218: () => runProcess(ACTION, { url: old.url, ...credentials, 'api-version': 'auto' })
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
  return { results, ratios }
})

// ---------- over a network: latency relay, TLS, the ideal client ----------
const network = await part('network', () => measureNetwork({ rttMs: RTT_MS, rounds: NETWORK_ROUNDS, log, actionScript: ACTION }))

// ---------- bundle size and load time ----------
const bundleResult = await part('bundle', async () => {
  const bundle = readFileSync('dist/index.js')
  const variantsDir = join('bench', '.variants')
  rmSync(variantsDir, { recursive: true, force: true })
  mkdirSync(variantsDir, { recursive: true })
  // What the issue calls "a bundle that only imports @actions/core": every export kept.
  writeFileSync(join(variantsDir, 'core-only.js'), "import * as core from '@actions/core'\nglobalThis.keep = Object.keys(core)\n")
  await build(join(variantsDir, 'core-only'), { entryPoint: join(variantsDir, 'core-only.js'), commonJs: true })
  await build(join(variantsDir, 'minified'), { minify: true })
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
  const sizes = {
    dist: sizeOf('dist/index.js'),
    min: sizeOf(loadTargets['dist, minified']),
    core: sizeOf(loadTargets['@actions/core only, every export'])
  }

  // What the bytes of dist/index.js are: the concatenated modules webpack names in comments.
  const text = bundle.toString('utf8')
  const marks = [...text.matchAll(/\/\/ CONCATENATED MODULE: (\S+)/g)].map((m) => ({ name: m[1], at: m.index }))
  const byOrigin = new Map()
  marks.forEach((mark, i) => {
    const end = marks[i + 1]?.at ?? text.length
    const origin = mark.name.startsWith('./src/')
      ? 'src/ (this action)'
      : mark.name.replace(/^\.\/node_modules\/((@[^/]+\/)?[^/]+).*$/, '$1')
    byOrigin.set(origin, (byOrigin.get(origin) ?? 0) + (end - mark.at))
  })
  const runtimeBytes = text.length - [...byOrigin.values()].reduce((a, b) => a + b, 0)
  rmSync(variantsDir, { recursive: true, force: true })
  return { loads, starts, sizes, byOrigin, runtimeBytes }
})

// ---------- where a v2 run spends its time: a CPU profile ----------
const profileResult = await part('profile', async () => {
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
  return { selfBy, profileTotal }
})

// ---------- load: 100 runs at once, 20 tokens a second ----------
const loadResult = await part('load', async () => {
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
  return { loadRuns, loadElapsed, loadRequests, earlyRetries }
})
rmSync(work, { recursive: true, force: true })

// ---------- report ----------
const row = (name, runs, ratioList) =>
  `| ${name} | ${fmt(median(runs.map((r) => r.wallMs)))} | ${spread(runs.map((r) => r.wallMs))} | ${fmt(median(runs.map((r) => r.rssKb)) / 1024)} | ${spread(runs.map((r) => r.rssKb / 1024))} | ${ratioList ? `**${fmt(median(ratioList), 2)}** (${spread(ratioList, 2)})` : '1'} |`

const startSection = (() => {
  if (start === undefined) return undefined
  const { results, ratios } = start
  return `## Start to token, whole processes

Each run is a new process started as the runner starts it (inputs as \`INPUT_*\`, \`GITHUB_OUTPUT\` and
\`GITHUB_ENV\` files), against the stand-in Run:ai server on loopback. ${WARM_UP} warm-up rounds, then ${ROUNDS} rounds of
floor, v2, floor, auto. Spread is the 10th to 90th percentile. Peak memory is the child's maximum RSS
(${TIME ? 'GNU time' : 'not measured: /usr/bin/time is missing'}).

| run | median wall ms | spread | median peak RSS MiB | spread | ratio to floor, median of pairs (spread) |
| --- | --- | --- | --- | --- | --- |
${row('floor: bare node:http script (bench/floor.mjs)', results.floor)}
${row(`${ACTION}, api-version v2`, results.v2, ratios.v2)}
${row(`${ACTION}, auto against 2.18 (3 requests)`, results.auto218, ratios.auto218)}

Target: ratio at most 1.3 for v2. Measured: **${fmt(median(ratios.v2), 2)}**.
`
})()

const bundleSection = (() => {
  if (bundleResult === undefined) return undefined
  const { loads, starts, sizes, byOrigin, runtimeBytes } = bundleResult
  const loadRow = (label, key, size) =>
    `| ${label} | ${size?.bytes ?? 0} | ${size?.gzip ?? 0} | ${fmt(median(loads[key]), 2)} | ${spread(loads[key], 2)} | ${fmt(median(starts[key]))} |`
  return `## Bundle: size and load time

| bundle | bytes | gzip | load in-process, median ms | spread | whole process with no inputs, median ms |
| --- | --- | --- | --- | --- | --- |
${loadRow('empty file (Node start alone)', 'empty file')}
${loadRow('**dist/index.js** (committed)', 'dist/index.js', sizes.dist)}
${loadRow('dist, built with esbuild `minify`', 'dist, minified', sizes.min)}
${loadRow('`@actions/core` only, every export kept', '@actions/core only, every export', sizes.core)}

"Load in-process" is the time of \`await import(bundle)\` inside a process (bench/load-only.mjs), with no
inputs, so the action stops at its first input check.

What the ${sizes.dist.bytes} bytes of dist/index.js are:

| origin | bytes |
| --- | --- |
${[...byOrigin.entries()]
  .sort((a, b) => b[1] - a[1])
  .map(([origin, bytes]) => `| ${origin} | ${bytes} |`)
  .join('\n')}
| webpack runtime, imports of Node built-ins, license comments | ${runtimeBytes} |
`
})()

const profileSection = (() => {
  if (profileResult === undefined) return undefined
  const { selfBy, profileTotal } = profileResult
  return `## Where a v2 run spends its CPU time

\`node --cpu-prof --cpu-prof-interval=100\` on one \`api-version: v2\` run; self time by where the code lives
(${fmt(profileTotal)} ms sampled).

| where | ms | share |
| --- | --- | --- |
${[...selfBy.entries()]
  .sort((a, b) => b[1] - a[1])
  .slice(0, 8)
  .map(([where, ms]) => `| ${where} | ${fmt(ms)} | ${fmt((100 * ms) / profileTotal, 0)} % |`)
  .join('\n')}
`
})()

const loadSection = (() => {
  if (loadResult === undefined) return undefined
  const { loadRuns, loadElapsed, loadRequests, earlyRetries } = loadResult
  return `## Load: 100 runs at once, 20 tokens a second

100 processes of dist/index.js started together, each with its own client, against a stand-in that
serves at most 20 tokens a second and answers the rest 429 with \`Retry-After\`.

| succeeded | token requests seen | retries | runs that retried before Retry-After | time until the last finished | ideal (100 / 20) |
| --- | --- | --- | --- | --- | --- |
| ${loadRuns.filter((r) => r.ok).length} / 100 | ${loadRequests} | ${loadRequests - 100} | ${earlyRetries} | ${fmt(loadElapsed, 2)} s | 5.00 s |
`
})()

const totalSeconds = (Date.now() - benchStarted) / 1000
const actionAtEnd = fingerprint()
const actionLine =
  actionAtEnd === actionAtStart
    ? `The action timed is ${ACTION} (sha256 ${actionAtStart}).`
    : `**Warning: ${ACTION} changed during this run** (sha256 ${actionAtStart} at the start, ${actionAtEnd} at the end): the numbers mix two versions; run again.`
const command = `node bench/bench.mjs${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}`
const report = `# Benchmarks

Produced by \`npm run bench\` (\`${command}\`) on ${new Date().toISOString().slice(0, 10)}: node ${process.version},
${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, in ${fmt(totalSeconds, 0)} s${only ? ` (only: ${only.join(', ')})` : ''}. Every number below comes from that one run.
Timings on this machine are noisy: read the ratios, which pair each run with the run of the
reference (floor or ideal client) just before or after it.

${actionLine}

${[startSection, network && networkReport(network), bundleSection, profileSection, loadSection].filter(Boolean).join('\n')}`
const notes = existsSync('bench/NOTES.md') ? `\n${readFileSync('bench/NOTES.md', 'utf8')}` : ''
if (OUT !== undefined) writeFileSync(OUT, report + notes)
log(report)

// The two headline numbers, last, so that they are the first thing seen after a run.
log('--- summary')
log(actionLine)
if (start) log(`loopback, v2 start to token vs the floor: ${fmt(median(start.ratios.v2), 2)}× (target ≤ 1.3)`)
if (network) {
  for (const s of network.scenarios) {
    log(
      `${RTT_MS} ms RTT, ${s.label.replace(/`/g, '')}: round trips ${Math.max(...s.roundTrips)} / ${Math.max(...s.idealRoundTrips)}, time ${fmt(median(s.ratios), 2)}× the ideal client${s.extra ? '' : ' (targets: equal, ≤ 1.1)'}`
    )
  }
}
log(
  `parts: ${Object.entries(partSeconds)
    .map(([name, seconds]) => `${name} ${seconds.toFixed(0)} s`)
    .join(', ')}; total ${fmt(totalSeconds, 0)} s${OUT ? `; wrote ${OUT}` : '; BENCHMARKS.md not written (--only without --out)'}`
)
