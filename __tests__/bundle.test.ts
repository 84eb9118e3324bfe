import { expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'

const bundle = readFileSync('dist/index.js', 'utf8')

// Every start of the action parses and runs the whole bundle (BENCHMARKS.md). With @actions/core's
// OIDC client kept, undici alone added about 1 MB; this keeps that from creeping back.
it('stays within its size budget', () => {
  expect(Buffer.byteLength(bundle)).toBeLessThan(120 * 1024)
})

it('carries no module the action never calls', () => {
  const modules = [...bundle.matchAll(/\/\/ CONCATENATED MODULE: \.\/node_modules\/((?:@[^/]+\/)?[^/]+)/g)].map((m) => m[1])
  expect([...new Set(modules)].sort()).toEqual(['@actions/core', '@actions/http-client'])
  expect(bundle).not.toMatch(/node_modules\/(undici|tunnel|@actions\/exec|@actions\/io)\//)
  expect(bundle).not.toContain('class OidcClient')
})
