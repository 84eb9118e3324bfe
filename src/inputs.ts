import { Input, InputDefault, type InputName } from './constants.js'
import { normalizeBaseUrl } from './base-url.js'
import { InputError } from './errors.js'
import { type ApiVersionChoice, API_VERSION_CHOICES } from './generations.js'

/** Everything the action needs, validated. Built before any request is sent. */
export interface ActionConfig {
  baseUrl: string
  clientId: string
  clientSecret: string
  apiVersion: ApiVersionChoice
  exportEnv: boolean
  envName: string
  timeoutMs: number
  maxAttempts: number
  /** `ca-certificate` as given (PEM text or a path); loaded by tls-trust.ts. */
  caCertificate: string
  insecureSkipTlsVerify: boolean
  jobSummary: boolean
  /** What to resolve after the token (deploy-context.ts); all empty: the token alone. */
  deploy: DeployRequest
}

export type PermissionAction = 'create' | 'read' | 'update' | 'delete'
export interface Permission {
  action: PermissionAction
  resourceType: string
}

export interface DeployRequest {
  /** A cluster name or UUID, or '' */
  cluster: string
  /** A project name, or '' */
  project: string
  permissions: Permission[]
  listClusters: boolean
}

export type ReadInput = (name: InputName) => string

const SECRETS_HINT =
  'Repository secrets are not passed to workflows triggered from forks or by Dependabot; check that the secret exists and is passed to the step under `with:`.'

const MAX_TIMEOUT_SECONDS = 6 * 60 * 60 // a job cannot run longer than six hours on hosted runners
const MAX_ATTEMPTS = 100

/** Reads and validates every input; the first problem found is thrown as an InputError naming the input. */
export function parseInputs(read: ReadInput): ActionConfig {
  const get = (name: InputName): string => {
    const value = read(name).trim()
    return value === '' ? (InputDefault[name] ?? '') : value
  }
  return {
    baseUrl: normalizeBaseUrl(get(Input.url)),
    clientId: aliased(get, Input.clientId, Input.appId, 'the client ID of the Run:ai service account, access key or application'),
    clientSecret: aliased(get, Input.clientSecret, Input.appSecret, 'the secret of that client'),
    apiVersion: parseApiVersion(get(Input.apiVersion)),
    exportEnv: parseBoolean(Input.exportEnv, get(Input.exportEnv)),
    envName: parseEnvName(get(Input.envName)),
    timeoutMs: parsePositiveInteger(Input.timeoutSeconds, get(Input.timeoutSeconds), MAX_TIMEOUT_SECONDS) * 1000,
    maxAttempts: parsePositiveInteger(Input.maxAttempts, get(Input.maxAttempts), MAX_ATTEMPTS),
    caCertificate: get(Input.caCertificate),
    insecureSkipTlsVerify: parseBoolean(Input.insecureSkipTlsVerify, get(Input.insecureSkipTlsVerify)),
    jobSummary: parseBoolean(Input.jobSummary, get(Input.jobSummary)),
    deploy: {
      cluster: parseName(Input.cluster, get(Input.cluster)),
      project: parseProject(get(Input.project)),
      permissions: parsePermissions(get(Input.permission)),
      listClusters: parseBoolean(Input.listClusters, get(Input.listClusters))
    }
  }
}

const MAX_NAME_CHARS = 253

/** A cluster or project name as the user gave it: one printable line, of a sane length. */
function parseName(name: InputName, value: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (value.length > MAX_NAME_CHARS || /[\u0000-\u001f\u007f]/.test(value)) {
    throw new InputError(
      `Input \`${name}\` must be one line of at most ${MAX_NAME_CHARS} characters: a name or UUID as the Run:ai UI shows it.`
    )
  }
  return value
}

/** A project name: also without a comma, which would split the control plane's comma-joined filter. */
function parseProject(value: string): string {
  const name = parseName(Input.project, value)
  if (name.includes(',')) {
    throw new InputError(
      `Input \`${Input.project}\` must not contain a comma: Run:ai project names have none, and the lookup joins its filters with commas.`
    )
  }
  return name
}

const PERMISSION_ACTIONS: readonly PermissionAction[] = ['create', 'read', 'update', 'delete']
// The resource types differ between control-plane versions, so only their shape is checked.
const RESOURCE_TYPE = /^[a-z][a-z0-9_/-]{0,63}$/

/** `create trainings, read workloads`: each an action and a resource type, checked before any request. */
function parsePermissions(value: string): Permission[] {
  if (value === '') return []
  return value.split(',').map((part) => {
    const words = part.trim().split(/\s+/)
    const [action = '', resourceType = ''] = words
    const known = PERMISSION_ACTIONS.find((a) => a === action.toLowerCase())
    if (words.length !== 2 || known === undefined || !RESOURCE_TYPE.test(resourceType)) {
      throw new InputError(
        `Input \`${Input.permission}\` must be "<action> <resource type>" items separated by commas, the action one of ${PERMISSION_ACTIONS.join(', ')} (for example "create trainings, read workloads"); got "${part.trim().slice(0, 60)}".`
      )
    }
    return { action: known, resourceType }
  })
}

/** `client-id`/`app-id` and `client-secret`/`app-secret` are the same input under two names. */
function aliased(get: (name: InputName) => string, name: InputName, alias: InputName, what: string): string {
  const value = get(name)
  const aliasValue = get(alias)
  if (value !== '' && aliasValue !== '' && value !== aliasValue) {
    throw new InputError(
      `Inputs \`${name}\` and \`${alias}\` are the same setting under two names and were given different values; set only \`${name}\`.`
    )
  }
  const chosen = value !== '' ? value : aliasValue
  if (chosen === '') {
    throw new InputError(`Input \`${name}\` is required (${what}; \`${alias}\` is accepted as an alias) but is empty. ${SECRETS_HINT}`)
  }
  return chosen
}

function parseApiVersion(value: string): ApiVersionChoice {
  const choice = API_VERSION_CHOICES.find((c) => c === value.toLowerCase())
  if (choice === undefined) {
    throw new InputError(`Input \`${Input.apiVersion}\` must be one of ${API_VERSION_CHOICES.join(', ')}; got "${value.slice(0, 40)}".`)
  }
  return choice
}

function parseBoolean(name: InputName, value: string): boolean {
  if (/^(true|True|TRUE)$/.test(value)) return true
  if (/^(false|False|FALSE)$/.test(value)) return false
  throw new InputError(`Input \`${name}\` must be true or false; got "${value.slice(0, 40)}".`)
}

function parsePositiveInteger(name: InputName, value: string, max: number): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN
  if (!Number.isSafeInteger(n) || n < 1 || n > max) {
    throw new InputError(`Input \`${name}\` must be a whole number from 1 to ${max}; got "${value.slice(0, 40)}".`)
  }
  return n
}

// Names that change how later steps run (the loader, the C library, shells, interpreters, runtimes
// and tools that read code, options, certificates or servers from the environment), or that the
// runner owns. Windows compares variable names without regard to case, so this does too.
const RESERVED_ENV_NAMES = new Set([
  // the system, the loader and the C library
  'PATH',
  'PATHEXT',
  'COMSPEC',
  'HOME',
  'TMPDIR',
  'GCONV_PATH',
  'GLIBC_TUNABLES',
  'HOSTALIASES',
  'LOCALDOMAIN',
  'RES_OPTIONS',
  'LOCPATH',
  'NLSPATH',
  // shells
  'BASH_ENV',
  'ENV',
  'SHELLOPTS',
  'BASHOPTS',
  'IFS',
  'CDPATH',
  'PROMPT_COMMAND',
  'PS4',
  'ZDOTDIR',
  'PSMODULEPATH',
  // runtimes and build tools that load code or options
  'JAVA_TOOL_OPTIONS',
  'JDK_JAVA_OPTIONS',
  '_JAVA_OPTIONS',
  'CLASSPATH',
  'MAVEN_OPTS',
  'GRADLE_OPTS',
  'RUSTC_WRAPPER',
  'RUSTFLAGS',
  'GOFLAGS',
  'PERLLIB',
  'JAVA_HOME',
  'GOROOT',
  'GOPATH',
  'GOPROXY',
  'GOPRIVATE',
  'GONOSUMDB',
  'GOTOOLCHAIN',
  'PHPRC',
  'TCLLIBPATH',
  'ERL_LIBS',
  'PKG_CONFIG_PATH',
  'CC',
  'CXX',
  'CPP',
  'LD',
  'CFLAGS',
  'CXXFLAGS',
  'CPPFLAGS',
  'LDFLAGS',
  'MAKEFLAGS',
  'SHELL',
  'HISTFILE',
  'INPUTRC',
  'TERMINFO',
  'BROWSER',
  'EDITOR',
  'VISUAL',
  'PAGER',
  'LESSOPEN',
  // where tools find certificates, servers and credentials
  'KUBECONFIG',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'CURL_CA_BUNDLE',
  'REQUESTS_CA_BUNDLE',
  'GNUPGHOME',
  'GOOGLE_APPLICATION_CREDENTIALS',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'ALL_PROXY',
  'NO_PROXY'
])
const RESERVED_ENV_PREFIXES = [
  'LD_',
  'DYLD_',
  'MALLOC_',
  'OPENSSL_',
  'NODE_',
  'NPM_CONFIG_',
  'GIT_',
  'SSH_',
  'PYTHON',
  'PIP_',
  'PERL5',
  'RUBY',
  'GEM_',
  'BUNDLE_',
  'LUA_',
  'CARGO_',
  'R_',
  'AWS_',
  'DOTNET_',
  'CORECLR_',
  'COMPLUS_',
  'POWERSHELL_',
  'DOCKER_',
  'XDG_',
  'GITHUB_',
  'RUNNER_',
  'ACTIONS_'
]

function isReservedEnvName(name: string): boolean {
  const upper = name.toUpperCase()
  return RESERVED_ENV_NAMES.has(upper) || RESERVED_ENV_PREFIXES.some((prefix) => upper.startsWith(prefix))
}

function parseEnvName(value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) {
    throw new InputError(
      `Input \`${Input.envName}\` must be a valid environment variable name (letters, digits and _, not starting with a digit); got "${value.slice(0, 60)}".`
    )
  }
  if (isReservedEnvName(value)) {
    throw new InputError(
      `Input \`${Input.envName}\` must not be ${value}: PATH, BASH_ENV, LD_*, NODE_*, OPENSSL_*, DOTNET_*, CLASSPATH, KUBECONFIG and the like change how later steps run, and GITHUB_*, RUNNER_* and ACTIONS_* belong to the runner. Use a name such as RUNAI_TOKEN.`
    )
  }
  return value
}
