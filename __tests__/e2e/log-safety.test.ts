/**
 * Issue #8 end to end: `node dist/index.js` started as the runner starts it (runAction), talking
 * to test-server/hostile-server.mjs, whose every answer is scripted; the whole stdout is then read
 * by test-server/runner-log.mjs as actions/runner reads it. The same rules as the in-process
 * property (__tests__/log-safety.test.ts), for a sample of cases, and the edge cases of the inputs
 * and of the runner's files.
 */
import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import { randomBytes } from 'node:crypto'
import {
  endingAnswer,
  headerSafe,
  hostileArbitraries,
  json,
  planToAnswer,
  startHostileServer,
  type HostileScenario,
  type ScriptedAnswer
} from '../../test-server/hostile-server.mjs'
import { findLeaks, logSafetyProblems, readRunnerLog } from '../../test-server/runner-log.mjs'
import { errorOf, runAction, serversClosedAfterEach, type ActionRun } from './harness.js'

const servers = serversClosedAfterEach()
const hostile = async (answers: ScriptedAnswer[], after?: ScriptedAnswer) =>
  servers.track(await startHostileServer(after === undefined ? { answers } : { answers, after }))

const SECRET = 'fake-Qm4Tz8-secret-Vn2Lw7'
const CLIENT = 'fake-log-safety-client'

/** A JWT-shaped token expiring in an hour; the signature is random, nobody checks it. */
function jwt(exp = Math.floor(Date.now() / 1000) + 3600): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
  return `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ sub: CLIENT, exp })}.${randomBytes(24).toString('base64url')}`
}

/** Every rule of issue #8, and: exit code 0 with a token handed on, or 1 with one error. */
function brokenRules(run: ActionRun, masked: string[]): string[] {
  // stderr is read as well: the runner looks for commands there too.
  const problems = logSafetyProblems(run.stdout, { masked, stderr: run.stderr })
  const errors = readRunnerLog(run.stdout).commands.filter((c) => c.name === 'error').length
  if (run.exitCode === 0 && (errors !== 0 || !run.outputs.token))
    problems.push(`exit 0 with ${errors} error(s) and token output ${JSON.stringify(run.outputs.token ?? null)}`)
  if (run.exitCode !== 0 && (errors !== 1 || run.outputs.token))
    problems.push(`exit ${run.exitCode} with ${errors} error(s)${run.outputs.token ? ' and a token output' : ''}`)
  return problems
}

const credentials = (secret = SECRET) => ({ 'client-id': CLIENT, 'client-secret': secret })

describe('hostile control planes', () => {
  it('issue #8: {"message":"##[stop-commands]x"} in a v2 404, then a token from v1; the token\'s add-mask is processed', async () => {
    const token = jwt()
    const server = await hostile([
      { status: 404, headers: { 'Content-Type': 'application/json' }, body: '{"message":"##[stop-commands]x"}' },
      json(200, { accessToken: token })
    ])
    const run = await runAction({ url: server.url, ...credentials() })
    expect(brokenRules(run, [SECRET, token])).toEqual([])
    expect(readRunnerLog(run.stdout).maskCommands).toEqual([SECRET, token])
    expect(run.outputs.token).toBe(token)
    expect(server.requests.map((r) => r.path)).toEqual(['/api/v2/token', '/api/v1/token'])
  })

  it('the secret echoed past character 200 of a long message: not one run of 8 of its characters is printed', async () => {
    const server = await hostile([json(401, { code: 401, message: `${'x'.repeat(190)}${SECRET} and more` })])
    const run = await runAction({ url: server.url, ...credentials(), 'api-version': 'v1' })
    expect(run.exitCode).toBe(1)
    expect(brokenRules(run, [SECRET])).toEqual([])
    expect(errorOf(run)).toMatch(/client-id.*client-secret|client-secret/)
  })

  it('a 300-character secret with a tab, echoed in an OAuth error: masked whole by the runner, never printed', async () => {
    const secret = `${'s3cr'.repeat(37)}\t${'T4b!'.repeat(38)}`.slice(0, 300)
    expect(secret).toHaveLength(300)
    const server = await hostile([json(401, { error: 'invalid_client', error_description: `unknown secret ${secret}` })])
    const run = await runAction({ url: server.url, ...credentials(secret) })
    expect(run.exitCode).toBe(1)
    expect(brokenRules(run, [secret])).toEqual([])
    expect(readRunnerLog(run.stdout).maskCommands).toEqual([secret])
  })

  it('a hostile Location: the redirect is refused and nothing in it steers the runner', async () => {
    const server = await hostile([
      {
        status: 302,
        headers: { Location: `https://evil.example/::stop-commands::x/${SECRET}/##[add-mask]?q=##[stop-commands]y#::error::z` },
        body: ''
      }
    ])
    const run = await runAction({ url: server.url, ...credentials() })
    expect(run.exitCode).toBe(1)
    expect(brokenRules(run, [SECRET])).toEqual([])
    expect(errorOf(run)).toMatch(/redirect/i)
    expect(errorOf(run)).toMatch(/`url`/)
  })

  it('a hostile Retry-After on a 503, then a token', async () => {
    const token = jwt()
    const server = await hostile([
      json(503, { code: 503, message: 'busy' }, { 'Retry-After': '##[stop-commands]x ::stop-commands::y' }),
      json(200, { access_token: token, token_type: 'Bearer', expires_in: 3600 })
    ])
    const run = await runAction({ url: server.url, ...credentials() })
    expect(brokenRules(run, [SECRET, token])).toEqual([])
    expect(run.outputs.token).toBe(token)
  })

  it('a hostile HTML page at v2 that quotes the secret, then a token from v1', async () => {
    const token = jwt()
    const server = await hostile([
      {
        status: 404,
        headers: { 'Content-Type': 'text/html' },
        body: `<html><head><title>##[stop-commands]x</title></head><body>\n::stop-commands::y\n${SECRET}\n##[add-mask]</body></html>`
      },
      json(200, { accessToken: token })
    ])
    const run = await runAction({ url: server.url, ...credentials() })
    expect(brokenRules(run, [SECRET, token])).toEqual([])
    expect(run.outputs.token).toBe(token)
  })

  it('a token quoted in an earlier answer is not printed before it is masked', async () => {
    const token = jwt()
    const server = await hostile([json(404, { message: `the next token will be ${token}` }), json(200, { accessToken: token })])
    const run = await runAction({ url: server.url, ...credentials() })
    expect(brokenRules(run, [SECRET, token])).toEqual([])
    expect(run.outputs.token).toBe(token)
  })

  it('lone CR, NEL (U+0085), ANSI escapes and a soft hyphen before ::stop-commands::, then a token', async () => {
    const token = jwt()
    const message = 'a\r::stop-commands::x \u0085::stop-commands::y \u001b[2K\r##[stop-commands]z \u00ad::stop-commands::w'
    const server = await hostile([json(404, { message, details: message }), json(200, { accessToken: token })])
    const run = await runAction({ url: server.url, ...credentials() })
    expect(brokenRules(run, [SECRET, token])).toEqual([])
    expect(logSafetyProblems(run.stdout, { masked: [SECRET, token], icu: 'strip' })).toEqual([])
  })

  it('an OAuth error whose description is made of workflow commands', async () => {
    const server = await hostile([
      json(400, {
        error: 'invalid_client',
        error_description:
          '##[set-output name=token;]evil\n::set-env name=NODE_OPTIONS::--require /tmp/evil.js\n::add-mask::%0A\n::echo::on'
      })
    ])
    const run = await runAction({ url: server.url, ...credentials() })
    expect(run.exitCode).toBe(1)
    expect(brokenRules(run, [SECRET])).toEqual([])
  })

  it('a reason phrase and a header made of commands, sent raw', async () => {
    const token = jwt()
    const body = JSON.stringify({ message: 'no' })
    const server = await hostile([
      {
        kind: 'raw',
        raw: `HTTP/1.1 404 ##[stop-commands]x\r\nContent-Type: application/json\r\nX-Note: ::stop-commands::y\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`
      },
      json(200, { accessToken: token })
    ])
    const run = await runAction({ url: server.url, ...credentials() })
    expect(brokenRules(run, [SECRET, token])).toEqual([])
  })
})

describe('a sample of generated hostile scenarios', () => {
  const { scenario } = hostileArbitraries(fc)
  // Fixed seed: the same six every run. Transport failures become connection resets here.
  const samples = fc.sample(scenario, { numRuns: 6, seed: 20_251_129 })

  it.each(samples.map((s, i) => [i + 1, s] as const))('sample %i', async (_n, s: HostileScenario) => {
    const answers: ScriptedAnswer[] = s.plans.map((plan) => {
      const answer = planToAnswer(plan, s)
      if ('transport' in answer) return { kind: 'reset' }
      const headers = Object.fromEntries(Object.entries(answer.headers ?? {}).map(([k, v]) => [k, headerSafe(v)]))
      return { ...answer, headers }
    })
    const ending = endingAnswer(s)
    if (ending !== undefined) answers.push(ending)
    const server = await hostile(answers, json(401, { error: 'invalid_client' }))
    const run = await runAction(
      {
        url: server.url,
        ...credentials(s.secret),
        'api-version': s.apiVersion,
        'max-attempts': '2',
        'timeout-seconds': '20',
        'job-summary': String(s.jobSummary)
      },
      s.debug ? { RUNNER_DEBUG: '1' } : {}
    )
    const issued = ending !== undefined && server.requests.length > s.plans.length
    const masked = [s.secret, ...(issued ? [s.token, ...(s.refresh === undefined ? [] : [s.refresh])] : [])]
    expect(brokenRules(run, masked)).toEqual([])
  })
})

describe('inputs and runner files the action refuses', () => {
  it.each([
    'PATH',
    'ld_preload',
    'Node_Options',
    'GITHUB_TOKEN',
    'RUNNER_TEMP',
    'ACTIONS_RUNTIME_TOKEN',
    'BASH_ENV',
    'ENV',
    'DYLD_x',
    'NODE_EXTRA_CA_CERTS'
  ])('env-name %s: refused before any request, naming env-name', async (name) => {
    const server = await hostile([json(200, { access_token: jwt() })])
    const run = await runAction({ url: server.url, ...credentials(), 'env-name': name })
    expect(run.exitCode).toBe(1)
    expect(errorOf(run)).toContain('`env-name`')
    expect(errorOf(run)).toContain(name)
    expect(server.requests).toEqual([])
    expect(run.exported).toEqual({})
    expect(brokenRules(run, [SECRET])).toEqual([])
  })

  it('a token over 64 KiB: refused with a clear error, never printed nor handed on', async () => {
    const token = randomBytes(50 * 1024)
      .toString('base64url')
      .slice(0, 65 * 1024)
    expect(token.length).toBe(65 * 1024)
    const server = await hostile([json(200, { access_token: token, token_type: 'Bearer' })])
    const run = await runAction({ url: server.url, ...credentials(), 'api-version': 'v2' })
    expect(run.exitCode).toBe(1)
    expect(errorOf(run)).toMatch(/token/i)
    expect(errorOf(run)).toMatch(/64 ?KiB|65,?536|too (long|large|big)|larger than/i)
    expect(run.outputs.token ?? '').toBe('')
    expect(run.exported).toEqual({})
    // The refused token may be masked (its own add-mask line), never shown otherwise.
    expect(logSafetyProblems(run.stdout, { masked: [SECRET, token] })).toEqual([])
    expect(findLeaks(run.stdout, [token])).toEqual([])
  })

  it('no GITHUB_OUTPUT: fails naming GITHUB_OUTPUT, and never falls back to ::set-output', async () => {
    const token = jwt()
    const server = await hostile([json(200, { access_token: token })])
    const run = await runAction({ url: server.url, ...credentials() }, { GITHUB_OUTPUT: '' })
    expect(run.exitCode).toBe(1)
    expect(errorOf(run)).toContain('GITHUB_OUTPUT')
    expect(run.stdout).not.toContain('::set-output')
    expect(readRunnerLog(run.stdout).commands.map((c) => c.name)).not.toContain('set-output')
    expect(logSafetyProblems(run.stdout, { masked: [SECRET, token] })).toEqual([])
  })

  it('export-env true without GITHUB_ENV: fails naming GITHUB_ENV, and never falls back to ::set-env', async () => {
    const token = jwt()
    const server = await hostile([json(200, { access_token: token })])
    const run = await runAction({ url: server.url, ...credentials(), 'export-env': 'true' }, { GITHUB_ENV: '' })
    expect(run.exitCode).toBe(1)
    expect(errorOf(run)).toContain('GITHUB_ENV')
    expect(run.stdout).not.toContain('::set-env')
    expect(logSafetyProblems(run.stdout, { masked: [SECRET, token] })).toEqual([])
  })

  it('export-env false without GITHUB_ENV: succeeds', async () => {
    const token = jwt()
    const server = await hostile([json(200, { access_token: token })])
    const run = await runAction({ url: server.url, ...credentials(), 'export-env': 'false' }, { GITHUB_ENV: '' })
    expect(run.exitCode).toBe(0)
    expect(run.outputs.token).toBe(token)
    expect(brokenRules(run, [SECRET, token])).toEqual([])
  })

  it('job-summary true without GITHUB_STEP_SUMMARY: succeeds with a warning', async () => {
    const token = jwt()
    const server = await hostile([json(200, { access_token: token })])
    const run = await runAction({ url: server.url, ...credentials(), 'job-summary': 'true' }, { GITHUB_STEP_SUMMARY: '' })
    expect(run.exitCode).toBe(0)
    expect(run.outputs.token).toBe(token)
    const warnings = readRunnerLog(run.stdout).annotations.filter((a) => a.type === 'warning')
    expect(warnings).toHaveLength(1)
    expect(warnings[0]?.message).toMatch(/GITHUB_STEP_SUMMARY/)
    expect(brokenRules(run, [SECRET, token])).toEqual([])
  })

  it.each(['1e13', '1e300', '9223372036854775807'])('expires_in %s: counted as unknown, expires-at from the JWT exp', async (expiresIn) => {
    const exp = Math.floor(Date.now() / 1000) + 3600
    const token = jwt(exp)
    // Written by hand: JSON.stringify would round the last one.
    const server = await hostile([
      {
        status: 200,
        headers: { 'Content-Type': 'application/json' },
        body: `{"access_token":"${token}","token_type":"Bearer","expires_in":${expiresIn}}`
      }
    ])
    const run = await runAction({ url: server.url, ...credentials() })
    expect(errorOf(run)).toBe('')
    expect(run.exitCode).toBe(0)
    expect(run.outputs['expires-at']).toBe(new Date(exp * 1000).toISOString())
    expect(Math.abs(Number(run.outputs['expires-in']) - 3600)).toBeLessThanOrEqual(10)
    expect(brokenRules(run, [SECRET, token])).toEqual([])
  })
})
