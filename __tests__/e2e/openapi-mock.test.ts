import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { leaksOf, maskLineIndex, runAction } from './harness.js'

// Conformance: the action against Prism, a mock server this project did not write, serving the
// OpenAPI excerpts of NVIDIA's own specification for each control-plane generation. Prism answers
// with the spec's examples (or values generated from its schemas) and validates our requests
// against the spec: a request that does not match gets 400/422, not a token.
const SECRET = 'conformance-secret-Qm7'
const credentials = { 'client-id': 'conformance-client', 'client-secret': SECRET }

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

async function startPrism(spec: string): Promise<{ url: string; process: ChildProcess }> {
  const port = await freePort()
  const child = spawn(
    process.execPath,
    ['node_modules/@stoplight/prism-cli/dist/index.js', 'mock', '-h', '127.0.0.1', '-p', String(port), `test-server/openapi/${spec}`],
    {
      stdio: ['ignore', 'pipe', 'pipe']
    }
  )
  let log = ''
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      log += chunk.toString()
      if (/Prism is listening/.test(log)) resolve()
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.on('exit', (code) => reject(new Error(`prism exited with ${code}: ${log}`)))
  })
  await ready
  return { url: `http://127.0.0.1:${port}`, process: child }
}

describe.each([
  ['tokens-latest.json', 'v2'],
  ['tokens-2.20.json', 'v1'],
  ['tokens-2.18.json', 'v1-app-token']
] as const)('against Prism serving %s', (spec, expected) => {
  let prism: Awaited<ReturnType<typeof startPrism>>
  beforeAll(async () => {
    prism = await startPrism(spec)
  }, 60_000)
  afterAll(() => {
    prism.process.kill()
  })

  it.each(['auto', expected])(`api-version %s gets a token from ${expected}`, async (apiVersion) => {
    const run = await runAction({ url: prism.url, ...credentials, 'api-version': apiVersion })
    expect(run.stdout.split('\n').find((l) => l.startsWith('::error::')) ?? '').toBe('')
    expect(run.exitCode).toBe(0)
    expect(run.outputs['api-version']).toBe(expected)
    const token = run.outputs.token ?? ''
    expect(token).not.toBe('')
    expect(run.exported.RUNAI_TOKEN).toBe(token)
    expect(maskLineIndex(run, SECRET)).toBe(0)
    expect(maskLineIndex(run, token)).toBeGreaterThan(0)
    expect(leaksOf(run, [SECRET, token])).toEqual([])
  })
})
