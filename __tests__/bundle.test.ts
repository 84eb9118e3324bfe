import { expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { BUNDLE } from './e2e/harness.js'

// The bundle of the current sources (jest's globalSetup builds it); the committed dist/ equals it
// or `npm run check-dist` fails.
const bundle = readFileSync(BUNDLE, 'utf8')

// Every start of the action parses and runs the whole bundle (BENCHMARKS.md). With @actions/core's
// OIDC client kept, undici alone added about 1 MB; this keeps that from creeping back.
it('stays within its size budget', () => {
  expect(Buffer.byteLength(bundle)).toBeLessThan(120 * 1024)
})

it('carries no module the action never calls', () => {
  // esbuild heads the code of each input file with a `// path` comment.
  const packages = [...bundle.matchAll(/^\/\/ node_modules\/((?:@[^/]+\/)?[^/]+)\//gm)].map((m) => m[1])
  expect([...new Set(packages)].sort()).toEqual(['@actions/core', '@actions/http-client'])
  expect(bundle).not.toMatch(/node_modules\/(undici|tunnel|@actions\/exec|@actions\/io)\//)
  expect(bundle).not.toContain('class OidcClient')
})
