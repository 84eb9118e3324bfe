import { afterEach, expect } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { DEFAULT_CLIENT, startStandIn } from '../../test-server/runai-stand-in.mjs'
import { findLeaks } from '../../test-server/runner-log.mjs'
import { runLikeRunner, type RunnerRun } from '../../test-server/runner.mjs'

/**
 * The action the e2e tests start: the bundle of the current src/, made by jest's globalSetup
 * (scripts/jest-global-setup.mjs) before the tests run. The committed dist/ is checked against a
 * fresh build on its own (`npm run check-dist`).
 */
export const BUNDLE = '.build/index.js'

/** Defaults of action.yml: the runner passes every input, defaulted ones included. */
const manifest = parse(readFileSync('action.yml', 'utf8')) as { inputs: Record<string, { default?: string }> }
const DEFAULT_INPUTS = Object.fromEntries(Object.entries(manifest.inputs).map(([name, spec]) => [name, spec.default ?? '']))

export type ActionRun = RunnerRun

/** Runs `node .build/index.js` as the runner does, with every input of action.yml at its default unless given. */
export function runAction(inputs: Record<string, string>, extraEnv: Record<string, string> = {}): Promise<ActionRun> {
  return runLikeRunner(BUNDLE, { ...DEFAULT_INPUTS, ...inputs }, { env: extraEnv })
}

/**
 * Where a run shows any of `secrets` (or a long enough piece of one) outside its own
 * `::add-mask::` line, in stdout or stderr: the runner emulation's findLeaks, the one leak check
 * of every test (test-server/runner-log.mjs).
 */
export function leaksOf(run: ActionRun, secrets: string[]): string[] {
  return findLeaks(run.stdout, secrets, { stderr: run.stderr })
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
