// `npm run check-dist`: fails when the committed dist/ is not what the sources build. dist/index.js
// is what users run (action.yml); the tests run a fresh bundle (.build/), so only this says dist/
// was not rebuilt.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { build } from './build.mjs'

// The fresh build goes where the tests' goes (.build/, beside dist/ so that the source maps'
// relative paths are the same): it is the same bundle of the same sources.
const fresh = '.build'
await build(fresh)
const names = new Set([...readdirSync('dist'), ...readdirSync(fresh)])
const differing = [...names].filter((name) => {
  try {
    return !readFileSync(join('dist', name)).equals(readFileSync(join(fresh, name)))
  } catch {
    return true
  }
})
if (differing.length > 0) {
  console.error(`check-dist: FAILED: dist/ does not match a fresh build (${differing.join(', ')}). Run \`npm run build\` and commit dist/.`)
  process.exitCode = 1
} else console.log(`check-dist: dist/ matches a fresh build of src/ (${names.size} files).`)
