import { afterAll, beforeAll, expect, it } from '@jest/globals'
import { DEFAULT_CLIENT, startStandIn } from '../../test-server/runai-stand-in.mjs'
import { errorOf, leaksOf, runAction } from './harness.js'

let standIn: Awaited<ReturnType<typeof startStandIn>>
beforeAll(async () => {
  standIn = await startStandIn()
})
afterAll(() => standIn.close())

const SECRET = DEFAULT_CLIENT.secret
const valid = () => ({ url: standIn.url, 'client-id': DEFAULT_CLIENT.id, 'client-secret': SECRET })

it.each<[string, Record<string, string>, string]>([
  [
    'missing url',
    { url: '' },
    'Input `url` is required: set it to the Run:ai control-plane address, for example https://mycompany.run.ai.'
  ],
  ['missing client-id', { 'client-id': '' }, 'Input `client-id` is required'],
  ['missing client-secret', { 'client-secret': '' }, 'Input `client-secret` is required'],
  ['a URL that does not parse', { url: 'https://run ai.example.com' }, 'Input `url` is not a valid URL'],
  ['another scheme', { url: 'ftp://runai.example.com' }, 'Input `url` must be an https:// address; "ftp:" is not supported.'],
  ['plain http off loopback', { url: 'http://runai.example.com' }, 'Input `url` uses plain http:// for runai.example.com'],
  ['credentials in the URL', { url: 'https://me:pw@runai.example.com' }, 'Input `url` must not carry credentials'],
  ['a query', { url: 'https://runai.example.com?x=1' }, 'Input `url` must not contain a query'],
  ['a query before a fragment', { url: 'https://runai.example.com/?tenant=a#top' }, 'Input `url` must not contain a query (?…)'],
  ['an unknown api-version', { 'api-version': 'v9' }, 'Input `api-version` must be one of auto, v2, v1, v1-app-token; got "v9".'],
  ['env-name invalid', { 'env-name': 'RUNAI TOKEN' }, 'Input `env-name` must be a valid environment variable name'],
  ['env-name GITHUB_', { 'env-name': 'GITHUB_RUNAI' }, 'Input `env-name` must not be GITHUB_RUNAI'],
  ['env-name NODE_OPTIONS', { 'env-name': 'NODE_OPTIONS' }, 'Input `env-name` must not be NODE_OPTIONS'],
  [
    'timeout-seconds not a number',
    { 'timeout-seconds': '2m' },
    'Input `timeout-seconds` must be a whole number from 1 to 21600; got "2m".'
  ],
  ['max-attempts zero', { 'max-attempts': '0' }, 'Input `max-attempts` must be a whole number from 1 to 100; got "0".'],
  ['a boolean that is not one', { 'export-env': 'maybe' }, 'Input `export-env` must be true or false; got "maybe".'],
  ['a ca-certificate that is neither', { 'ca-certificate': './no-such-ca.pem' }, 'Input `ca-certificate` is neither PEM text'],
  [
    'two different secrets',
    { 'app-secret': 'another-secret' },
    'Inputs `client-secret` and `app-secret` are the same setting under two names and were given different values'
  ]
])('%s fails before any request, naming the input', async (_label, inputs, message) => {
  const before = standIn.requests.length
  const run = await runAction({ ...valid(), ...inputs })
  expect(run.exitCode).toBe(1)
  expect(errorOf(run)).toContain(message)
  expect(standIn.requests.length).toBe(before)
  expect(run.outputs).toEqual({})
  expect(leaksOf(run, [SECRET, 'another-secret', 'pw'])).toEqual([])
})
