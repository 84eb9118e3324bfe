/**
 * Issue #8: the runner reads every stdout line as a possible workflow command, so nothing a
 * server says may steer it. These properties run the whole action in this process with the REAL
 * @actions/core (stdout captured, inputs in INPUT_* as the runner passes them, GITHUB_OUTPUT,
 * GITHUB_ENV and GITHUB_STEP_SUMMARY as files), feed it hostile answers, and read the output
 * with test-server/runner-log.mjs, which parses it as actions/runner does.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'
import { defaultDeps, run, type ActionCore, type RunDeps } from '../src/main.js'
import * as transport from '../src/transport.js'
import * as transportErrors from '../src/transport-error.js'
import { fakeClock, fakeJwt, scriptedSender, type Reply } from './helpers/fakes.js'
import {
  endingAnswer,
  hostileArbitraries,
  planToAnswer,
  type HostileScenario,
  type ScriptedAnswer
} from '../test-server/hostile-server.mjs'
import { logSafetyProblems, readRunnerLog } from '../test-server/runner-log.mjs'
import { parseFileCommands } from '../test-server/runner.mjs'
import { runnerMasks } from '../src/log-boundary.js'

/** What a sender answers (wherever src/ declares the type). */
type HttpAnswer = Exclude<Reply, Error | ((...args: never[]) => unknown)>

// ---------------------------------------------------------------------------------------------
// Running the action as the runner would, in this process
// ---------------------------------------------------------------------------------------------

/** main.ts's own adapter of the real @actions/core, as `node dist/index.js` uses it. */
const realDeps: RunDeps = defaultDeps

/** Defaults of action.yml: the runner passes every input, defaulted ones included. */
const manifest = parse(readFileSync('action.yml', 'utf8')) as { inputs: Record<string, { default?: string }> }
const DEFAULT_INPUTS = Object.fromEntries(Object.entries(manifest.inputs).map(([name, spec]) => [name, spec.default ?? '']))

let dir = ''
const files = { GITHUB_OUTPUT: '', GITHUB_ENV: '', GITHUB_STEP_SUMMARY: '' }
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'runai-log-safety-'))
  // One set of files for the whole file: @actions/core caches the summary path on first use.
  files.GITHUB_OUTPUT = join(dir, 'output')
  files.GITHUB_ENV = join(dir, 'env')
  files.GITHUB_STEP_SUMMARY = join(dir, 'summary')
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

interface InProcessRun {
  stdout: string
  outputs: Record<string, string>
  exported: Record<string, string>
  summary: string
  /** How often the action called each method of its core. */
  calls: Record<string, number>
  /** Values it passed to setSecret. */
  secretsSet: string[]
}

/**
 * Runs `run()` once with the real core: INPUT_* set as the runner sets them (name upper-cased,
 * hyphens kept), stdout captured, process.env and process.exitCode restored afterwards.
 */
async function runInProcess(
  inputs: Record<string, string>,
  replies: Reply[],
  options: { debug?: boolean; env?: Record<string, string | undefined> } = {}
): Promise<InProcessRun> {
  for (const file of Object.values(files)) writeFileSync(file, '')
  const env: Record<string, string | undefined> = { ...files, RUNNER_DEBUG: options.debug ? '1' : undefined, ...options.env }
  for (const [name, value] of Object.entries({ ...DEFAULT_INPUTS, ...inputs }))
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]))
  const savedExitCode = process.exitCode
  const calls: Record<string, number> = {}
  const secretsSet: string[] = []
  // Each method of the real core, counted.
  const counted = Object.fromEntries(
    Object.entries(realDeps.core).map(([name, fn]) => [
      name,
      (...args: unknown[]) => {
        calls[name] = (calls[name] ?? 0) + 1
        if (name === 'setSecret') secretsSet.push(String(args[0]))
        return (fn as (...a: unknown[]) => unknown)(...args)
      }
    ])
  ) as unknown as ActionCore
  let stdout = ''
  const write = process.stdout.write
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) Reflect.deleteProperty(process.env, k)
    else process.env[k] = v
  }
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')
    return true
  }) as typeof process.stdout.write
  try {
    await run({ ...realDeps, core: counted, env: process.env, clock: fakeClock(), createSender: () => scriptedSender(replies) })
  } finally {
    process.stdout.write = write
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) Reflect.deleteProperty(process.env, k)
      else process.env[k] = v
    }
    process.exitCode = savedExitCode
  }
  return {
    stdout,
    outputs: parseFileCommands(readFileSync(files.GITHUB_OUTPUT, 'utf8')),
    exported: parseFileCommands(readFileSync(files.GITHUB_ENV, 'utf8')),
    summary: readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
    calls,
    secretsSet
  }
}

/** A scripted answer of the hostile server as the transport would hand it over. */
function toHttpAnswer(answer: ScriptedAnswer): HttpAnswer {
  const header = (name: string) => Object.entries(answer.headers ?? {}).find(([k]) => k.toLowerCase() === name)?.[1]
  const location = header('location')
  const retryAfter = header('retry-after')
  return {
    status: answer.status ?? 200,
    contentType: header('content-type') ?? '',
    ...(location === undefined ? {} : { location }),
    ...(retryAfter === undefined ? {} : { retryAfter }),
    body: answer.body ?? ''
  }
}

/**
 * What the transport throws for a Node error: the error classified as the real transport does
 * (classifyRequestError, in transport-error.ts or, before, transport.ts). `UNEXPECTED` stays a
 * plain Error: the "failed unexpectedly" path, whose message and stack quote it.
 */
function transportFailure(code: string, message: string): Error {
  const nodeError = Object.assign(new Error(message), code === 'UNEXPECTED' ? {} : { code })
  if (code === 'UNEXPECTED') return nodeError
  type Classify = (error: unknown, peer: unknown) => Error
  const fromErrors = (transportErrors as unknown as { classifyRequestError?: Classify }).classifyRequestError
  if (fromErrors !== undefined) return fromErrors(nodeError, { role: 'control plane', label: 'runai.example.com' })
  const fromTransport = (transport as unknown as { classifyRequestError?: Classify }).classifyRequestError
  if (fromTransport !== undefined) return fromTransport(nodeError, 'runai.example.com')
  return nodeError
}

const BASE_URL = 'https://runai.example.com'

function scenarioReplies(scenario: HostileScenario): Reply[] {
  const replies: Reply[] = scenario.plans.map((plan) => {
    const answer = planToAnswer(plan, scenario)
    return 'transport' in answer ? transportFailure(answer.transport.code, answer.transport.message) : toHttpAnswer(answer)
  })
  const ending = endingAnswer(scenario)
  if (ending !== undefined) replies.push(toHttpAnswer(ending))
  // Whatever comes after: a control plane that judged the credentials, so that the run ends.
  for (let i = 0; i < 20; i++)
    replies.push(toHttpAnswer({ status: 401, headers: { 'Content-Type': 'application/json' }, body: '{"error":"invalid_client"}' }))
  return replies
}

// ---------------------------------------------------------------------------------------------
// The checks: what the runner would do with the output
// ---------------------------------------------------------------------------------------------

/**
 * Every rule of issue #8 for one run, as a list of broken ones (empty when all hold): the rules of
 * logSafetyProblems (runner-log.mjs), and the count of each command the runner processes equals
 * the calls of core that write it, and exactly one of (token handed on, one error).
 */
function brokenRules(run: InProcessRun, masked: string[], options: { icu?: 'ordinal' | 'strip' } = {}): string[] {
  const problems = logSafetyProblems(run.stdout, { masked, ...(options.icu === undefined ? {} : { icu: options.icu }) })
  const log = readRunnerLog(run.stdout, { stepDebug: true })
  const count = (name: string) => log.commands.filter((c) => c.name.toLowerCase() === name).length
  const expected = {
    'add-mask': run.calls.setSecret ?? 0,
    debug: run.calls.debug ?? 0,
    warning: run.calls.warning ?? 0,
    error: (run.calls.setFailed ?? 0) + (run.calls.error ?? 0)
  }
  for (const [name, calls] of Object.entries(expected)) {
    if (count(name) !== calls) problems.push(`${count(name)} \`${name}\` commands processed for ${calls} call(s) of core`)
  }
  const handedOn = run.outputs.token !== undefined && run.outputs.token !== ''
  if (handedOn === (count('error') === 1))
    problems.push(handedOn ? 'a token was handed on and an error reported' : 'neither a token nor an error')
  return problems
}

function inputsOf(scenario: HostileScenario): Record<string, string> {
  return {
    url: BASE_URL,
    'client-id': 'prop-client',
    'client-secret': scenario.secret,
    'api-version': scenario.apiVersion,
    'max-attempts': '3',
    'job-summary': String(scenario.jobSummary)
  }
}

async function runScenario(scenario: HostileScenario): Promise<{ run: InProcessRun; masked: string[] }> {
  const replies = scenarioReplies(scenario)
  const before = replies.length
  const run = await runInProcess(inputsOf(scenario), replies, { debug: scenario.debug })
  // The token (and the refresh token) count once the answer that carries them was sent: a value
  // the action never received is, to it, just more server text. A token quoted in an earlier
  // answer and issued later counts, from the start of the output.
  const issued = endingAnswer(scenario) !== undefined && before - replies.length > scenario.plans.length
  return {
    run,
    // As the runner gets them: a value's trimmed lines of 8 characters or more (runnerMasks).
    masked: [scenario.secret, ...(issued ? [scenario.token, ...(scenario.refresh === undefined ? [] : [scenario.refresh])] : [])].flatMap(
      runnerMasks
    )
  }
}

const { scenario: hostileScenario } = hostileArbitraries(fc)

// ---------------------------------------------------------------------------------------------

describe('hostile answers, examples', () => {
  const SECRET = 'fake-Sx7q2Wz-secret-9f3Kp0vB'
  const TOKEN = fakeJwt(1_800_000_000 + 3600, 'log-safety')

  it("issue #8's attack: ##[stop-commands] in a v2 404, then a token from v1; the token's add-mask is processed", async () => {
    const run = await runInProcess({ url: BASE_URL, 'client-id': 'c', 'client-secret': SECRET }, [
      toHttpAnswer({ status: 404, headers: { 'Content-Type': 'application/json' }, body: '{"message":"##[stop-commands]x"}' }),
      toHttpAnswer({ status: 200, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ accessToken: TOKEN }) })
    ])
    expect(brokenRules(run, [SECRET, TOKEN])).toEqual([])
    expect(readRunnerLog(run.stdout).maskCommands).toEqual([SECRET, TOKEN])
    expect(run.outputs.token).toBe(TOKEN)
  })

  it('the secret echoed past character 200 of a long message is not printed in part', async () => {
    const run = await runInProcess({ url: BASE_URL, 'client-id': 'c', 'client-secret': SECRET, 'api-version': 'v1' }, [
      toHttpAnswer({
        status: 401,
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ code: 401, message: `${'x'.repeat(190)}${SECRET}` })
      })
    ])
    expect(brokenRules(run, [SECRET])).toEqual([])
  })

  it('a token quoted in an earlier answer is not printed before it is masked', async () => {
    const run = await runInProcess({ url: BASE_URL, 'client-id': 'c', 'client-secret': SECRET }, [
      toHttpAnswer({
        status: 404,
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ message: `your next token: ${TOKEN}` })
      }),
      toHttpAnswer({ status: 200, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ accessToken: TOKEN }) })
    ])
    expect(brokenRules(run, [SECRET, TOKEN])).toEqual([])
  })

  it.each([
    ['ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames: DNS:##[stop-commands]x"],
    ['ECONNRESET', 'socket hang up\n::stop-commands::y'],
    ['UNEXPECTED', '##[set-output name=token;]evil']
  ])('a transport error %s whose message carries command syntax', async (code, message) => {
    const run = await runInProcess(
      { url: BASE_URL, 'client-id': 'c', 'client-secret': SECRET, 'max-attempts': '2' },
      [transportFailure(code, message), transportFailure(code, message)],
      {
        debug: true
      }
    )
    expect(brokenRules(run, [SECRET])).toEqual([])
  })

  it.each([
    [
      'a passphrase sent with tabs for spaces (whitespace is collapsed after redaction)',
      'correct horse battery staple 42',
      'correct\thorse\tbattery'
    ],
    ['a literal \\u00ad sent as the character (escaping runs after redaction)', 'k9\\u00adQ2-rest-of-secret', 'k9\u00adQ2-res'],
    ['"## [" sent as "##[" (defusing runs after redaction)', 'Ab1## [Cd2-rest-of-secret', 'Ab1##[Cd2-re']
  ])('a server that sends the secret so that the log boundary rewrites it back: %s', async (_label, secret, sent) => {
    const run = await runInProcess({ url: BASE_URL, 'client-id': 'c', 'client-secret': secret, 'api-version': 'v1' }, [
      toHttpAnswer({
        status: 401,
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ code: 401, message: `bad: ${sent}` })
      })
    ])
    expect(brokenRules(run, [secret])).toEqual([])
  })

  it.each([
    ['NEL (U+0085), .NET whitespace', '\u0085::stop-commands::x'],
    ['a lone CR', 'a\r::stop-commands::x'],
    ['an ANSI escape', '\u001b[2K\r::stop-commands::x']
  ])('a message with %s before ::stop-commands:: at v2, then a token', async (_label, message) => {
    const run = await runInProcess({ url: BASE_URL, 'client-id': 'c', 'client-secret': SECRET }, [
      toHttpAnswer({ status: 404, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ message }) }),
      toHttpAnswer({ status: 200, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ accessToken: TOKEN }) })
    ])
    expect(brokenRules(run, [SECRET, TOKEN])).toEqual([])
  })
})

describe('hostile answers, for any of them', () => {
  it("the runner processes only the action's own commands, and no 8 characters of the secret or a token are printed", async () => {
    const started = Date.now()
    await fc.assert(
      fc.asyncProperty(hostileScenario, async (scenario) => {
        const { run, masked } = await runScenario(scenario)
        expect(brokenRules(run, masked)).toEqual([])
      }),
      { numRuns: Number(process.env.LOG_SAFETY_RUNS ?? 200) }
    )
    console.log(`log-safety property: ${process.env.LOG_SAFETY_RUNS ?? 200} runs in ${Date.now() - started} ms`)
  })

  it('(ICU, conservative) no line becomes a command even if the runner matched across ignorable code points', async () => {
    await fc.assert(
      fc.asyncProperty(hostileScenario, async (scenario) => {
        const { run, masked } = await runScenario(scenario)
        // Only what ICU adds; the other rules are the property above.
        expect(brokenRules(run, masked, { icu: 'strip' }).filter((p) => p.startsWith('(ICU)'))).toEqual([])
      }),
      { numRuns: 60 }
    )
  })
})
