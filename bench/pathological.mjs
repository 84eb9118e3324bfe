// The pathological part of `npm run bench` (issue 13): the action's whole process against a
// loopback server that answers every request with 1 MiB of one shape that makes non-linear code
// slow (test-server/pathological-text.mjs), as a 503 whose JSON `message` is the shape and as a
// plain-text 503. Times start to exit per shape; a quadratic regression shows as one shape far above
// the median (1 MiB of dots once held a step for 425 s). What it measures: bench/NOTES.md.
import { MIB, pathologicalShapes } from '../test-server/pathological-text.mjs'
import { startHostileServer } from '../test-server/hostile-server.mjs'
import { runLikeRunner } from '../test-server/runner.mjs'
import { DEFAULT_CLIENT } from '../test-server/runai-stand-in.mjs'
import { DEFAULT_INPUTS } from './action-inputs.mjs'

/** A run still going after this long is killed (GNU timeout) and counted as a miss: linear work takes well under a second. */
export const PATHOLOGICAL_LIMIT_S = 60
/** The control: a 503 of an ordinary message, to show what a run costs without a large answer. */
const CONTROL = 'Please try again in few minutes.'

/** The two ways an answer carries the shape. */
const CARRIERS = {
  'JSON `message`': (text) => ({
    status: 503,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ code: 503, message: text })
  }),
  'plain text': (text) => ({ status: 503, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: text })
}

/**
 * @param {{script: string, rounds: number, log: (line: string) => void}} options
 *   script: the action bundle; rounds: runs of each shape and carrier (the median is reported)
 */
export async function measurePathological({ script, rounds, log }) {
  /** @type {{shape: string, carrier: string, chars: number, bytes: number, wallMs: number[], requests: number[], printed: number[], failures: string[]}[]} */
  const results = []
  for (const [carrier, answerOf] of Object.entries(CARRIERS)) {
    for (const [shape, text] of Object.entries({ '(control) a short message': CONTROL, ...shapesThatFit(answerOf) })) {
      const answer = answerOf(text)
      const result = {
        shape,
        carrier,
        chars: text.length,
        bytes: Buffer.byteLength(answer.body),
        wallMs: [],
        requests: [],
        printed: [],
        failures: []
      }
      for (let round = 0; round < rounds; round++) {
        // Every request gets the shape (`after` answers once the scripted queue is empty, i.e. always).
        const server = await startHostileServer({ after: answer })
        try {
          const run = await runLikeRunner(
            script,
            {
              ...DEFAULT_INPUTS,
              url: server.url,
              'client-id': DEFAULT_CLIENT.id,
              'client-secret': DEFAULT_CLIENT.secret,
              'max-attempts': '1'
            },
            { wrapper: ['timeout', '-k', '5', String(PATHOLOGICAL_LIMIT_S)] }
          )
          result.wallMs.push(run.durationMs)
          result.requests.push(server.requests.length)
          result.printed.push(Buffer.byteLength(run.stdout) + Buffer.byteLength(run.stderr))
          if (run.exitCode === 124 || run.exitCode === 137) result.failures.push(`killed after ${PATHOLOGICAL_LIMIT_S} s`)
          else if (run.exitCode !== 1) result.failures.push(`exit code ${run.exitCode}, not 1`)
          else if (!/^::error::/m.test(run.stdout)) result.failures.push('no ::error:: line')
          else if (/larger than \d+ MiB/.test(run.stdout)) result.failures.push('refused as oversized, so never read')
        } finally {
          await server.close()
        }
      }
      results.push(result)
      log(
        `${carrier}, ${shape}: ${result.wallMs.map((ms) => ms.toFixed(0)).join(', ')} ms${result.failures.length ? ` (${result.failures.join('; ')})` : ''}`
      )
    }
  }
  return { results, rounds }
}

/**
 * Each shape as long as it can be while the whole answer stays within the action's 1 MiB limit on
 * an answer (MAX_ANSWER_BYTES): a longer one is refused unread, which would time the refusal, not
 * the reading. Characters outside ASCII take 2 or 3 bytes, and JSON escapes control characters.
 * @param {(text: string) => {body: string}} answerOf
 */
function shapesThatFit(answerOf) {
  const fitted = {}
  for (const name of Object.keys(pathologicalShapes(16))) {
    let size = MIB
    // Shrinks in proportion until the body fits; three steps suffice (the bytes per character are
    // constant but for the JSON wrapper), the loop is bounded anyway.
    for (let step = 0; step < 10; step++) {
      const bytes = Buffer.byteLength(answerOf(pathologicalShapes(size)[name] ?? '').body)
      if (bytes <= MIB) break
      size = Math.floor((size * MIB) / bytes) - 16
    }
    fitted[name] = pathologicalShapes(size)[name] ?? ''
  }
  return fitted
}
