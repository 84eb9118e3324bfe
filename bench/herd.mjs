// The herd part of `npm run bench` (issue 17): a matrix of jobs started together, each a whole
// process of the action with its own client and the DEFAULT inputs, against one stand-in control
// plane on loopback that admits 10 tokens a second and rate-limits the rest, in each of the ways a
// control plane does it; then one that admits nothing. Counts jobs that got a token, wall time
// against the ideal, requests per job, and leaks. What it measures: bench/NOTES.md.
import { DEFAULT_CLIENT, startStandIn } from '../test-server/runai-stand-in.mjs'
import { findLeaks } from '../test-server/runner-log.mjs'
import { runLikeRunner } from '../test-server/runner.mjs'
import { DEFAULT_INPUTS } from './action-inputs.mjs'
import { startGate } from './start-gate.mjs'

export const TOKENS_PER_SECOND = 10
/** The herd runs with action.yml's defaults, so its `timeout-seconds` is the deadline. */
const DEFAULT_TIMEOUT_S = Number(DEFAULT_INPUTS['timeout-seconds'])
/** A process still there this long after its own deadline is killed (GNU timeout) and counted as a miss. */
const GRACE_S = 30
/** The gate lets the herd through at the latest this long after the first job connected. */
const MAX_HOLD_MS = 60_000
/** Issue 17's words for a job that ends on a rate limit (src/retry.ts, diagnosis()). */
export const RATE_LIMIT_WORDS = 'The control plane kept limiting requests'

/**
 * The scenarios. jobs: how many start together; faults: the stand-in's (runai-stand-in.mjs,
 * rateLimited()); inputs: beyond url and credentials (none: action.yml's defaults).
 */
export const HERD_SCENARIOS = [
  { key: '429', label: '429 with `Retry-After`', jobs: 100, faults: { tokensPerSecond: TOKENS_PER_SECOND } },
  {
    key: '429-bare',
    label: '429 without `Retry-After`',
    jobs: 100,
    faults: { tokensPerSecond: TOKENS_PER_SECOND, rateLimitAnswer: '429-no-retry-after' }
  },
  {
    key: '503',
    label: '503 `Please try again in few minutes.`, `Retry-After: 2`',
    jobs: 100,
    faults: { tokensPerSecond: TOKENS_PER_SECOND, rateLimitAnswer: '503' }
  },
  {
    key: 'nothing',
    label: 'admits nothing (429 with `Retry-After`), `timeout-seconds: 15`',
    jobs: 100,
    faults: { admitNothing: true },
    inputs: { 'timeout-seconds': '15' },
    admitsNothing: true
  }
]

/**
 * @param {{script: string, log: (line: string) => void, startupRuns?: number}} options
 *   script: the action bundle; startupRuns: uncontended runs whose median is the start-up time
 */
export async function measureHerd({ script, log, startupRuns = 5 }) {
  // Start-up: one job alone against a stand-in that admits everything, the time a job takes when
  // nothing waits (issue 17's "process start-up" in the target).
  const alone = await startStandIn()
  const startups = []
  try {
    for (let i = 0; i < startupRuns; i++) {
      const run = await runJob(script, alone.url, DEFAULT_CLIENT, {}, DEFAULT_TIMEOUT_S)
      if (run.exitCode !== 0 || run.outputs.token === undefined) throw new Error(`the uncontended run failed: exit ${run.exitCode}`)
      startups.push(run.durationMs)
    }
  } finally {
    await alone.close()
  }
  const startupMs = [...startups].sort((a, b) => a - b)[Math.floor(startups.length / 2)] ?? NaN
  log(`start-up, uncontended: ${startups.map((ms) => ms.toFixed(0)).join(', ')} ms`)

  const scenarios = []
  for (const scenario of HERD_SCENARIOS) {
    // Zero-padded, so that no client ID is part of another and a request's body names one job.
    const clients = Array.from({ length: scenario.jobs }, (_, i) => {
      const n = String(i).padStart(3, '0')
      return { id: `herd-job-${n}`, secret: `herd-secret-${n}-Qx7` }
    })
    const standIn = await startStandIn({ clients, faults: scenario.faults })
    // The jobs reach the stand-in through the gate (bench/start-gate.mjs): all together once every one has started.
    const gate = await startGate({ targetPort: standIn.port, jobs: scenario.jobs, maxHoldMs: MAX_HOLD_MS })
    const timeoutS = Number(scenario.inputs?.['timeout-seconds'] ?? DEFAULT_TIMEOUT_S)
    try {
      const started = performance.now()
      const startedAt = Date.now()
      // runLikeRunner spawns synchronously, and the gate and the stand-in work on this thread: one
      // event-loop turn between spawns lets them take the connections of the jobs already running.
      const pending = []
      for (const client of clients) {
        pending.push(runJob(script, gate.url, client, scenario.inputs ?? {}, timeoutS).then((run) => ({ ...run, endedAt: Date.now() })))
        await new Promise((resolve) => setImmediate(resolve))
      }
      const lastSpawnAt = Date.now()
      const runs = await Promise.all(pending)
      const wallMs = performance.now() - started
      const tokenRequests = standIn.requests.filter((r) => r.method === 'POST' && /\/token$/.test(r.path)).length
      const issued = new Set(standIn.tokensIssued)
      const jobs = runs.map((run, i) => {
        const client = clients[i] ?? { id: '', secret: '' }
        const token = run.outputs.token
        const error = /^::error::(.*)$/m.exec(run.stdout)?.[1] ?? ''
        const requests = standIn.requests.filter((r) => r.body.includes(client.id)).length
        const connected = gate.accepted.filter((c) => c.firstBytes.includes(client.id)).map((c) => c.at)
        return {
          exitCode: run.exitCode,
          durationMs: run.durationMs,
          // The action's deadline starts just before it connects: exit minus its first connection is
          // at most what the job spent against its `timeout-seconds`, whatever its start-up took.
          connectToExitMs: connected.length > 0 ? run.endedAt - Math.min(...connected) : NaN,
          /** What the action's error says it spent ("after N attempt(s) in S s"). */
          spentS: Number(/ in (\d+) s[;.]/.exec(error)?.[1] ?? NaN),
          gotToken: run.exitCode === 0 && token !== undefined && issued.has(token),
          error,
          namesRateLimit: error.includes(RATE_LIMIT_WORDS),
          requests,
          // The job's own secret and every token the stand-in issued, to any job.
          leaks: findLeaks(run.stdout, [client.secret, ...standIn.tokensIssued], { stderr: run.stderr })
        }
      })
      const result = {
        ...scenario,
        timeoutS,
        wallMs,
        lastSpawnMs: lastSpawnAt - startedAt,
        firstConnectMs: gate.openedAt - startedAt,
        releasedMs: (gate.releasedAt ?? NaN) - startedAt,
        releasedAll: gate.accepted.length >= scenario.jobs,
        tokenRequests,
        earlyRetries: standIn.earlyRetries,
        jobs,
        distinctTokens: new Set(runs.map((r) => r.outputs.token).filter(Boolean)).size
      }
      scenarios.push(result)
      log(
        `${scenario.label}: ${jobs.filter((j) => j.gotToken).length}/${scenario.jobs} got a token, ${(wallMs / 1000).toFixed(1)} s, ${(tokenRequests / scenario.jobs).toFixed(2)} requests per job, ${jobs.reduce((n, j) => n + j.leaks.length, 0)} leaks`
      )
    } finally {
      await gate.close()
      await standIn.close()
    }
  }
  return { startupMs, startups, scenarios }
}

/** One job: the action with its own client and the given inputs, killed if it outlives its deadline by GRACE_S. */
function runJob(script, url, client, inputs, timeoutS) {
  return runLikeRunner(
    script,
    { ...DEFAULT_INPUTS, url, 'client-id': client.id, 'client-secret': client.secret, ...inputs },
    { wrapper: ['timeout', '-k', '5', String(timeoutS + GRACE_S)] }
  )
}
