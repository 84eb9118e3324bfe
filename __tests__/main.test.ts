import { describe, expect, it } from '@jest/globals'
import { run, type ActionCore } from '../src/main.js'
import type { InputName } from '../src/constants.js'
import type { HttpAnswer, TlsTrust } from '../src/transport.js'
import { CLIENT_ID, RUNNER_ENV, SECRET, fakeClock, fakeJwt, jsonAnswer, scriptedSender, type Reply } from './helpers/fakes.js'

type Event = [string, ...string[]]

function fakeCore(inputs: Partial<Record<InputName, string>>, debug = false): ActionCore & { events: Event[] } {
  const events: Event[] = []
  return {
    events,
    getInput: (name: string) => inputs[name as InputName] ?? '',
    setSecret: (value: string) => void events.push(['mask', value]),
    setOutput: (name: string, value: unknown) => void events.push(['output', name, String(value)]),
    exportVariable: (name: string, value: unknown) => void events.push(['env', name, String(value)]),
    setFailed: (message: string | Error) => void events.push(['failed', String(message)]),
    info: (message: string) => void events.push(['info', message]),
    warning: (message: string | Error) => void events.push(['warning', String(message)]),
    debug: (message: string) => void events.push(['debug', message]),
    isDebug: () => debug,
    appendSummary: async (markdown: string) => void events.push(['summary', markdown])
  }
}

const NOW = 1_800_000_000_000
const TOKEN = fakeJwt(NOW / 1000 + 3600, 'main')
const inputs: Partial<Record<InputName, string>> = { url: 'https://runai.example.com/', 'client-id': CLIENT_ID, 'client-secret': SECRET }

async function runWith(
  inputOverrides: Partial<Record<InputName, string>>,
  replies: Reply[],
  debug = false,
  env: NodeJS.ProcessEnv = RUNNER_ENV
) {
  const core = fakeCore({ ...inputs, ...inputOverrides }, debug)
  const send = scriptedSender(replies)
  const trusts: TlsTrust[] = []
  await run({
    core,
    clock: fakeClock(NOW),
    env,
    createSender: (trust) => {
      trusts.push(trust)
      return send
    }
  })
  return { events: core.events, send, trusts }
}

/** Every printed line (not masks, outputs or env), which must never hold a secret. */
const printed = (events: Event[]) =>
  events.filter(([kind]) => ['info', 'warning', 'debug', 'failed', 'summary'].includes(kind)).map((e) => e.slice(1).join(' '))

describe('run', () => {
  it('masks the secret first and the token before any output, then sets outputs, then exports the variable', async () => {
    const { events } = await runWith({}, [
      jsonAnswer(200, { access_token: TOKEN, token_type: 'Bearer', expires_in: 3600, refresh_token: 'refresh-0123456789-xyz' })
    ])
    expect(events.filter(([kind]) => kind !== 'debug')).toEqual([
      ['mask', SECRET],
      ['mask', TOKEN],
      ['mask', 'refresh-0123456789-xyz'],
      ['output', 'token', TOKEN],
      ['output', 'expires-in', '3600'],
      ['output', 'expires-at', new Date(NOW + 3_600_000).toISOString()],
      ['output', 'api-version', 'v2'],
      ['output', 'url', 'https://runai.example.com'],
      ['env', 'RUNAI_TOKEN', TOKEN],
      [
        'info',
        `Got a Run:ai token from https://runai.example.com (api-version v2), valid until ${new Date(NOW + 3_600_000).toISOString()}. Later steps find it in $RUNAI_TOKEN and in the step output \`token\`.`
      ]
    ])
    expect(events.findIndex(([kind]) => kind === 'debug')).toBeGreaterThan(0) // the secret's mask came before any log line
    for (const line of printed(events)) {
      expect(line).not.toContain(SECRET)
      expect(line).not.toContain(TOKEN)
      expect(line).not.toContain('refresh-0123456789-xyz')
    }
  })

  it('never outputs refresh or ID tokens', async () => {
    const { events } = await runWith({}, [jsonAnswer(200, { access_token: TOKEN, id_token: 'id-abc', refresh_token: 'refresh-abc' })])
    const handedOn = events.filter(([kind]) => kind === 'output' || kind === 'env').map((e) => e[2])
    expect(handedOn).not.toContain('id-abc')
    expect(handedOn).not.toContain('refresh-abc')
  })

  it('leaves expires-in and expires-at empty for an opaque token without expires_in', async () => {
    const { events } = await runWith({}, [jsonAnswer(200, { accessToken: 'opaque-token-0123456789' })])
    expect(events).toContainEqual(['output', 'expires-in', ''])
    expect(events).toContainEqual(['output', 'expires-at', ''])
  })

  it('exports under env-name, or not at all with export-env false', async () => {
    const named = await runWith({ 'env-name': 'CLUSTER_A_TOKEN' }, [jsonAnswer(200, { access_token: TOKEN })])
    expect(named.events).toContainEqual(['env', 'CLUSTER_A_TOKEN', TOKEN])
    const off = await runWith({ 'export-env': 'false' }, [jsonAnswer(200, { access_token: TOKEN })])
    expect(off.events.some(([kind]) => kind === 'env')).toBe(false)
    expect(off.events).toContainEqual(['output', 'token', TOKEN])
  })

  it('masks a secret given as app-secret', async () => {
    const { events } = await runWith({ 'client-secret': '', 'app-secret': 'legacy-secret' }, [jsonAnswer(200, { access_token: TOKEN })])
    expect(events[0]).toEqual(['mask', 'legacy-secret'])
  })

  it('fails on bad input before any request, naming the input', async () => {
    const { events, send } = await runWith({ 'timeout-seconds': 'soon' }, [])
    expect(send.requests).toHaveLength(0)
    expect(events).toEqual([
      ['mask', SECRET],
      ['failed', 'Input `timeout-seconds` must be a whole number from 1 to 21600; got "soon".']
    ])
  })

  it('fails on an unreadable ca-certificate before any request', async () => {
    const { events, send } = await runWith({ 'ca-certificate': '/nonexistent/ca.pem' }, [])
    expect(send.requests).toHaveLength(0)
    expect(events.at(-1)).toEqual([
      'failed',
      'Input `ca-certificate` is neither PEM text (-----BEGIN CERTIFICATE-----…) nor a readable file: cannot read "/nonexistent/ca.pem" (ENOENT).'
    ])
  })

  it('redacts the secret when a server echoes it in an error', async () => {
    const { events } = await runWith({ 'api-version': 'v1' }, [jsonAnswer(401, { code: 401, message: `bad secret ${SECRET}` })])
    const failed = events.find(([kind]) => kind === 'failed')?.[1] ?? ''
    expect(failed).toContain('HTTP 401: bad secret ***')
    expect(failed).not.toContain(SECRET)
  })

  it('warns when TLS verification is off and passes the switch to the transport', async () => {
    const { events, trusts } = await runWith({ 'insecure-skip-tls-verify': 'true' }, [jsonAnswer(200, { access_token: TOKEN })])
    expect(trusts).toEqual([{ insecureSkipTlsVerify: true }])
    expect(events).toContainEqual([
      'warning',
      'insecure-skip-tls-verify is true: the certificates of the Run:ai control plane and of an https:// proxy are not checked, so anyone on the network path could read the client secret and the token. Pass the CA in `ca-certificate` instead.'
    ])
  })

  it('reports an unexpected error as such, with the stack only in debug mode', async () => {
    const quiet = await runWith({}, [new Error('boom')])
    expect(quiet.events.at(-1)).toEqual([
      'failed',
      'runai-token-action failed unexpectedly: boom. Re-run with debug logging for details, and please report it.'
    ])
    // An answer that is no answer makes the action's own code throw: its frames are the ones shown.
    const loud = await runWith({}, [() => null as unknown as HttpAnswer], true)
    expect(loud.events.at(-1)?.[0]).toBe('debug')
    // One line, like every other, of the frames: the message is the error line already.
    expect(loud.events.at(-1)?.[1]).toMatch(/^Where it failed: at interpretAnswer \(.+src\/token-answer\.ts:\d+:\d+\); at /)
    expect(loud.events.at(-1)?.[1]).not.toMatch(/main\.test\.ts|node:internal/)
  })

  it('prints no frames in debug mode when none is in its own code', async () => {
    const loud = await runWith({}, [new Error('boom')], true)
    expect(loud.events.at(-1)?.[0]).toBe('failed')
  })

  it('reports something thrown that is not an Error as unexpected too', async () => {
    const { events } = await runWith({}, [
      () => {
        throw 'a string'
      }
    ])
    expect(events.at(-1)).toEqual([
      'failed',
      'runai-token-action failed unexpectedly: a string. Re-run with debug logging for details, and please report it.'
    ])
  })

  it('writes one summary line without the token when job-summary is true', async () => {
    const { events } = await runWith({ 'job-summary': 'true' }, [jsonAnswer(200, { access_token: TOKEN, expires_in: 60 })])
    const summaries = events.filter(([kind]) => kind === 'summary')
    expect(summaries).toEqual([
      [
        'summary',
        `Run:ai token for client \`${CLIENT_ID}\` from \`https://runai.example.com\` (api-version v2), expires ${new Date(NOW + 60_000).toISOString()}.`
      ]
    ])
  })

  it('writes no summary by default', async () => {
    const { events } = await runWith({}, [jsonAnswer(200, { access_token: TOKEN })])
    expect(events.some(([kind]) => kind === 'summary')).toBe(false)
  })

  it('closes the sender when the run is over, passed or failed', async () => {
    expect((await runWith({}, [jsonAnswer(200, { access_token: TOKEN })])).send.closed()).toBe(true)
    expect((await runWith({ 'api-version': 'v2' }, [jsonAnswer(401, { error: 'invalid_client' })])).send.closed()).toBe(true)
  })
})

describe('handing on', () => {
  it('fails before any request without GITHUB_OUTPUT, naming it, instead of printing the token as a command', async () => {
    const { events, send } = await runWith({}, [], false, { GITHUB_ENV: '/runner/env' })
    expect(send.requests).toHaveLength(0)
    expect(events.at(-1)).toEqual([
      'failed',
      'GITHUB_OUTPUT is not set, so the token could only be handed on as a command on stdout, which this action never does. Run it as a step of a GitHub Actions job (runner 2.327.1 or later), or set `export-env: false`.'
    ])
  })

  it('does not suggest export-env: false when it is false already', async () => {
    const { events } = await runWith({ 'export-env': 'false' }, [], false, {})
    expect(events.at(-1)).toEqual([
      'failed',
      'GITHUB_OUTPUT is not set, so the token could only be handed on as a command on stdout, which this action never does. Run it as a step of a GitHub Actions job (runner 2.327.1 or later).'
    ])
  })

  it('needs GITHUB_ENV only when export-env is true', async () => {
    const failed = await runWith({}, [], false, { GITHUB_OUTPUT: '/runner/output' })
    expect(failed.events.at(-1)?.[1]).toMatch(/^GITHUB_ENV is not set, so the token could only be handed on as a command on stdout/)
    const passed = await runWith({ 'export-env': 'false' }, [jsonAnswer(200, { access_token: TOKEN })], false, { GITHUB_OUTPUT: '/x' })
    expect(passed.events).toContainEqual(['output', 'token', TOKEN])
    const neither = await runWith({}, [], false, {})
    expect(neither.events.at(-1)?.[1]).toMatch(/^GITHUB_OUTPUT and GITHUB_ENV are not set/)
  })

  it('refuses a token over 64 KiB, which would keep every later step from starting, after masking it', async () => {
    const huge = 'x'.repeat(64 * 1024 + 1)
    const { events } = await runWith({}, [jsonAnswer(200, { access_token: huge })])
    expect(events).toContainEqual(['mask', huge])
    expect(events.some(([kind]) => kind === 'output' || kind === 'env')).toBe(false)
    expect(events.at(-1)).toEqual([
      'failed',
      'The token from https://runai.example.com is 65537 bytes long, more than the 64 KiB an environment variable can safely carry: later steps would fail to start. Check that `url` is the Run:ai control plane.'
    ])
  })

  it('only warns when job-summary is true but GITHUB_STEP_SUMMARY is not set: the token was handed on', async () => {
    const env = { GITHUB_OUTPUT: '/runner/output', GITHUB_ENV: '/runner/env' }
    const { events } = await runWith({ 'job-summary': 'true' }, [jsonAnswer(200, { access_token: TOKEN })], false, env)
    expect(events.some(([kind]) => kind === 'failed' || kind === 'summary')).toBe(false)
    expect(events).toContainEqual(['env', 'RUNAI_TOKEN', TOKEN])
    expect(events.at(-1)).toEqual([
      'warning',
      'GITHUB_STEP_SUMMARY is not set, so `job-summary: true` wrote no summary; the token was handed on as usual.'
    ])
  })

  // As the server writes them; Go's MaxInt64 is no exact JavaScript number, hence text.
  it('only warns when the summary cannot be written: the token was handed on', async () => {
    const core = fakeCore({ ...inputs, 'job-summary': 'true' })
    core.appendSummary = async () => {
      throw new Error('Unable to access summary file')
    }
    await run({
      core,
      clock: fakeClock(NOW),
      env: RUNNER_ENV,
      createSender: () => scriptedSender([jsonAnswer(200, { access_token: TOKEN })])
    })
    expect(core.events.some(([kind]) => kind === 'failed')).toBe(false)
    expect(core.events.at(-1)).toEqual([
      'warning',
      'The job summary could not be written (Error: Unable to access summary file); the token was handed on as usual.'
    ])
  })

  it.each(['1e13', '1e300', '9223372036854775807'])('takes an expires_in of %s as unknown and uses the JWT exp', async (expiresIn) => {
    const body = `{"access_token": "${TOKEN}", "expires_in": ${expiresIn}}`
    const { events } = await runWith({}, [{ status: 200, contentType: 'application/json', body }])
    expect(events).toContainEqual(['output', 'expires-in', '3600'])
    expect(events).toContainEqual(['output', 'expires-at', new Date(NOW + 3_600_000).toISOString()])
  })

  it('holds lines that quote the server until the token is masked: a server cannot quote it first', async () => {
    const { events } = await runWith({}, [
      jsonAnswer(404, { message: `not here, but ${TOKEN} is` }),
      jsonAnswer(200, { accessToken: TOKEN })
    ])
    const tokenMask = events.findIndex((e) => e[0] === 'mask' && e[1] === TOKEN)
    const quoting = events.findIndex((e) => e[0] === 'debug' && String(e[1]).includes('not here'))
    expect(quoting).toBeGreaterThan(tokenMask)
    expect(events[quoting]?.[1]).toBe('https://runai.example.com/api/v2/token answered HTTP 404: not here, but *** is.')
  })

  it("says at the normal level only what the action chose to say; the server's words go to debug", async () => {
    const { events } = await runWith({}, [
      jsonAnswer(404, { message: 'x(1,2): error TS2304: session expired, sign in at https://evil.example/login' }),
      jsonAnswer(200, { accessToken: TOKEN })
    ])
    expect(events.filter(([kind]) => kind === 'info').map(([, line]) => line)).toEqual([
      'https://runai.example.com/api/v2/token answered HTTP 404; trying api-version v1.',
      expect.stringMatching(/^Got a Run:ai token from https:\/\/runai\.example\.com \(api-version v1\)/)
    ])
    expect(events).toContainEqual([
      'debug',
      'https://runai.example.com/api/v2/token answered HTTP 404: x(1,2): error TS2304: session expired, sign in at https://evil.example/login.'
    ])
  })

  it("warns, naming both times, when the token has already expired by the runner's clock, and still hands it on", async () => {
    const expired = fakeJwt(NOW / 1000 - 7200, 'expired')
    const { events } = await runWith({}, [jsonAnswer(200, { access_token: expired })])
    expect(events).toContainEqual(['output', 'token', expired])
    expect(events).toContainEqual(['output', 'expires-in', '0'])
    expect(events).toContainEqual([
      'warning',
      `The token's expiry time (${new Date(NOW - 7_200_000).toISOString()}) is already past by the runner's clock (${new Date(NOW).toISOString()}): the runner's clock or the control plane's is off. Later steps may be refused with HTTP 401; check both clocks (NTP).`
    ])
    expect(events.some(([kind]) => kind === 'failed')).toBe(false)
  })

  it.each([
    ['padded and multi-line tokens', { access_token: TOKEN, refresh_token: 'e       ', id_token: 'ab\n\n\n\n\n\n\n' }, [SECRET, TOKEN]],
    [
      'words a server calls tokens',
      { access_token: TOKEN, refresh_token: 'password', id_token: 'Deploying to\nproduction ok' },
      [SECRET, TOKEN]
    ],
    [
      'a refresh token shaped like one',
      { access_token: TOKEN, refresh_token: 'refresh-0123456789-abc' },
      [SECRET, TOKEN, 'refresh-0123456789-abc']
    ]
  ])('sends the runner masks only of values shaped like tokens: %s', async (_, body, masks) => {
    const { events } = await runWith({}, [jsonAnswer(200, body)])
    expect(events.filter(([kind]) => kind === 'mask').map(([, value]) => value)).toEqual(masks)
  })

  it('still redacts a token it does not send as a mask', async () => {
    const { events } = await runWith(
      {},
      [jsonAnswer(404, { message: 'no v2, the password!' }), jsonAnswer(200, { accessToken: TOKEN, refreshToken: 'the password!' })],
      true
    )
    expect(events.filter(([kind]) => kind === 'mask').map(([, value]) => value)).toEqual([SECRET, TOKEN])
    expect(events).toContainEqual(['debug', 'https://runai.example.com/api/v2/token answered HTTP 404: no v2, ***.'])
  })

  it('does not send a client secret shorter than 8 characters to the runner as a mask, and still redacts it', async () => {
    const { events } = await runWith({ 'client-secret': 'pw-123' }, [
      jsonAnswer(401, { error: 'invalid_client', error_description: 'bad pw-123' })
    ])
    expect(events.filter(([kind]) => kind === 'mask')).toEqual([])
    expect(events.at(-1)?.[1]).toContain('HTTP 401: invalid_client: bad ***')
  })
})

describe('the deploy context', () => {
  const UUID_EAST = '3f9a1c52-7d4e-4b8a-9c61-2e5f0a7b8d13'
  const cluster = (name: string, uuid: string, state = 'Connected') => ({ uuid, name, version: '2.24.3', status: { state } })
  const token = jsonAnswer(200, { access_token: TOKEN })

  it('hands on the cluster, project and clusters outputs, and names them in the log and the summary', async () => {
    const { events } = await runWith({ cluster: 'gpu-east', project: 'team-a', permission: 'create trainings', 'job-summary': 'true' }, [
      token,
      jsonAnswer(200, [cluster('gpu-east', UUID_EAST)]),
      jsonAnswer(200, { projects: [{ id: 101, name: 'team-a', clusterId: UUID_EAST, parentId: '12' }] }),
      jsonAnswer(200, { create: { system: false, tenants: [], clusters: [], departments: ['12'], projects: [] } })
    ])
    expect(events).toContainEqual(['output', 'cluster-id', UUID_EAST])
    expect(events).toContainEqual(['output', 'cluster-name', 'gpu-east'])
    expect(events).toContainEqual(['output', 'cluster-version', '2.24.3'])
    expect(events).toContainEqual(['output', 'project-id', '101'])
    expect(events).toContainEqual([
      'output',
      'clusters',
      JSON.stringify([{ id: UUID_EAST, name: 'gpu-east', version: '2.24.3', state: 'Connected' }])
    ])
    expect(events.filter(([kind]) => kind === 'info').at(-1)?.[1]).toMatch(
      new RegExp(`Deploying to cluster gpu-east \\(${UUID_EAST}\\), project team-a\\. It may create trainings there\\.$`)
    )
    expect(events.find(([kind]) => kind === 'summary')?.[1]).toContain('(api-version v2), cluster `gpu-east`, project `team-a`, expires')
  })

  it('with list-clusters alone, says how many clusters it sees', async () => {
    const { events } = await runWith({ 'list-clusters': 'true' }, [
      token,
      jsonAnswer(200, [cluster('b', UUID_EAST), cluster('a', UUID_EAST.replace('3f', '4f'))])
    ])
    expect(events.filter(([kind]) => kind === 'info').at(-1)?.[1]).toMatch(/It sees 2 cluster\(s\): output `clusters`\.$/)
    expect(JSON.parse(events.find(([kind, name]) => kind === 'output' && name === 'clusters')?.[2] ?? '[]')).toHaveLength(2)
  })

  it('holds at most 256 clusters in the output, and says so', async () => {
    const many = Array.from({ length: 300 }, (_, i) =>
      cluster(`c-${String(i).padStart(3, '0')}`, `${String(i).padStart(8, '0')}-0000-4000-8000-000000000000`)
    )
    const { events } = await runWith({ 'list-clusters': 'true' }, [token, jsonAnswer(200, many)])
    expect(JSON.parse(events.find(([kind, name]) => kind === 'output' && name === 'clusters')?.[2] ?? '[]')).toHaveLength(256)
    expect(events).toContainEqual(['warning', 'The identity sees 300 clusters; the `clusters` output holds the first 256 by name.'])
  })

  it('hands nothing on when a part of the deploy context fails', async () => {
    const { events } = await runWith({ cluster: 'nowhere' }, [token, jsonAnswer(200, [cluster('gpu-east', UUID_EAST)])])
    expect(events.some(([kind]) => kind === 'output' || kind === 'env')).toBe(false)
    expect(events.at(-1)?.[0]).toBe('failed')
  })
})

describe('the deploy context in plain lines', () => {
  it('never puts a name the server chose into a plain line: a cluster found by UUID is named by its UUID', async () => {
    const uuid = '3f9a1c52-7d4e-4b8a-9c61-2e5f0a7b8d13'
    const { events } = await runWith({ cluster: uuid.toUpperCase() }, [
      jsonAnswer(200, { access_token: TOKEN }),
      jsonAnswer(200, [{ uuid, name: 'x(1,2): error TS2304: sign in at https://evil.example', status: { state: 'Connected' } }])
    ])
    const info = events.filter(([kind]) => kind === 'info').map(([, line]) => line)
    expect(info.at(-1)).toMatch(new RegExp(`Deploying to cluster \\(${uuid}\\)\\.$`))
    expect(info.join('\n')).not.toContain('evil.example')
    expect(events).toContainEqual(['output', 'cluster-name', 'x(1,2): error TS2304: sign in at https://evil.example'])
  })
})
