import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'

/** Defaults of action.yml: the runner passes every input, defaulted ones included. */
const manifest = parse(readFileSync('action.yml', 'utf8')) as { inputs: Record<string, { default?: string }> }
const DEFAULT_INPUTS = Object.fromEntries(Object.entries(manifest.inputs).map(([name, spec]) => [name, spec.default ?? '']))

export interface ActionRun {
  exitCode: number | null
  stdout: string
  stderr: string
  /** Step outputs and exported variables, read from the files by their delimiters. */
  outputs: Record<string, string>
  exported: Record<string, string>
  summary: string
  durationMs: number
}

/** Runs `node dist/index.js` as the runner does: INPUT_* with hyphens kept, file commands, a clean environment. */
export async function runAction(
  inputs: Record<string, string>,
  extraEnv: Record<string, string> = {},
  entry = 'dist/index.js'
): Promise<ActionRun> {
  const dir = mkdtempSync(join(tmpdir(), 'runai-e2e-'))
  const files = { GITHUB_OUTPUT: join(dir, 'output'), GITHUB_ENV: join(dir, 'env'), GITHUB_STEP_SUMMARY: join(dir, 'summary') }
  for (const file of Object.values(files)) writeFileSync(file, '')
  // A clean environment, as on a runner: no proxy or CA settings leak in from this machine.
  // SYSTEMROOT is needed by Node's networking on Windows.
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    ...(process.env.SYSTEMROOT ? { SYSTEMROOT: process.env.SYSTEMROOT } : {}),
    ...files,
    ...extraEnv
  }
  for (const [name, value] of Object.entries({ ...DEFAULT_INPUTS, ...inputs })) env[`INPUT_${name.toUpperCase()}`] = value
  const started = Date.now()
  try {
    const child = spawn(process.execPath, [entry], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const exitCode = await new Promise<number | null>((resolve) => child.on('close', resolve))
    return {
      exitCode,
      stdout,
      stderr,
      outputs: parseFileCommands(readFileSync(files.GITHUB_OUTPUT, 'utf8')),
      exported: parseFileCommands(readFileSync(files.GITHUB_ENV, 'utf8')),
      summary: readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
      durationMs: Date.now() - started
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Parses `name<<DELIMITER\nvalue\nDELIMITER` blocks, as the runner does. */
export function parseFileCommands(text: string): Record<string, string> {
  const result: Record<string, string> = {}
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<=]+)<<(.+)$/.exec(lines[i] ?? '')
    if (match === null) {
      if ((lines[i] ?? '') !== '') throw new Error(`unexpected file command line: ${lines[i]}`)
      continue
    }
    const [, name = '', delimiter] = match
    const value: string[] = []
    for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i] ?? '')
    if (i >= lines.length) throw new Error(`no closing delimiter for ${name}`)
    result[name] = value.join('\n')
  }
  return result
}

/**
 * The leak rules of every run: a secret may appear in stdout or stderr only as its own
 * `::add-mask::` line, and that line must come before any other line.
 */
export function leaksOf(run: ActionRun, secrets: string[]): string[] {
  const problems: string[] = []
  const lines = `${run.stdout}\n${run.stderr}`.split('\n')
  for (const secret of secrets.filter((s) => s !== '')) {
    const label = `${secret.slice(0, 6)}…`
    lines.forEach((line, index) => {
      if (line.includes(secret) && line !== `::add-mask::${secret}`)
        problems.push(`line ${index + 1} shows ${label}: ${line.replace(secret, '<SECRET>')}`)
    })
  }
  return problems
}

/** Index of the `::add-mask::` line for a value in stdout, or -1. */
export function maskLineIndex(run: ActionRun, value: string): number {
  return run.stdout.split('\n').indexOf(`::add-mask::${value}`)
}

/** The `::error::` text of a failed run. */
export function errorOf(run: ActionRun): string {
  const line = run.stdout.split('\n').find((l) => l.startsWith('::error::')) ?? ''
  return line.slice('::error::'.length).replace(/%0A/g, '\n').replace(/%0D/g, '\r').replace(/%25/g, '%')
}
