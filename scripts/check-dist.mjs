// Fails when the committed dist/ is not what the sources build: dist/index.js is what users run.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from './build.mjs'

const fresh = mkdtempSync(join(tmpdir(), 'runai-dist-'))
try {
  build(fresh)
  const names = new Set([...readdirSync('dist'), ...readdirSync(fresh)])
  const differing = [...names].filter((name) => {
    try {
      return !readFileSync(join('dist', name)).equals(readFileSync(join(fresh, name)))
    } catch {
      return true
    }
  })
  if (differing.length > 0) {
    console.error(`dist/ does not match a fresh build (${differing.join(', ')}). Run \`npm run build\` and commit dist/.`)
    process.exit(1)
  }
  console.log(`dist/ matches a fresh build (${names.size} files).`)
} finally {
  rmSync(fresh, { recursive: true, force: true })
}
