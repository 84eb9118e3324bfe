import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { ACTION_VERSION, Input, InputDefault, Output } from '../src/constants.js'

interface Manifest {
  runs: { using: string; main: string }
  inputs: Record<string, { description: string; required?: boolean; default?: string }>
  outputs: Record<string, { description: string }>
}
const manifest = parse(readFileSync('action.yml', 'utf8')) as Manifest

describe('action.yml', () => {
  it('runs dist/index.js on node24', () => {
    expect(manifest.runs).toEqual({ using: 'node24', main: 'dist/index.js' })
  })

  it('declares exactly the inputs the code reads, with the same defaults', () => {
    expect(Object.keys(manifest.inputs).sort()).toEqual(Object.values(Input).sort())
    for (const [name, spec] of Object.entries(manifest.inputs)) {
      expect([name, spec.default ?? '']).toEqual([name, InputDefault[name as keyof typeof InputDefault] ?? ''])
      expect(spec.description.length).toBeGreaterThan(10)
    }
    expect(manifest.inputs.url?.required).toBe(true)
  })

  it('declares exactly the outputs the code sets', () => {
    expect(Object.keys(manifest.outputs).sort()).toEqual(Object.values(Output).sort())
  })

  it('sends the package version in its User-Agent', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }
    expect(ACTION_VERSION).toBe(pkg.version)
  })
})
