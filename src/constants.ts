/** Names shared by action.yml, the README tables and the code; tests check that they agree. */

export const ACTION_NAME = 'runai-token-action'
// Kept equal to package.json's version by a test: reading package.json at run time would cost a
// file read and a JSON parse on every start.
export const ACTION_VERSION = '1.0.0'
export const USER_AGENT = `${ACTION_NAME}/${ACTION_VERSION}`

export const Input = {
  url: 'url',
  clientId: 'client-id',
  clientSecret: 'client-secret',
  appId: 'app-id',
  appSecret: 'app-secret',
  apiVersion: 'api-version',
  exportEnv: 'export-env',
  envName: 'env-name',
  timeoutSeconds: 'timeout-seconds',
  maxAttempts: 'max-attempts',
  caCertificate: 'ca-certificate',
  insecureSkipTlsVerify: 'insecure-skip-tls-verify',
  jobSummary: 'job-summary',
  cluster: 'cluster',
  project: 'project',
  permission: 'permission',
  listClusters: 'list-clusters'
} as const
export type InputName = (typeof Input)[keyof typeof Input]

export const Output = {
  token: 'token',
  expiresIn: 'expires-in',
  expiresAt: 'expires-at',
  apiVersion: 'api-version',
  url: 'url',
  clusterId: 'cluster-id',
  clusterName: 'cluster-name',
  clusterVersion: 'cluster-version',
  projectId: 'project-id',
  clusters: 'clusters'
} as const

/** Defaults as declared in action.yml; applied here too so that a bare `node dist/index.js` behaves the same. */
export const InputDefault: Partial<Record<InputName, string>> = {
  [Input.apiVersion]: 'auto',
  [Input.exportEnv]: 'true',
  [Input.envName]: 'RUNAI_TOKEN',
  [Input.timeoutSeconds]: '120',
  [Input.maxAttempts]: '5',
  [Input.insecureSkipTlsVerify]: 'false',
  [Input.jobSummary]: 'false',
  [Input.listClusters]: 'false'
}

/** Answers larger than this are refused: a token answer is a few kilobytes, a list of clusters or projects not much more. */
export const MAX_ANSWER_BYTES = 1024 * 1024

/** One attempt never waits longer than this, so that a hung connection still leaves time to retry. */
export const MAX_ATTEMPT_MS = 30_000

/**
 * Tokens larger than this are refused: Linux refuses to start a process whose environment holds
 * a much larger value (E2BIG), so every later step of the job would fail to start.
 */
export const MAX_TOKEN_BYTES = 64 * 1024

/** The runner's files for outputs, environment variables and the job summary. */
export const RunnerFile = { output: 'GITHUB_OUTPUT', env: 'GITHUB_ENV', summary: 'GITHUB_STEP_SUMMARY' } as const
