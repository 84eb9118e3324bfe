import { debug, exportVariable, getInput, isDebug, info, setFailed, setOutput, setSecret, summary, warning } from '@actions/core'
import { Input, MAX_TOKEN_BYTES, Output, RunnerFile, type InputName } from './constants.js'
import { MAX_CLUSTERS_OUTPUT, resolveDeployContext, wantsDeployContext, type DeployContext } from './deploy-context.js'
import { ActionError, ownStackFrames } from './errors.js'
import { tokenExpiry, type TokenExpiry } from './expiry.js'
import { parseInputs, type ActionConfig } from './inputs.js'
import { LogBoundary, runnerMasks, untrusted } from './log-boundary.js'
import { proxyFor } from './proxy-settings.js'
import { systemClock, type Clock } from './retry.js'
import { parseCaInput } from './tls-trust.js'
import { hasTokenShape } from './token-answer.js'
import { requestToken, type IssuedToken } from './token-client.js'
import { createTransport, type Sender, type TlsTrust } from './transport.js'

/** The part of @actions/core the action uses; tests pass a recorder with the same shape. */
export type ActionCore = Pick<
  typeof import('@actions/core'),
  'getInput' | 'setSecret' | 'setOutput' | 'exportVariable' | 'setFailed' | 'info' | 'warning' | 'debug' | 'isDebug'
> & { appendSummary: (markdown: string) => Promise<void> }

export interface RunDeps {
  core: ActionCore
  clock: Clock
  createSender: (trust: TlsTrust) => Sender
  env: NodeJS.ProcessEnv
}

export const defaultDeps: RunDeps = {
  // Named, not spread from a namespace: a spread would use every export of @actions/core and keep
  // its OIDC client (and undici behind it) in the bundle. See BENCHMARKS.md.
  core: {
    getInput,
    setSecret,
    setOutput,
    exportVariable,
    setFailed,
    info,
    warning,
    debug,
    isDebug,
    appendSummary: async (markdown) => void (await summary.addRaw(markdown, true).write())
  },
  clock: systemClock,
  createSender: createTransport,
  env: process.env
}

/**
 * Reads the inputs, gets a token and hands it on; every failure ends in one setFailed sentence.
 * Every line goes out through the log boundary, which redacts each masked value from it.
 */
export async function run(deps: RunDeps = defaultDeps): Promise<void> {
  const { core, clock, env } = deps
  const log = new LogBoundary({ info: core.info, debug: core.debug, warning: core.warning, error: core.setFailed })
  // The log boundary redacts every token the server sent; the runner masks only those shaped like
  // one (the access token always is: token-answer.ts refuses any other).
  const mask = (value: string): void => {
    log.addSecret(value)
    if (hasTokenShape(value)) core.setSecret(value)
  }
  // A value the user gave: each of its lines the runner can live with.
  const maskSent = (value: string): void => {
    log.addRequestSecret(value)
    runnerMasks(value).forEach(core.setSecret)
  }
  let sender: Sender | undefined
  try {
    const read = (name: InputName): string => core.getInput(name)
    // Masked before anything else runs, under whichever name the secret came.
    for (const name of [Input.clientSecret, Input.appSecret]) {
      const secret = read(name).trim()
      if (secret !== '') maskSent(secret)
    }
    const config = parseInputs(read)
    const proxyPassword = proxyFor(new URL(config.baseUrl))?.password
    if (proxyPassword) maskSent(proxyPassword)
    requireRunnerFiles(config, env)
    if (config.insecureSkipTlsVerify) {
      log.warning(
        'insecure-skip-tls-verify is true: the certificates of the Run:ai control plane and of an https:// proxy are not checked, so anyone on the network path could read the client secret and the token. Pass the CA in `ca-certificate` instead.'
      )
    }
    const extraCa = config.caCertificate === '' ? undefined : parseCaInput(config.caCertificate)
    sender = deps.createSender({ insecureSkipTlsVerify: config.insecureSkipTlsVerify, ...(extraCa === undefined ? {} : { extraCa }) })
    if (read(Input.url).includes('#'))
      log.debug(`The fragment (#…) of \`url\` was dropped: it never reaches a server; using ${config.baseUrl}.`)
    log.debug(`Requesting a token from ${config.baseUrl} with api-version ${config.apiVersion}.`)
    // The token request and the lookups after it share one deadline: the step's.
    const deadline = clock.now() + config.timeoutMs
    // Lines quoting the server wait until the token is known: a server could quote it before issuing it.
    log.hold()
    const issued = await requestToken(
      { ...config, deadline },
      { send: sender, clock, mask, info: (m) => log.info(m), debug: (m) => log.debug(m) }
    ).finally(() => log.release())
    if (Buffer.byteLength(issued.accessToken) > MAX_TOKEN_BYTES) {
      throw new ActionError(
        `The token from ${config.baseUrl} is ${Buffer.byteLength(issued.accessToken)} bytes long, more than the ${MAX_TOKEN_BYTES / 1024} KiB an environment variable can safely carry: later steps would fail to start. Check that \`url\` is the Run:ai control plane.`
      )
    }
    const expiry = tokenExpiry(issued.accessToken, issued.expiresInSeconds, clock.now())
    // Before anything is handed on: the step's promise is a token that can do the job.
    const context = wantsDeployContext(config.deploy)
      ? await resolveDeployContext(
          {
            ...config.deploy,
            baseUrl: config.baseUrl,
            clientId: config.clientId,
            maxAttempts: config.maxAttempts,
            timeoutMs: config.timeoutMs,
            deadline
          },
          issued.accessToken,
          { send: sender, clock, info: (m) => log.info(m), warning: (m) => log.warning(m), debug: (m) => log.debug(m) }
        )
      : {}
    handOn(core, config, issued, expiry, context, log)
    log.info(successMessage(config, issued, expiry, context))
    if (expiry?.alreadyPast) {
      // The control plane issued it, so it judges the token by its own clock: warn, do not fail.
      log.warning(
        `The token's expiry time (${expiry.expiresAt}) is already past by the runner's clock (${new Date(clock.now()).toISOString()}): the runner's clock or the control plane's is off. Later steps may be refused with HTTP 401; check both clocks (NTP).`
      )
    }
    if (config.jobSummary) await writeSummary(core, log, env, summaryLine(config, issued, expiry, context, log))
  } catch (error) {
    log.error(failureMessage(error))
    if (error instanceof Error && error.stack !== undefined && core.isDebug()) {
      const frames = ownStackFrames(error).map(untrusted)
      if (frames.length > 0) log.debug(`Where it failed: ${frames.join('; ')}`)
    }
  } finally {
    sender?.close()
  }
}

/**
 * Without its file, @actions/core writes an output or a variable to stdout as a command
 * (`::set-output name=token::…`); the token must never go there, so a missing file is an error.
 */
function requireRunnerFiles(config: ActionConfig, env: NodeJS.ProcessEnv): void {
  const needed = [RunnerFile.output, ...(config.exportEnv ? [RunnerFile.env] : [])]
  const missing = needed.filter((name) => !env[name])
  if (missing.length > 0) {
    throw new ActionError(
      `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set, so the token could only be handed on as a command on stdout, which this action never does. Run it as a step of a GitHub Actions job (runner 2.327.1 or later)${config.exportEnv ? ', or set `export-env: false`' : ''}.`
    )
  }
}

/** The summary is a courtesy: the token was already handed on, so a missing file only warns. */
async function writeSummary(core: ActionCore, log: LogBoundary, env: NodeJS.ProcessEnv, line: string): Promise<void> {
  if (!env[RunnerFile.summary]) {
    log.warning(`${RunnerFile.summary} is not set, so \`job-summary: true\` wrote no summary; the token was handed on as usual.`)
    return
  }
  try {
    // Already rendered value by value (summaryLine): rendering the Markdown as a whole could
    // redact a code span's fence away and free a link.
    await core.appendSummary(line)
  } catch (error) {
    log.warning(`The job summary could not be written (${untrusted(String(error))}); the token was handed on as usual.`)
  }
}

/** Outputs first, then the environment variable: the token is already masked by requestToken. */
function handOn(
  core: ActionCore,
  config: ActionConfig,
  issued: IssuedToken,
  expiry: TokenExpiry | undefined,
  context: DeployContext,
  log: LogBoundary
): void {
  core.setOutput(Output.token, issued.accessToken)
  core.setOutput(Output.expiresIn, expiry === undefined ? '' : String(expiry.expiresInSeconds))
  core.setOutput(Output.expiresAt, expiry?.expiresAt ?? '')
  core.setOutput(Output.apiVersion, issued.generation)
  core.setOutput(Output.url, config.baseUrl)
  if (context.cluster !== undefined) {
    core.setOutput(Output.clusterId, context.cluster.id)
    core.setOutput(Output.clusterName, context.cluster.name)
    core.setOutput(Output.clusterVersion, context.cluster.version)
  }
  if (context.project !== undefined) core.setOutput(Output.projectId, context.project.id)
  if (context.clusters !== undefined) {
    if (context.clusters.length > MAX_CLUSTERS_OUTPUT) {
      log.warning(
        `The identity sees ${context.clusters.length} clusters; the \`clusters\` output holds the first ${MAX_CLUSTERS_OUTPUT} by name.`
      )
    }
    const entries = context.clusters.slice(0, MAX_CLUSTERS_OUTPUT).map(({ id, name, version, state }) => ({ id, name, version, state }))
    core.setOutput(Output.clusters, JSON.stringify(entries))
  }
  if (config.exportEnv) core.exportVariable(config.envName, issued.accessToken)
}

function successMessage(config: ActionConfig, issued: IssuedToken, expiry: TokenExpiry | undefined, context: DeployContext): string {
  const until = expiry === undefined ? '' : `, valid until ${expiry.expiresAt}`
  const where = config.exportEnv
    ? ` Later steps find it in $${config.envName} and in the step output \`token\`.`
    : ' It is in the step output `token`.'
  return `Got a Run:ai token from ${config.baseUrl} (api-version ${issued.generation})${until}.${where}${contextSentence(config, context)}`
}

/**
 * What the lookups found, in one sentence; '' when none ran. A plain line, which problem matchers
 * read: it names only what the user gave and ids of a checked shape, never a name the server
 * chose (a cluster found by UUID or through its project is named by its UUID alone).
 */
function contextSentence(config: ActionConfig, context: DeployContext): string {
  const { cluster, project } = context
  const clusterName = cluster !== undefined && cluster.name === config.deploy.cluster ? `${cluster.name} ` : ''
  const parts = [
    ...(cluster === undefined ? [] : [`cluster ${clusterName}(${cluster.id})`]),
    ...(project === undefined ? [] : [`project ${config.deploy.project}`])
  ]
  const found = parts.length === 0 ? '' : ` Deploying to ${parts.join(', ')}.`
  const permissions = config.deploy.permissions.map((p) => `${p.action} ${p.resourceType}`)
  const allowed = permissions.length === 0 ? '' : ` It may ${permissions.join(', ')} there.`
  const listedClusters =
    context.clusters !== undefined && context.cluster === undefined
      ? ` It sees ${context.clusters.length} cluster(s): output \`clusters\`.`
      : ''
  return `${found}${allowed}${listedClusters}`
}

/** Each value through the log boundary first, then into its code span: the fences stay whole. */
function summaryLine(
  config: ActionConfig,
  issued: IssuedToken,
  expiry: TokenExpiry | undefined,
  context: DeployContext,
  log: LogBoundary
): string {
  const value = (text: string): string => codeSpan(log.render(text))
  const target = [
    ...(context.cluster === undefined ? [] : [`, cluster ${value(context.cluster.name)}`]),
    ...(context.project === undefined ? [] : [`, project ${value(context.project.name)}`])
  ].join('')
  return `Run:ai token for client ${value(config.clientId)} from ${value(config.baseUrl)} (api-version ${issued.generation})${target}, expires ${expiry?.expiresAt ?? 'at an unknown time'}.`
}

/**
 * Input text as a Markdown code span: inside one, GitHub's Markdown forms no link (autolinks of
 * https://…, www.… and e-mail addresses included), no image, no HTML and no emphasis. Escaping
 * characters cannot do that: an autolink needs none of them. The fence is one backtick longer
 * than the longest run in the text, with spaces where the text starts or ends with one.
 */
function codeSpan(text: string): string {
  let longest = 0
  for (let i = 0, run = 0; i < text.length; i++) {
    run = text[i] === '`' ? run + 1 : 0
    longest = Math.max(longest, run)
  }
  const fence = '`'.repeat(longest + 1)
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : ''
  return `${fence}${pad}${text}${pad}${fence}`
}

function failureMessage(error: unknown): string {
  if (error instanceof ActionError) return error.message
  const text = untrusted(error instanceof Error ? error.message : String(error))
  return `runai-token-action failed unexpectedly: ${text}. Re-run with debug logging for details, and please report it.`
}
