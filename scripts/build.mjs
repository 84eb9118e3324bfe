// Bundles src/index.ts into one self-contained file with @vercel/ncc: `node scripts/build.mjs [outDir]`.
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join, posix } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * @actions/core's modules have no import-time side effects, but its package.json does not say so
 * (actions/toolkit#1436). Webpack then keeps every module core imports, among them the OIDC client
 * and, behind it, @actions/http-client with all of undici: about 1 MB that every start of the
 * action would parse and run without ever calling it. Declaring the package side-effect free
 * before bundling lets ncc drop what the action does not use. Idempotent, and a no-op once a
 * release of @actions/core declares it itself. BENCHMARKS.md has the numbers.
 */
export function declareSideEffectFree(packageName) {
  const path = fileURLToPath(new URL(`../node_modules/${packageName}/package.json`, import.meta.url))
  const manifest = JSON.parse(readFileSync(path, 'utf8'))
  if (manifest.sideEffects === undefined) {
    manifest.sideEffects = false
    writeFileSync(path, `${JSON.stringify(manifest, null, 2)}\n`)
  }
}

/**
 * dist/index.js.map maps the bundle back to src/*.ts, so that the coverage of the end-to-end runs
 * (scripts/coverage.mjs) is counted on the sources: `--source-map`, composed with the TypeScript
 * source maps that tsconfig.json's `sourceMap` asks for, with column mappings (see
 * ncc-source-map.mjs), and sources written `../src/x.ts` (ncc writes `.././src/x.ts`, which
 * v8-to-istanbul fails to match). `--no-source-map-register` keeps the bundle free of a
 * source-map-support loader: a user's run neither reads the map nor pays for it.
 */
export function build(outDir) {
  declareSideEffectFree('@actions/core')
  execFileSync(
    process.execPath,
    [
      '--import',
      new URL('ncc-source-map.mjs', import.meta.url).href,
      'node_modules/@vercel/ncc/dist/ncc/cli.js',
      'build',
      'src/index.ts',
      '-o',
      outDir,
      '--license',
      'licenses.txt',
      '--source-map',
      '--no-source-map-register',
      '--quiet'
    ],
    { stdio: 'inherit' }
  )
  const mapPath = join(outDir, 'index.js.map')
  const map = JSON.parse(readFileSync(mapPath, 'utf8'))
  map.sources = map.sources.map((source) => posix.normalize(source.replaceAll('\\', '/')))
  writeFileSync(mapPath, `${JSON.stringify(map)}\n`)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) build(process.argv[2] ?? 'dist')
