import { describe, expect, it } from '@jest/globals'
import { parseInputs } from '../src/inputs.js'
import type { InputName } from '../src/constants.js'
import { CLIENT_ID, SECRET } from './helpers/fakes.js'

const base: Partial<Record<InputName, string>> = { url: 'https://runai.example.com', 'client-id': CLIENT_ID, 'client-secret': SECRET }
const parse = (overrides: Partial<Record<InputName, string>> = {}) => parseInputs((name) => ({ ...base, ...overrides })[name] ?? '')

describe('parseInputs', () => {
  it('applies the defaults of action.yml when inputs are empty', () => {
    expect(parse()).toEqual({
      baseUrl: 'https://runai.example.com',
      clientId: CLIENT_ID,
      clientSecret: SECRET,
      apiVersion: 'auto',
      exportEnv: true,
      envName: 'RUNAI_TOKEN',
      timeoutMs: 120_000,
      maxAttempts: 5,
      caCertificate: '',
      insecureSkipTlsVerify: false,
      jobSummary: false,
      deploy: { cluster: '', project: '', permissions: [], listClusters: false }
    })
  })

  it('reads the deploy context: a cluster, a project, permissions and list-clusters', () => {
    expect(
      parse({ cluster: 'gpu-east', project: 'team-a', permission: ' create trainings ,READ  workloads', 'list-clusters': 'true' }).deploy
    ).toEqual({
      cluster: 'gpu-east',
      project: 'team-a',
      permissions: [
        { action: 'create', resourceType: 'trainings' },
        { action: 'read', resourceType: 'workloads' }
      ],
      listClusters: true
    })
  })

  it.each(['create', 'deploy trainings', 'create trainings now', 'create Trainings', 'create trainings,', 'create $(id)'])(
    'refuses a permission of %j before any request, naming the input',
    (permission) => {
      expect(() => parse({ permission })).toThrow('Input `permission` must be "<action> <resource type>" items separated by commas')
    }
  )

  it("refuses a project name with a comma, which would split the lookup's filter", () => {
    expect(() => parse({ project: 'team-a,clusterId==x' })).toThrow('Input `project` must not contain a comma')
  })

  it.each([
    ['cluster', 'a\nb'],
    ['project', 'x'.repeat(254)]
  ])('refuses a %s that is not one line of a sane length', (name, value) => {
    expect(() => parse({ [name]: value })).toThrow(`Input \`${name}\` must be one line of at most 253 characters`)
  })

  it('reads every switch', () => {
    const config = parse({
      'api-version': 'V1-App-Token',
      'export-env': 'false',
      'env-name': 'MY_TOKEN',
      'timeout-seconds': '30',
      'max-attempts': '2',
      'insecure-skip-tls-verify': 'TRUE',
      'job-summary': 'True'
    })
    expect(config).toMatchObject({
      apiVersion: 'v1-app-token',
      exportEnv: false,
      envName: 'MY_TOKEN',
      timeoutMs: 30_000,
      maxAttempts: 2,
      insecureSkipTlsVerify: true,
      jobSummary: true
    })
  })

  it('accepts app-id and app-secret as aliases, and both names when they agree', () => {
    const config = parse({ 'client-id': '', 'client-secret': '', 'app-id': 'legacy-app', 'app-secret': SECRET })
    expect(config).toMatchObject({ clientId: 'legacy-app', clientSecret: SECRET })
    expect(parse({ 'app-id': CLIENT_ID, 'app-secret': SECRET })).toMatchObject({ clientId: CLIENT_ID, clientSecret: SECRET })
  })

  it.each<[Partial<Record<InputName, string>>, string]>([
    [{ url: '' }, 'Input `url` is required'],
    [
      { 'client-id': '' },
      'Input `client-id` is required (the client ID of the Run:ai service account, access key or application; `app-id` is accepted as an alias) but is empty. Repository secrets are not passed to workflows triggered from forks or by Dependabot'
    ],
    [
      { 'client-secret': '' },
      'Input `client-secret` is required (the secret of that client; `app-secret` is accepted as an alias) but is empty. Repository secrets are not passed to workflows triggered from forks or by Dependabot'
    ],
    [
      { 'app-id': 'other' },
      'Inputs `client-id` and `app-id` are the same setting under two names and were given different values; set only `client-id`.'
    ],
    [
      { 'app-secret': 'other-secret' },
      'Inputs `client-secret` and `app-secret` are the same setting under two names and were given different values'
    ],
    [{ 'api-version': 'v3' }, 'Input `api-version` must be one of auto, v2, v1, v1-app-token; got "v3".'],
    [{ 'export-env': 'yes' }, 'Input `export-env` must be true or false; got "yes".'],
    [{ 'insecure-skip-tls-verify': '1' }, 'Input `insecure-skip-tls-verify` must be true or false; got "1".'],
    [{ 'job-summary': 'on' }, 'Input `job-summary` must be true or false; got "on".'],
    [{ 'env-name': '1TOKEN' }, 'Input `env-name` must be a valid environment variable name'],
    [{ 'env-name': 'MY-TOKEN' }, 'Input `env-name` must be a valid environment variable name'],
    [
      { 'env-name': 'GITHUB_TOKEN' },
      'Input `env-name` must not be GITHUB_TOKEN: PATH, BASH_ENV, LD_*, NODE_*, OPENSSL_*, DOTNET_*, CLASSPATH, KUBECONFIG and the like change how later steps run, and GITHUB_*, RUNNER_* and ACTIONS_* belong to the runner. Use a name such as RUNAI_TOKEN.'
    ],
    ...[
      'PATH',
      'path',
      'BASH_ENV',
      'ENV',
      'ld_preload',
      'DYLD_INSERT_LIBRARIES',
      'Node_Extra_CA_Certs',
      'runner_temp',
      'ACTIONS_RUNTIME_TOKEN',
      'PERL5OPT',
      'git_config_parameters',
      'GIT_SSH_COMMAND',
      'SHELLOPTS',
      'JAVA_TOOL_OPTIONS',
      'PYTHONPATH',
      'RUBYOPT',
      'https_proxy',
      'npm_config_registry',
      'PIP_INDEX_URL',
      'HOME',
      'OPENSSL_CONF',
      'GLIBC_TUNABLES',
      'GCONV_PATH',
      'DOTNET_STARTUP_HOOKS',
      'CLASSPATH',
      'PSModulePath',
      'KUBECONFIG',
      'SSL_CERT_FILE',
      'MALLOC_CHECK_',
      'COMPlus_EnableDiagnostics',
      'DOCKER_HOST',
      'XDG_CONFIG_HOME',
      'IFS',
      'LUA_PATH',
      'JAVA_HOME',
      'CFLAGS',
      'MAKEFLAGS',
      'GOPROXY',
      'CARGO_HOME',
      'SHELL',
      'R_PROFILE_USER',
      'BUNDLE_GEMFILE',
      'AWS_CONFIG_FILE',
      'GOOGLE_APPLICATION_CREDENTIALS'
    ].map((name): [Partial<Record<InputName, string>>, string] => [{ 'env-name': name }, `Input \`env-name\` must not be ${name}: `]),
    [{ 'env-name': 'github_runai' }, 'Input `env-name` must not be github_runai'],
    [{ 'env-name': 'NODE_OPTIONS' }, 'Input `env-name` must not be NODE_OPTIONS'],
    [{ 'timeout-seconds': '0' }, 'Input `timeout-seconds` must be a whole number from 1 to 21600; got "0".'],
    [{ 'timeout-seconds': '1.5' }, 'Input `timeout-seconds` must be a whole number from 1 to 21600; got "1.5".'],
    [{ 'timeout-seconds': '-3' }, 'Input `timeout-seconds` must be a whole number'],
    [{ 'timeout-seconds': '99999' }, 'Input `timeout-seconds` must be a whole number from 1 to 21600'],
    [{ 'max-attempts': 'five' }, 'Input `max-attempts` must be a whole number from 1 to 100; got "five".'],
    [{ 'max-attempts': '0' }, 'Input `max-attempts` must be a whole number from 1 to 100']
  ])('refuses %j', (overrides, message) => {
    expect(() => parse(overrides)).toThrow(message)
  })

  it('never puts a secret into its messages', () => {
    for (const overrides of [{ 'app-secret': 'other-secret' }, { 'client-id': '' }]) {
      try {
        parse(overrides)
      } catch (error) {
        expect((error as Error).message).not.toContain(SECRET)
        expect((error as Error).message).not.toContain('other-secret')
      }
    }
    expect.assertions(4)
  })
})
