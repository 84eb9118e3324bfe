import { describe, expect, it } from '@jest/globals'
import { run, type ActionCore } from '../src/main.js'
import type { InputName } from '../src/constants.js'
import type { TlsTrust } from '../src/transport.js'
import { CLIENT_ID, SECRET, fakeClock, fakeJwt, jsonAnswer, scriptedSender, type Reply } from './helpers/fakes.js'

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

async function runWith(inputOverrides: Partial<Record<InputName, string>>, replies: Reply[], debug = false) {
  const core = fakeCore({ ...inputs, ...inputOverrides }, debug)
  const send = scriptedSender(replies)
  const trusts: TlsTrust[] = []
  await run({
    core,
    clock: fakeClock(NOW),
    env: {},
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
      jsonAnswer(200, { access_token: TOKEN, token_type: 'Bearer', expires_in: 3600, refresh_token: 'refresh-xyz' })
    ])
    expect(events.filter(([kind]) => kind !== 'debug')).toEqual([
      ['mask', SECRET],
      ['mask', TOKEN],
      ['mask', 'refresh-xyz'],
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
      expect(line).not.toContain('refresh-xyz')
    }
  })

  it('never outputs refresh or ID tokens', async () => {
    const { events } = await runWith({}, [jsonAnswer(200, { access_token: TOKEN, id_token: 'id-abc', refresh_token: 'refresh-abc' })])
    const handedOn = events.filter(([kind]) => kind === 'output' || kind === 'env').map((e) => e[2])
    expect(handedOn).not.toContain('id-abc')
    expect(handedOn).not.toContain('refresh-abc')
  })

  it('leaves expires-in and expires-at empty for an opaque token without expires_in', async () => {
    const { events } = await runWith({}, [jsonAnswer(200, { accessToken: 'opaque' })])
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
      'insecure-skip-tls-verify is true: the certificate of the Run:ai control plane is not checked, so anyone on the network path could read the client secret and the token. Pass the CA in `ca-certificate` instead.'
    ])
  })

  it('reports an unexpected error as such, with the stack only in debug mode', async () => {
    const quiet = await runWith({}, [new Error('boom')])
    expect(quiet.events.at(-1)).toEqual([
      'failed',
      'runai-token-action failed unexpectedly: boom. Re-run with debug logging for details, and please report it.'
    ])
    const loud = await runWith({}, [new Error('boom')], true)
    expect(loud.events.at(-1)?.[0]).toBe('debug')
    expect(loud.events.at(-1)?.[1]).toMatch(/^Error: boom\n\s+at /)
  })

  it('writes one summary line without the token when job-summary is true', async () => {
    const { events } = await runWith({ 'job-summary': 'true' }, [jsonAnswer(200, { access_token: TOKEN, expires_in: 60 })])
    const summaries = events.filter(([kind]) => kind === 'summary')
    expect(summaries).toEqual([
      [
        'summary',
        `Run:ai token for client ${CLIENT_ID} from https://runai.example.com (api-version v2), expires ${new Date(NOW + 60_000).toISOString()}.`
      ]
    ])
  })

  it('writes no summary by default', async () => {
    const { events } = await runWith({}, [jsonAnswer(200, { access_token: TOKEN })])
    expect(events.some(([kind]) => kind === 'summary')).toBe(false)
  })
})
