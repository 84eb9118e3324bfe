// The network part of `npm run bench`: the action against the TLS stand-in behind a latency relay
// (bench/latency-relay.mjs), next to the ideal client (bench/ideal-client.mjs) sending the same
// requests, both as whole processes started like the runner starts them. Counts connections, TLS
// handshakes, CONNECT requests and round trips at the relay, and compares wall times in interleaved
// pairs. Definitions: bench/NOTES.md ("How the network table is counted").
import { rmSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { DEFAULT_CLIENT, startStandIn } from '../test-server/runai-stand-in.mjs'
import { DEPLOY_DATA } from '../test-server/deploy-api.mjs'
import { startConnectProxy } from '../test-server/connect-proxy.mjs'
import { runLikeRunner } from '../test-server/runner.mjs'
import { createTestCa } from '../test-server/test-ca.mjs'
import { roundTrips, startLatencyRelay } from './latency-relay.mjs'

const PROXY_ONLY_HOST = 'runai.internal.test' // only the proxy resolves it: the run must go through the tunnel
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
// A run needs well under a second here (the one backoff wait is below 1 s); a process that is still
// there after this long waits on something that will not come (a kept-alive socket, say): the relay
// cuts its connections then, and the bench stops with an error instead of timing it.
const RUN_LIMIT_MS = 15_000

/** The deploy context of issue 15, as DEFAULT_CLIENT (a tenant administrator) sees it in the stand-in. */
const DEPLOY = { cluster: 'gpu-east', project: 'team-a', permission: 'create trainings' }
const DEPLOY_CLUSTER = DEPLOY_DATA.clusters.find((c) => c.name === DEPLOY.cluster)
const DEPLOY_PROJECT = DEPLOY_DATA.projects.find((p) => p.name === DEPLOY.project && p.clusterId === DEPLOY_CLUSTER?.uuid)

/**
 * The scenarios of the issues, then one extra (not a target) that shows what `ca-certificate` costs.
 * sequence: the token POSTs the ideal client sends, the ones the action sends for that scenario;
 * deploy: the deploy-context inputs, given to both (the ideal client then sends the lookups the
 * action sends for them, bench/ideal-client.mjs).
 */
const SCENARIOS = [
  { key: 'v2', label: '`v2`, latest', generation: 'latest', apiVersion: 'v2', sequence: 'v2' },
  { key: 'auto-2.20', label: '`auto` on 2.20', generation: '2.20', apiVersion: 'auto', sequence: 'v2,v1' },
  { key: 'auto-2.18', label: '`auto` on 2.18', generation: '2.18', apiVersion: 'auto', sequence: 'v2,v1,v1-app-token' },
  {
    key: 'v2-503',
    label: '`v2`, 503 then token (backoff excluded)',
    generation: 'latest',
    apiVersion: 'v2',
    sequence: 'v2,v2',
    faults: { failFirst: 1, failWith: '503' }
  },
  {
    key: 'proxy-2.18',
    label: '`auto` on 2.18 through a CONNECT proxy',
    generation: '2.18',
    apiVersion: 'auto',
    sequence: 'v2,v1,v1-app-token',
    proxy: true
  },
  {
    key: 'deploy',
    label: `\`v2\`, token + deploy context (cluster ${DEPLOY.cluster}, project ${DEPLOY.project}, permission ${DEPLOY.permission})`,
    generation: 'latest',
    apiVersion: 'v2',
    sequence: 'v2',
    deploy: DEPLOY
  },
  {
    key: 'v2-env-ca',
    label: 'extra: `v2`, latest, CA in NODE_EXTRA_CA_CERTS instead of `ca-certificate`',
    generation: 'latest',
    apiVersion: 'v2',
    sequence: 'v2',
    caFromEnv: true,
    extra: true
  }
]

/**
 * @param {{rttMs: number, rounds: number, log: (line: string) => void, only?: string[], actionScript?: string}} options
 *   only: scenario keys to run (all when absent); actionScript: what runs as the action (dist/index.js)
 */
export async function measureNetwork({ rttMs, rounds, log, only, actionScript = 'dist/index.js' }) {
  const scenarios = SCENARIOS.filter((s) => only === undefined || only.includes(s.key)).map((s) => ({ ...s }))
  const ca = createTestCa(['localhost', PROXY_ONLY_HOST])
  const closers = []
  try {
    // One stand-in and one relay per scenario, so that a fault or a late close of one scenario never
    // touches another. Every relay cuts a connection after RUN_LIMIT_MS, so that a run cannot wait forever.
    for (const scenario of scenarios) {
      const standIn = await startStandIn({
        generation: scenario.generation,
        tls: { key: ca.key, cert: ca.cert },
        ...(scenario.faults ? { faults: scenario.faults } : {})
      })
      closers.push(standIn)
      let target = standIn.port
      if (scenario.proxy) {
        // The proxy reaches the stand-in directly; only the client-to-proxy leg crosses the "network".
        scenario.proxyServer = await startConnectProxy({ hosts: { [PROXY_ONLY_HOST]: '127.0.0.1' } })
        closers.push(scenario.proxyServer)
        target = Number(new URL(scenario.proxyServer.url).port)
      }
      const relay = await startLatencyRelay({ targetPort: target, rttMs, maxLifetimeMs: RUN_LIMIT_MS })
      closers.push(relay)
      Object.assign(scenario, { standIn, relay, results: { action: [], ideal: [] }, ratios: [] })
    }

    const runOne = async (scenario, who) => {
      const { standIn, relay, proxyServer } = scenario
      const url = scenario.proxy ? `https://${PROXY_ONLY_HOST}:${standIn.port}` : `https://localhost:${relay.port}`
      const inputs = {
        url,
        'client-id': DEFAULT_CLIENT.id,
        'client-secret': DEFAULT_CLIENT.secret,
        ...(scenario.caFromEnv ? {} : { 'ca-certificate': ca.caCertPath }),
        ...(scenario.deploy ?? {}),
        ...(who === 'action' ? { 'api-version': scenario.apiVersion } : { 'ideal-sequence': scenario.sequence })
      }
      const env = {
        ...(scenario.proxy ? { HTTPS_PROXY: `http://127.0.0.1:${relay.port}` } : {}),
        ...(scenario.caFromEnv ? { NODE_EXTRA_CA_CERTS: ca.caCertPath } : {})
      }
      if (scenario.faults) standIn.setFaults(scenario.faults) // the fault counts requests from here
      relay.reset()
      const requestsBefore = standIn.requests.length
      const tunnelsBefore = proxyServer?.tunnels.length ?? 0
      const started = performance.now()
      const run = await runLikeRunner(who === 'action' ? actionScript : 'bench/ideal-client.mjs', inputs, { env })
      // Let the closing packets of this run pass the relay before the next run starts.
      await sleep(rttMs + 30)
      if (run.durationMs >= RUN_LIMIT_MS) {
        throw new Error(
          `${scenario.key}: a run of the ${who} took ${(run.durationMs / 1000).toFixed(0)} s; something kept the process waiting`
        )
      }
      const ok = run.exitCode === 0 && run.outputs.token !== undefined && standIn.tokensIssued.includes(run.outputs.token)
      if (!ok) {
        const said = run.stdout
          .split('\n')
          .filter((line) => line.startsWith('::error::'))
          .join(' ')
        throw new Error(`${scenario.key}: a run of the ${who} failed (exit ${run.exitCode}): ${said} ${run.stderr.slice(0, 500)}`)
      }
      if (scenario.deploy) {
        // Both must have found what the stand-in holds, or the comparison is of different work.
        const found = { 'cluster-id': run.outputs['cluster-id'], 'project-id': run.outputs['project-id'] }
        if (found['cluster-id'] !== DEPLOY_CLUSTER?.uuid || found['project-id'] !== DEPLOY_PROJECT?.id) {
          throw new Error(
            `${scenario.key}: the ${who} found ${JSON.stringify(found)}, the stand-in holds cluster ${DEPLOY_CLUSTER?.uuid} and project ${DEPLOY_PROJECT?.id}`
          )
        }
      }
      const connections = relay.snapshot()
      // What the action said it would sleep before retrying (its ::debug:: line), summed.
      const announced = [...run.stdout.matchAll(/retrying in (\d+) ms/g)].map((m) => Number(m[1]))
      return {
        wallMs: run.durationMs,
        connections: connections.length,
        handshakes: connections.reduce((n, c) => n + c.clientHellos, 0),
        connects: connections.reduce((n, c) => n + c.connects, 0),
        proxyTunnels: (proxyServer?.tunnels.length ?? 0) - tunnelsBefore,
        roundTrips: connections.reduce((n, c) => n + roundTrips(c), 0),
        posts: standIn.requests.length - requestsBefore,
        // What it asked, in order: method, path and (for the deploy lookups) the query as received.
        requestList: standIn.requests
          .slice(requestsBefore)
          .map((r) => `${r.method} ${r.path}${r.lookup?.query ? `?${r.lookup.query}` : ''}`)
          .join('\n'),
        announcedWaitMs: announced.length > 0 ? announced.reduce((a, b) => a + b, 0) : undefined,
        longestPauseMs: longestClientPause(connections, started)
      }
    }

    const round = async (record) => {
      for (const [i, scenario] of scenarios.entries()) {
        // Alternate who goes first, so that drift within a round hits both alike.
        const order = (record + i) % 2 === 0 ? ['ideal', 'action'] : ['action', 'ideal']
        const pair = {}
        for (const who of order) pair[who] = await runOne(scenario, who)
        if (record < 0) continue
        const { action, ideal } = pair
        if (ideal.connections !== 1 || ideal.handshakes !== 1 || ideal.connects !== (scenario.proxy ? 1 : 0)) {
          throw new Error(
            `${scenario.key}: the ideal client used ${ideal.connections} connections, ${ideal.handshakes} handshakes: the bench is broken`
          )
        }
        for (const [who, run] of Object.entries(pair)) {
          if (run.connects !== run.proxyTunnels && scenario.proxy) {
            throw new Error(
              `${scenario.key}: the relay read ${run.connects} CONNECTs of the ${who}, the proxy opened ${run.proxyTunnels} tunnels`
            )
          }
        }
        // Backoff excluded: what the action announced it would wait, else the longest pause at the relay.
        action.waitedMs = scenario.faults ? (action.announcedWaitMs ?? action.longestPauseMs) : 0
        action.waitSource = action.announcedWaitMs !== undefined ? 'announced' : 'relay'
        action.comparedMs = action.wallMs - action.waitedMs
        action.sameRequests = action.requestList === ideal.requestList
        scenario.results.action.push(action)
        scenario.results.ideal.push(ideal)
        scenario.ratios.push(action.comparedMs / ideal.wallMs)
      }
    }

    const started = performance.now()
    log(
      `network: ${rttMs} ms RTT, 1 warm-up round, then ${rounds} rounds of ${scenarios.length} scenarios (ideal client and action, interleaved)`
    )
    await round(-1)
    for (let r = 0; r < rounds; r++) {
      await round(r)
      log(`  round ${r + 1}/${rounds} done (${((performance.now() - started) / 1000).toFixed(0)} s)`)
    }
    return { rttMs, rounds, actionScript, scenarios: scenarios.map(summarize), seconds: (performance.now() - started) / 1000 }
  } finally {
    for (const c of closers.reverse()) await c.close()
    rmSync(ca.dir, { recursive: true, force: true })
  }
}

/**
 * The longest time the client let pass between an answer reaching it and its next move (a new
 * connection or more bytes), over all its connections: for the 503 scenario, mostly the backoff.
 */
function longestClientPause(connections, since) {
  const delivered = connections.flatMap((c) => c.events.filter((e) => e.from === 'server' && e.kind === 'data').map((e) => e.deliverAt))
  const moves = connections.flatMap((c) => [
    c.acceptedAt,
    ...c.events.filter((e) => e.from === 'client' && e.kind === 'data').map((e) => e.at)
  ])
  let longest = 0
  for (const move of moves) {
    const last = Math.max(since, ...delivered.filter((d) => d <= move))
    if (delivered.some((d) => d <= move)) longest = Math.max(longest, move - last)
  }
  return longest
}

// ---------- statistics and the report ----------
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b)
  const i = (s.length - 1) * q
  const lo = Math.floor(i)
  return s[lo] + (s[Math.ceil(i)] - s[lo]) * (i - lo)
}
const median = (xs) => quantile(xs, 0.5)
const fmt = (x, digits = 0) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a')
/** A count over the runs: one number, or the range when runs differed. */
export const counted = (xs) => {
  const lo = Math.min(...xs)
  const hi = Math.max(...xs)
  return lo === hi ? String(lo) : `${lo}–${hi}`
}

function summarize(scenario) {
  const { action, ideal } = scenario.results
  return {
    key: scenario.key,
    label: scenario.label,
    extra: scenario.extra === true,
    proxy: scenario.proxy === true,
    backoff: scenario.faults !== undefined,
    connections: action.map((r) => r.connections),
    handshakes: action.map((r) => r.handshakes),
    connects: action.map((r) => r.connects),
    proxyTunnels: action.map((r) => r.proxyTunnels),
    roundTrips: action.map((r) => r.roundTrips),
    idealRoundTrips: ideal.map((r) => r.roundTrips),
    posts: action.map((r) => r.posts),
    sameRequests: action.every((r) => r.sameRequests),
    /** The action's requests of its first recorded run, method and path: for the report. */
    requestPaths: (action[0]?.requestList ?? '').split('\n').map((line) => line.split('?')[0]),
    idealPosts: ideal.map((r) => r.posts),
    actionMs: action.map((r) => r.comparedMs),
    actionWallMs: action.map((r) => r.wallMs),
    idealMs: ideal.map((r) => r.wallMs),
    waitedMs: action.map((r) => r.waitedMs),
    waitSources: [...new Set(action.map((r) => r.waitSource))],
    longestPauseMs: action.map((r) => r.longestPauseMs),
    ratios: scenario.ratios
  }
}

/** The markdown section of BENCHMARKS.md for a measureNetwork result. */
export function networkReport(result) {
  const { rttMs, rounds, actionScript, scenarios } = result
  const targets = scenarios.filter((s) => !s.extra)
  const row = (s) =>
    `| ${s.label} | ${counted(s.connections)} | ${counted(s.handshakes)} | ${s.proxy ? counted(s.connects) : '–'} | ${counted(s.roundTrips)} / ${counted(s.idealRoundTrips)} | ${fmt(median(s.actionMs))} / ${fmt(median(s.idealMs))} ms (**${fmt(median(s.ratios), 2)}**) |`
  const detail = (s) =>
    `| ${s.label} | ${counted(s.posts)} / ${counted(s.idealPosts)}${s.sameRequests ? ', the same' : ', **not the same**'} | ${fmt(quantile(s.actionMs, 0.1))} – ${fmt(quantile(s.actionMs, 0.9))} | ${fmt(quantile(s.idealMs, 0.1))} – ${fmt(quantile(s.idealMs, 0.9))} | ${fmt(quantile(s.ratios, 0.1), 2)} – ${fmt(quantile(s.ratios, 0.9), 2)} | ${s.backoff ? `${fmt(median(s.waitedMs))} (${s.waitSources.join(', ')})` : '–'} |`
  const tripsMet = targets.filter((s) => Math.max(...s.roundTrips) <= Math.min(...s.idealRoundTrips))
  const timeMet = targets.filter((s) => median(s.ratios) <= 1.1)
  const mismatched = scenarios.filter((s) => !s.sameRequests)
  const deploy = scenarios.find((s) => s.key === 'deploy')
  return `## Over a network: ${rttMs} ms round trip, action vs the ideal client

The action is ${actionScript}. Each run is a whole process started as the runner starts it, against the
stand-in over TLS (test CA, passed in \`ca-certificate\` as a file path; URL \`https://localhost:<relay port>\`),
behind a relay on loopback that delays every chunk by ${rttMs / 2} ms each way and the client's first bytes by one
more round trip, the TCP handshake (bench/latency-relay.mjs). The ideal client (bench/ideal-client.mjs) is a
process too: one TLS connection with keep-alive, the same requests in the same order, nothing else. Through the
proxy, the relay sits in front of the CONNECT proxy (test-server/connect-proxy.mjs), which reaches the
stand-in directly; the URL names a host only the proxy resolves. 1 warm-up round, then ${rounds} rounds; in each
round every scenario runs the ideal client and the action back to back, who goes first alternating.

Connections, TLS handshakes and CONNECTs are the action's, per run, counted at the relay (a range when runs
differed); the ideal client used 1, 1 and (through the proxy) 1 in every run, or the bench stops. Round trips:
one per TCP handshake plus one per flight of the client that the server answered with data before the client
closed (bench/NOTES.md). Time: median wall time from spawn to exit; the ratio is the median of the per-round
ratios action / ideal.${
    scenarios.some((s) => s.backoff)
      ? ` In the 503 scenario the wait before the retry is taken off the action's time: the delay the
action announces in its \`::debug::\` line ("announced"), or, if it announces none, the longest pause between
an answer reaching the action and its next move at the relay ("relay").`
      : ''
  }${
    deploy
      ? ` In the deploy-context scenario (issue 15) both are given \`cluster\`, \`project\` and \`permission\`
and, after the token, send ${deploy.requestPaths
          .slice(1)
          .map((p) => `\`${p}\``)
          .join(', ')} with the token as a bearer, on
the same connection; both must output the \`cluster-id\` and \`project-id\` the stand-in holds, or the bench stops.`
      : ''
  }

| scenario | connections | TLS handshakes | CONNECTs | round trips used / ideal | median time action / ideal (ratio) |
| --- | --- | --- | --- | --- | --- |
${scenarios.map(row).join('\n')}

Targets (a benchmark, not a test): round trips used equal to the ideal in every scenario (1 TCP connection,
1 TLS handshake, at most 1 CONNECT per run), and time at most 1.1× the ideal client with backoff waits
excluded. Met today: round trips in **${tripsMet.length} of ${targets.length}** scenarios, time in **${timeMet.length} of ${targets.length}**${targets.length > 0 ? ` (the extra row is not a target)` : ''}.

| scenario | requests action / ideal, and whether they were the same | action ms, 10th – 90th pct | ideal ms, 10th – 90th pct | ratio, 10th – 90th pct | backoff taken off, median ms |
| --- | --- | --- | --- | --- | --- |
${scenarios.map(detail).join('\n')}
${mismatched.length > 0 ? `\n**Warning:** the action and the ideal client did not send the same requests (method, path, query, in order) in: ${mismatched.map((s) => s.label).join('; ')}. The comparison there is not like for like.\n` : ''}`
}
