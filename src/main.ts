import { debug, exportVariable, getInput, info, isDebug, setFailed, setOutput, setSecret, summary, warning } from '@actions/core'
import { Input, Output, type InputName } from './constants.js'
import { ActionError, redact } from './errors.js'
import { tokenExpiry, type TokenExpiry } from './expiry.js'
import { parseInputs, type ActionConfig } from './inputs.js'
import { systemClock, type Clock } from './retry.js'
import { extraAuthorities } from './tls-trust.js'
import { requestToken, type IssuedToken } from './token-client.js'
import { createTransport, type SendRequest, type TlsTrust } from './transport.js'

/** The part of @actions/core the action uses; tests pass a recorder with the same shape. */
export type ActionCore = Pick<
  typeof import('@actions/core'),
  'getInput' | 'setSecret' | 'setOutput' | 'exportVariable' | 'setFailed' | 'info' | 'warning' | 'debug' | 'isDebug'
> & { appendSummary: (markdown: string) => Promise<void> }

export interface RunDeps {
  core: ActionCore
  clock: Clock
  createSender: (trust: TlsTrust) => SendRequest
  env: NodeJS.ProcessEnv
}

const defaultDeps: RunDeps = {
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

/** Reads the inputs, gets a token and hands it on; every failure ends in one setFailed sentence. */
export async function run(deps: RunDeps = defaultDeps): Promise<void> {
  const { core, clock } = deps
  const secrets: string[] = []
  const mask = (value: string): void => {
    secrets.push(value)
    core.setSecret(value)
  }
  // Server text reaches the log lines; a server that echoes the secret must not get it printed.
  const info = (message: string): void => core.info(redact(message, secrets))
  const debug = (message: string): void => core.debug(redact(message, secrets))
  const warning = (message: string): void => core.warning(redact(message, secrets))
  try {
    const read = (name: InputName): string => core.getInput(name)
    // Masked before anything else runs, under whichever name the secret came.
    for (const name of [Input.clientSecret, Input.appSecret]) {
      const secret = read(name).trim()
      if (secret !== '') mask(secret)
    }
    const config = parseInputs(read)
    if (config.insecureSkipTlsVerify) {
      warning(
        'insecure-skip-tls-verify is true: the certificate of the Run:ai control plane is not checked, so anyone on the network path could read the client secret and the token. Pass the CA in `ca-certificate` instead.'
      )
    }
    const trust: TlsTrust = { insecureSkipTlsVerify: config.insecureSkipTlsVerify }
    const extraCa = extraAuthorities(config.caCertificate, deps.env)
    if (extraCa !== undefined) trust.extraCa = extraCa
    debug(`Requesting a token from ${config.baseUrl} with api-version ${config.apiVersion}.`)
    const issued = await requestToken(config, { send: deps.createSender(trust), clock, mask, info, debug })
    const expiry = tokenExpiry(issued.accessToken, issued.expiresInSeconds, clock.now())
    handOn(core, config, issued, expiry)
    info(successMessage(config, issued, expiry))
    if (config.jobSummary) await core.appendSummary(redact(summaryLine(config, issued, expiry), secrets))
  } catch (error) {
    core.setFailed(redact(failureMessage(error), secrets))
    if (error instanceof Error && error.stack !== undefined && core.isDebug()) debug(error.stack)
  }
}

/** Outputs first, then the environment variable: the token is already masked by requestToken. */
function handOn(core: ActionCore, config: ActionConfig, issued: IssuedToken, expiry: TokenExpiry | undefined): void {
  core.setOutput(Output.token, issued.accessToken)
  core.setOutput(Output.expiresIn, expiry === undefined ? '' : String(expiry.expiresInSeconds))
  core.setOutput(Output.expiresAt, expiry?.expiresAt ?? '')
  core.setOutput(Output.apiVersion, issued.generation)
  core.setOutput(Output.url, config.baseUrl)
  if (config.exportEnv) core.exportVariable(config.envName, issued.accessToken)
}

function successMessage(config: ActionConfig, issued: IssuedToken, expiry: TokenExpiry | undefined): string {
  const until = expiry === undefined ? '' : `, valid until ${expiry.expiresAt}`
  const where = config.exportEnv
    ? ` Later steps find it in $${config.envName} and in the step output \`token\`.`
    : ' It is in the step output `token`.'
  return `Got a Run:ai token from ${config.baseUrl} (api-version ${issued.generation})${until}.${where}`
}

function summaryLine(config: ActionConfig, issued: IssuedToken, expiry: TokenExpiry | undefined): string {
  // The client ID is user text going into Markdown: keep it from forming links, HTML or code.
  const plain = (text: string): string => text.replace(/[\\`*_[\]<>|]/g, (c) => `&#${c.charCodeAt(0)};`)
  return `Run:ai token for client ${plain(config.clientId)} from ${config.baseUrl} (api-version ${issued.generation}), expires ${expiry?.expiresAt ?? 'at an unknown time'}.`
}

function failureMessage(error: unknown): string {
  if (error instanceof ActionError) return error.message
  const text = error instanceof Error ? error.message : String(error)
  return `runai-token-action failed unexpectedly: ${text}. Re-run with debug logging for details, and please report it.`
}
