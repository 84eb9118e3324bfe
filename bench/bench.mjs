// `npm run bench`: times whole processes as the runner starts them, against the stand-in Run:ai
// server on loopback and behind a latency relay, prints the report and checks it against the
// targets of the issues: it exits 1, naming each, when one is missed. Compare the ratios it
// prints, not absolute times: they come from one run on one machine, with the runs interleaved so
// that drift hits all alike.
//
//   node bench/bench.mjs [--write] [--rounds N] [--rtt MS] [--only start,network,bundle,profile,pathological,herd]
//                        [--out FILE] [--action FILE]
//
// --write: write the report to BENCHMARKS.md (tracked: only when asked, so that a run leaves the
// tree clean; refused with --only, as a partial report must not replace it); --out: write it to
// FILE instead; --rounds: rounds of every part (default 40, the network part 10, the pathological
// part 3); --rtt: round-trip time of the network part (default 40); --only: run only these parts;
// --action: the action script every part runs (default: a fresh build of src/, as the tests run),
// e.g. the committed dist/index.js or an older bundle saved as .mjs
// (`git show HEAD:dist/index.js > /tmp/old.mjs`) to compare.
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { gzipSync } from 'node:zlib'
import { createHash } from 'node:crypto'
import { build } from '../scripts/build.mjs'
import { DEFAULT_CLIENT, startStandIn } from '../test-server/runai-stand-in.mjs'
import { runLikeRunner } from '../test-server/runner.mjs'
import { counted, measureNetwork, networkReport } from './network.mjs'
import { measurePathological } from './pathological.mjs'
import { measureHerd, RATE_LIMIT_WORDS, TOKENS_PER_SECOND } from './herd.mjs'

/** A wrong option: say so and stop, without a stack trace (exit 2, as a missed target is 1). */
function usage(message) {
  process.stderr.write(`bench: ${message}\n`)
  process.exit(2)
}
const { values: options } = parseArgs({
  options: {
    rounds: { type: 'string' },
    rtt: { type: 'string', default: '40' },
    only: { type: 'string' },
    out: { type: 'string' },
    write: { type: 'boolean', default: false },
    action: { type: 'string' }
  }
})
const PARTS = ['start', 'network', 'bundle', 'profile', 'pathological', 'herd']
const only = options.only?.split(',').map((p) => p.trim())
const unknown = only?.filter((p) => !PARTS.includes(p)) ?? []
if (unknown.length > 0) usage(`--only: unknown part(s) ${unknown.join(', ')}; the parts are ${PARTS.join(', ')}`)
const runs = (part) => only === undefined || only.includes(part)
const ROUNDS = Number(options.rounds ?? 40)
const NETWORK_ROUNDS = Number(options.rounds ?? 10)
const PATHOLOGICAL_ROUNDS = Number(options.rounds ?? 3)
const RTT_MS = Number(options.rtt)
for (const [name, n, least] of [
  ['--rounds', ROUNDS, 1],
  ['--rtt', RTT_MS, 0]
]) {
  if (!Number.isFinite(n) || n < least || n > 1000) usage(`${name} must be a number from ${least} to 1000`)
}
if (options.write && only !== undefined) usage('--write replaces BENCHMARKS.md with the whole report: not with --only (give --out FILE)')
if (options.write && options.out !== undefined) usage('--write and --out: give one of them')
const OUT = options.out ?? (options.write ? 'BENCHMARKS.md' : undefined)
const WARM_UP = 3
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined // GNU time gives the child's peak RSS
const work = mkdtempSync(join(tmpdir(), 'runai-bench-'))
const log = (line) => process.stdout.write(`${line}\n`)
// What runs as the action: by default src/ as it is now, bundled into the scratch folder (not over
// dist/, which is tracked and may be what someone else is testing); --action names a file instead.
const freshBuild = options.action === undefined
if (freshBuild) await build(join(work, 'action'))
const ACTION = options.action ?? join(work, 'action', 'index.js')
const actionName = freshBuild ? 'a fresh build of src/' : ACTION
const distIsFresh = freshBuild && readFileSync(ACTION).equals(readFileSync('dist/index.js'))
/** The commit the sources are at, and whether src/ has changes beyond it. */
function sourceState() {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()
    const changed = execFileSync('git', ['status', '--porcelain', '--', 'src'], { encoding: 'utf8' }).trim() !== ''
    return `commit ${commit}${changed ? ' with uncommitted changes in src/' : ''}`
  } catch {
    return 'an unknown commit (no git)'
  }
}
/** Slowest pathological shape allowed, in medians of the shapes: linear shapes differ by a small factor, quadratic ones by hundreds. */
const PATHOLOGICAL_GUARD = 10
/** Against a control plane that admits nothing, a job ends by its deadline if it is gone this soon after it (exit, timers). */
const HERD_DEADLINE_GRACE_S = 1

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
const loadAtStart = loadavg()
  .map((x) => x.toFixed(1))
  .join(', ')
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

  // What the bytes of dist/index.js are: esbuild starts each module's code with a `// path` line.
  const text = bundle.toString('utf8')
  const marks = [...text.matchAll(/^\/\/ ((?:src|node_modules)\/\S+)$/gm)].map((m) => ({ name: m[1] ?? '', at: m.index }))
  const byOrigin = new Map()
  marks.forEach((mark, i) => {
    const end = marks[i + 1]?.at ?? text.length
    const origin = mark.name.startsWith('src/') ? 'src/ (this action)' : mark.name.replace(/^node_modules\/((@[^/]+\/)?[^/]+).*$/, '$1')
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
    ACTION,
    { url: profLatest.url, ...credentials, 'api-version': 'v2' },
    { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, '--cpu-prof-interval=100'] }
  )
  await profLatest.close()
  const actionUrl = pathToFileURL(resolve(ACTION)).href
  const profile = JSON.parse(readFileSync(join(profileDir, readdirSync(profileDir)[0]), 'utf8'))
  const interval = (profile.endTime - profile.startTime) / 1000 / profile.samples.length
  const nodeById = new Map(profile.nodes.map((n) => [n.id, n]))
  const selfBy = new Map()
  for (const id of profile.samples) {
    const { callFrame } = nodeById.get(id)
    const where =
      callFrame.url === actionUrl
        ? 'the action (bundle)'
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

// ---------- 1 MiB of each pathological shape, start to exit ----------
const pathological = await part('pathological', () => measurePathological({ script: ACTION, rounds: PATHOLOGICAL_ROUNDS, log }))

// ---------- the herd: a matrix against one rate-limited control plane ----------
const herd = await part('herd', () => measureHerd({ script: ACTION, log }))

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
${row(`the action, api-version v2`, results.v2, ratios.v2)}
${row(`the action, auto against 2.18 (3 requests)`, results.auto218, ratios.auto218)}

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
| imports of Node built-ins and esbuild's glue | ${runtimeBytes} |
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

const pathologicalSection = (() => {
  if (pathological === undefined) return undefined
  const { results, rounds } = pathological
  const shapes = results.filter((r) => !r.shape.startsWith('('))
  const medianOf = (r) => median(r.wallMs)
  const shapesMedian = median(shapes.map(medianOf))
  const slowest = shapes.reduce((a, b) => (medianOf(b) > medianOf(a) ? b : a))
  const resultRow = (r) =>
    `| ${r.carrier} | ${r.shape.replace(/([#*\\[\]|])/g, '\\$1')} | ${r.chars} / ${r.bytes} | ${r.requests.join(', ')} | ${fmt(medianOf(r), 0)} | ${fmt((100 * medianOf(r)) / shapesMedian, 0)} % | ${r.failures.length ? r.failures.join('; ') : 'exit 1, one error'} |`
  return `## 1 MiB of each pathological shape, start to exit

The action, with \`max-attempts: 1\` and otherwise the defaults, against a loopback server
(test-server/hostile-server.mjs) that answers every request 503 with one shape of
test-server/pathological-text.mjs: as the JSON \`message\` (\`{"code":503,"message":<shape>}\`), then as a
plain-text body. Each shape is as long as it can be while the answer stays within the action's 1 MiB
answer limit (a larger answer is refused unread). Time is spawn to exit of the whole process, median of
${rounds} run(s); a run is killed after 60 s. The control row is a short message, what a run costs
with no large answer. Linear work on 1 MiB takes milliseconds; quadratic work takes seconds to minutes
(1 MiB of dots once held a step for 425 s), so a regression shows as one shape far above the median.

| answer | shape | characters / bytes of the body | requests | median ms | of the shapes' median | outcome |
| --- | --- | --- | --- | --- | --- | --- |
${results.map(resultRow).join('\n')}

Slowest shape: **${slowest.shape}** (${slowest.carrier}), ${fmt(medianOf(slowest), 0)} ms, **${fmt(medianOf(slowest) / shapesMedian, 2)}×** the median of the
shapes (${fmt(shapesMedian, 0)} ms). Guard: at most ${PATHOLOGICAL_GUARD}× the median, every run ending in exit 1 with its error.
`
})()

const herdSection = (() => {
  if (herd === undefined) return undefined
  const { startupMs, startups, scenarios } = herd
  const seconds = (ms) => `${fmt(ms / 1000, 1)} s`
  const herdRow = (h) => {
    const leaks = h.jobs.reduce((n, j) => n + j.leaks.length, 0)
    const idealS = h.jobs.length / TOKENS_PER_SECOND
    const served = h.wallMs - h.releasedMs
    const own = h.jobs.map((j) => j.connectToExitMs)
    const outcome = h.admitsNothing
      ? `${h.jobs.filter((j) => j.exitCode === 1 && j.namesRateLimit).length} / ${h.jobs.length} failed naming the rate limit`
      : `**${h.jobs.filter((j) => j.gotToken).length} / ${h.jobs.length}** got a token (${h.distinctTokens} distinct)`
    const time = h.admitsNothing
      ? `each job, connect to exit ${seconds(Math.min(...own))} – ${seconds(Math.max(...own))} (\`timeout-seconds\` ${h.timeoutS})`
      : `**${seconds(served + startupMs)}** = **${fmt((served + startupMs) / 1000 / idealS, 2)}×** the ideal ${fmt(idealS, 1)} s; target ${fmt(2 * idealS + startupMs / 1000, 1)} s`
    const requests = h.jobs.map((j) => j.requests)
    return `| ${h.label} | ${h.jobs.length} | ${outcome} | ${time} | ${seconds(h.lastSpawnMs)} / ${seconds(h.releasedMs)} | ${seconds(h.wallMs)} | **${fmt(h.tokenRequests / h.jobs.length, 2)}** (${Math.min(...requests)} – ${Math.max(...requests)}) | ${h.earlyRetries} | ${leaks} |`
  }
  return `## The herd: a matrix of jobs against one rate-limited control plane

Jobs started together, each a whole process of the action with its own client ID and secret and
action.yml's defaults (\`api-version: auto\`, \`timeout-seconds: 120\`, \`max-attempts: 5\`), against one stand-in
(test-server/runai-stand-in.mjs) that admits ${TOKENS_PER_SECOND} tokens a second in a fixed one-second window and
rate-limits the rest in the way each row names; the last row's stand-in admits nothing, with
\`timeout-seconds: 15\`. This machine starts a hundred processes over several seconds (two cores), which would
spread the herd before it reached the control plane; a gate (bench/start-gate.mjs) holds each job's request
until every job has connected, then lets them all through at once, as a runner pool's matrix arrives.

Time, for the jobs that get a token: from the gate's release to the last exit, plus one job's start-up
(the median of ${startups.length} uncontended runs, one job alone, nothing limited: ${fmt(startupMs, 0)} ms): what the matrix
would take on a pool where each job starts on its own runner. The ideal is the jobs divided by ${TOKENS_PER_SECOND} a second.
"Last spawn / release": when the bench had started the last process, and when the gate let them through,
after the first spawn. "Spawn to last exit" is the whole of it on this machine, start-up of the hundred
processes included. Requests are the token requests the stand-in recorded, per job (fewest – most).
"Early" counts requests that came back before the stand-in's \`Retry-After\` allowed. Leaks: pieces of 8
characters of the job's secret or of any token issued, anywhere in the job's output but its own
\`::add-mask::\` lines, read as the runner reads it (\`findLeaks\` of test-server/runner-log.mjs). For the
last row: each job's time from its connection to its exit, which its \`timeout-seconds\` bounds.

| the control plane answers | jobs | outcome | release to last exit + start-up | last spawn / release | first spawn to last exit | requests per job | early | leaks |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
${scenarios.map(herdRow).join('\n')}

Targets (issue 17): every job gets a token, within twice the ideal plus start-up, at most 3 requests per
job on average; a control plane that admits nothing ends every job by \`timeout-seconds\`, each error naming
the rate limit ("${RATE_LIMIT_WORDS}"); no secret in any output.
`
})()

// ---------- targets: what the issues ask, met or not ----------
/** @type {{what: string, measured: string, met: boolean}[]} */
const targets = []
const target = (what, measured, met) => targets.push({ what, measured, met })
if (start) {
  const ratio = median(start.ratios.v2)
  target('loopback, v2 start to token ≤ 1.3× the floor (issue 13)', `${fmt(ratio, 2)}×`, ratio <= 1.3)
}
if (network) {
  for (const s of network.scenarios.filter((x) => !x.extra)) {
    const label = s.label.replace(/`/g, '')
    const trips = Math.max(...s.roundTrips)
    const idealTrips = Math.min(...s.idealRoundTrips)
    // Round trips and time compare like with like only when both asked the same (method, path, query, in order).
    target(
      `${RTT_MS} ms RTT, ${label}: the same requests as the ideal client`,
      `${counted(s.posts)} / ${counted(s.idealPosts)}${s.sameRequests ? '' : ', not the same'}`,
      s.sameRequests
    )
    target(`${RTT_MS} ms RTT, ${label}: round trips equal to the ideal client's`, `${trips} / ${idealTrips}`, trips <= idealTrips)
    target(`${RTT_MS} ms RTT, ${label}: time ≤ 1.1× the ideal client`, `${fmt(median(s.ratios), 2)}×`, median(s.ratios) <= 1.1)
  }
}
if (pathological) {
  const shapes = pathological.results.filter((r) => !r.shape.startsWith('('))
  const shapesMedian = median(shapes.map((r) => median(r.wallMs)))
  const slowest = Math.max(...shapes.map((r) => median(r.wallMs)))
  target(
    `pathological shapes: slowest ≤ ${PATHOLOGICAL_GUARD}× the median (the bench's guard against non-linear work)`,
    `${fmt(slowest / shapesMedian, 2)}×`,
    slowest <= PATHOLOGICAL_GUARD * shapesMedian
  )
  const failed = pathological.results.filter((r) => r.failures.length > 0)
  target(
    'pathological shapes: every run ends in exit 1 with its error',
    failed.length === 0 ? 'all' : failed.map((r) => `${r.carrier}, ${r.shape}: ${r.failures.join('; ')}`).join(' / '),
    failed.length === 0
  )
}
if (herd) {
  for (const h of herd.scenarios) {
    const label = `herd, ${h.label.replace(/`/g, '')}`
    const n = h.jobs.length
    const leaks = h.jobs.reduce((sum, j) => sum + j.leaks.length, 0)
    target(`${label}: no secret or token in any output`, `${leaks} leak(s)`, leaks === 0)
    target(`${label}: the gate let all ${n} jobs through together`, h.releasedAll ? 'all' : 'released by its time limit', h.releasedAll)
    if (h.admitsNothing) {
      const named = h.jobs.filter((j) => j.exitCode === 1 && j.namesRateLimit).length
      // The other errors, grouped by their words (numbers and the URL left out), each with its count.
      const others = new Map()
      for (const j of h.jobs.filter((x) => !(x.exitCode === 1 && x.namesRateLimit))) {
        const words = j.error === '' ? `exit ${j.exitCode}, no error` : j.error.replace(/https?:\/\/\S+/g, '<url>').replace(/\d+/g, 'N')
        others.set(words, (others.get(words) ?? 0) + 1)
      }
      const otherwise = [...others].map(([words, count]) => `${count} × "${words.replace(/^.*?; the last one failed with /, '… ')}"`)
      target(
        `${label}: every job fails, its error naming the rate limit`,
        `${named} / ${n}${otherwise.length ? `; the others: ${otherwise.join('; ')}` : ''}`,
        named === n
      )
      // By its deadline, counted from its connection (its clock starts just before): spawn to exit
      // also holds its start-up, seconds when a hundred processes start on two cores.
      const latest = Math.max(...h.jobs.map((j) => j.connectToExitMs)) / 1000
      const bound = h.timeoutS + HERD_DEADLINE_GRACE_S
      target(
        `${label}: every job ends by \`timeout-seconds\` (connect to exit ≤ ${bound} s)`,
        `longest ${fmt(latest, 1)} s`,
        latest <= bound
      )
      continue
    }
    const got = h.jobs.filter((j) => j.gotToken).length
    const idealS = n / TOKENS_PER_SECOND
    const bound = 2 * idealS + herd.startupMs / 1000
    const took = (h.wallMs - h.releasedMs + herd.startupMs) / 1000
    const perJob = h.tokenRequests / n
    target(`${label}: every job gets a token`, `${got} / ${n}`, got === n)
    target(`${label}: release to last exit + start-up ≤ 2 × ideal + start-up (${fmt(bound, 1)} s)`, `${fmt(took, 1)} s`, took <= bound)
    target(`${label}: at most 3 requests per job on average`, fmt(perJob, 2), perJob <= 3)
  }
}
const missed = targets.filter((t) => !t.met)
const targetsSection =
  targets.length === 0
    ? undefined
    : `## Targets

| target | measured | |
| --- | --- | --- |
${targets.map((t) => `| ${t.what} | ${t.measured.replace(/\|/g, '\\|')} | ${t.met ? 'met' : '**missed**'} |`).join('\n')}

${missed.length === 0 ? 'Every target met in this run.' : `**${missed.length} of ${targets.length} missed in this run.**`}
`

const totalSeconds = (Date.now() - benchStarted) / 1000
const actionAtEnd = fingerprint()
rmSync(work, { recursive: true, force: true })
const actionLine = freshBuild
  ? `The action timed is a fresh build of src/ at ${sourceState()} (sha256 ${actionAtStart}); the committed dist/index.js ${distIsFresh ? 'is the same file' : '**differs from it** (`npm run check-dist`)'}.`
  : actionAtEnd === actionAtStart
    ? `The action timed is ${ACTION} (sha256 ${actionAtStart}).`
    : `**Warning: ${ACTION} changed during this run** (sha256 ${actionAtStart} at the start, ${actionAtEnd} at the end): the numbers mix two versions; run again.`
const command = `node bench/bench.mjs${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}`
const report = `# Benchmarks

Produced by \`npm run bench\` (\`${command}\`) on ${new Date().toISOString().slice(0, 10)}: node ${process.version},
${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, in ${fmt(totalSeconds, 0)} s${only ? ` (only: ${only.join(', ')})` : ''}, load average ${loadAtStart} at the start and ${loadavg()
  .map((x) => x.toFixed(1))
  .join(', ')} at the end (1, 5, 15 min; the machine is shared). Every number below comes from that one run.
Timings on this machine are noisy: read the ratios, which pair each run with the run of the
reference (floor or ideal client) just before or after it.

${actionLine}

${[
  targetsSection,
  startSection,
  network && networkReport({ ...network, actionScript: actionName }),
  bundleSection,
  profileSection,
  pathologicalSection,
  herdSection
]
  .filter(Boolean)
  .join('\n')}`
const notes = existsSync('bench/NOTES.md') ? `\n${readFileSync('bench/NOTES.md', 'utf8')}` : ''
if (OUT !== undefined) writeFileSync(OUT, report + notes)
log(report)

// The targets, last, so that they are the first thing seen after a run; a missed one fails the run.
log('--- summary')
log(actionLine)
for (const t of targets) log(`${t.met ? 'met   ' : 'MISSED'} ${t.what}: ${t.measured}`)
log(
  `parts: ${Object.entries(partSeconds)
    .map(([name, seconds]) => `${name} ${seconds.toFixed(0)} s`)
    .join(', ')}; total ${fmt(totalSeconds, 0)} s; ${OUT ? `wrote ${OUT}` : 'BENCHMARKS.md not written (--write writes it)'}`
)
if (missed.length > 0) {
  log(`bench: ${missed.length} of ${targets.length} target(s) missed: ${missed.map((t) => t.what).join('; ')}`)
  process.exitCode = 1
}
