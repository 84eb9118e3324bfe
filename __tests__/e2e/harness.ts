import { afterEach, expect } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { DEFAULT_CLIENT, startStandIn } from '../../test-server/runai-stand-in.mjs'
import { runLikeRunner, type RunnerRun } from '../../test-server/runner.mjs'

/** Defaults of action.yml: the runner passes every input, defaulted ones included. */
const manifest = parse(readFileSync('action.yml', 'utf8')) as { inputs: Record<string, { default?: string }> }
const DEFAULT_INPUTS = Object.fromEntries(Object.entries(manifest.inputs).map(([name, spec]) => [name, spec.default ?? '']))

export type ActionRun = RunnerRun

/** Runs `node dist/index.js` as the runner does, with every input of action.yml at its default unless given. */
export function runAction(inputs: Record<string, string>, extraEnv: Record<string, string> = {}): Promise<ActionRun> {
  return runLikeRunner('dist/index.js', { ...DEFAULT_INPUTS, ...inputs }, { env: extraEnv })
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

/** A run that got a token from `server` and handed it on, with nothing leaked. */
export function expectToken(run: ActionRun, server: StandIn, secrets: string[] = [DEFAULT_CLIENT.secret]) {
  expect(errorOf(run)).toBe('')
  expect(run.exitCode).toBe(0)
  expect(server.tokensIssued).toContain(run.outputs.token)
  expect(leaksOf(run, [...secrets, ...server.tokensIssued])).toEqual([])
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

export type StandIn = Awaited<ReturnType<typeof startStandIn>>

/**
 * Servers that a test starts and that are closed after it, whatever its outcome. Call once at the
 * top of a test file.
 */
export function serversClosedAfterEach() {
  const open: { close(): Promise<void> }[] = []
  afterEach(async () => {
    await Promise.all(open.splice(0).map((server) => server.close()))
  })
  return {
    track<T extends { close(): Promise<void> }>(server: T): T {
      open.push(server)
      return server
    },
    async standIn(options: Parameters<typeof startStandIn>[0] = {}): Promise<StandIn> {
      const server = await startStandIn(options)
      open.push(server)
      return server
    }
  }
}
