// Starts an action script the way a GitHub runner does: a fresh process, inputs as INPUT_* with
// hyphens kept, GITHUB_OUTPUT, GITHUB_ENV and GITHUB_STEP_SUMMARY pointing at new files, and a
// clean environment. Shared by the e2e tests, the demo, the benchmark and the e2e workflow's
// masking check. Plain Node, so that `npm run demo` works without `npm ci`.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * @typedef {object} RunnerRun
 * @property {number | null} exitCode
 * @property {string} stdout
 * @property {string} stderr
 * @property {Record<string, string>} outputs   step outputs, read from GITHUB_OUTPUT by their delimiters
 * @property {Record<string, string>} exported  variables exported through GITHUB_ENV
 * @property {string} summary
 * @property {number} durationMs                wall time from spawn to exit
 */

/**
 * @param {string} script  the file node runs, e.g. dist/index.js
 * @param {Record<string, string>} inputs
 * @param {{env?: Record<string, string>, nodeArgs?: string[], wrapper?: string[], node?: string}} [options]
 *   env: more variables (HTTPS_PROXY…); nodeArgs: flags for node; wrapper: a command to run node under;
 *   node: the node binary, else this process's (Node 24 under npm scripts: the devDependency `node`)
 * @returns {Promise<RunnerRun>}
 */
export async function runLikeRunner(script, inputs, options = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'runai-runner-'))
  const files = { GITHUB_OUTPUT: join(dir, 'output'), GITHUB_ENV: join(dir, 'env'), GITHUB_STEP_SUMMARY: join(dir, 'summary') }
  for (const file of Object.values(files)) writeFileSync(file, '')
  // SYSTEMROOT is needed by Node's networking on Windows; nothing else leaks in from this machine,
  // except a coverage directory: RUNAI_E2E_V8_COVERAGE (set by scripts/coverage.mjs for the action's
  // processes only) or NODE_V8_COVERAGE (as c8 sets it), so that the action's run is measured too.
  const coverageDir = process.env.RUNAI_E2E_V8_COVERAGE || process.env.NODE_V8_COVERAGE
  const env = {
    PATH: process.env.PATH ?? '',
    ...(process.env.SYSTEMROOT ? { SYSTEMROOT: process.env.SYSTEMROOT } : {}),
    ...(coverageDir ? { NODE_V8_COVERAGE: coverageDir } : {}),
    ...files,
    ...options.env
  }
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value
  const node = options.node ?? process.execPath
  const [command, ...args] = [...(options.wrapper ?? []), node, ...(options.nodeArgs ?? []), script]
  try {
    const started = process.hrtime.bigint()
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    const exitCode = await new Promise((resolve) => child.on('close', resolve))
    const durationMs = Number(process.hrtime.bigint() - started) / 1e6
    return {
      exitCode,
      stdout,
      stderr,
      outputs: parseFileCommands(readFileSync(files.GITHUB_OUTPUT, 'utf8')),
      exported: parseFileCommands(readFileSync(files.GITHUB_ENV, 'utf8')),
      summary: readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
      durationMs
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * Parses `name<<DELIMITER\nvalue\nDELIMITER` blocks, as the runner does.
 * @param {string} text
 * @returns {Record<string, string>}
 */
export function parseFileCommands(text) {
  /** @type {Record<string, string>} */
  const result = {}
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<=]+)<<(.+)$/.exec(lines[i] ?? '')
    if (match === null) {
      if ((lines[i] ?? '') !== '') throw new Error(`unexpected file command line: ${lines[i]}`)
      continue
    }
    const [, name = '', delimiter] = match
    const value = []
    for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i] ?? '')
    if (i >= lines.length) throw new Error(`no closing delimiter for ${name}`)
    result[name] = value.join('\n')
  }
  return result
}

/**
 * What the runner does with ::add-mask:: lines: the values masked so far, and the log as shown,
 * with mask and debug lines hidden and every masked value replaced by ***.
 * @param {string} log
 */
export function maskLikeRunner(log) {
  /** @type {string[]} */
  const masks = []
  /** @type {string[]} */
  const shown = []
  const hide = (text) => masks.reduce((out, secret) => out.split(secret).join('***'), text)
  for (const line of log.split('\n')) {
    const mask = /^::add-mask::(.*)$/.exec(line)
    if (mask) masks.push(mask[1] ?? '')
    else if (line !== '' && !line.startsWith('::debug::')) shown.push(hide(line))
  }
  return { masks, shown, hide }
}
