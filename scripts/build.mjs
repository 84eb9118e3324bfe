// Bundles src/index.ts into one self-contained ES module with esbuild: `node scripts/build.mjs [outDir]`
// (default dist/). Writes index.js, index.js.map (with columns, sources `../src/*.ts`, so that c8
// maps the coverage of the e2e runs back to the sources), licenses.txt and package.json. Reads
// node_modules, never writes it.
import { build as esbuild } from 'esbuild'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))

/**
 * What is left out: @actions/core's index imports its OIDC client and, behind it,
 * @actions/http-client with all of undici (about 1 MB that every start of the action would parse
 * and run without calling it, BENCHMARKS.md). esbuild's tree shaking drops every declaration the
 * action does not use, and with it those modules, without the `"sideEffects": false` that webpack
 * (in ncc) needed and @actions/core does not declare (actions/toolkit#1436).
 * __tests__/bundle.test.ts guards the size and the list of packages.
 */
/**
 * licenses.txt: the name, version and license text of every package in the bundle. esbuild has no
 * license report (its legal-comments option only moves comments), so this reads the package of
 * each input of esbuild's metafile.
 */
function licenses(metafile) {
  const packages = new Map()
  for (const input of Object.keys(metafile.inputs)) {
    const match = /^(.*node_modules\/((?:@[^/]+\/)?[^/]+))\//.exec(input)
    if (match && !packages.has(match[2])) packages.set(match[2], match[1])
  }
  return [...packages.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, dir]) => {
      const manifest = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'))
      const file = readdirSync(join(root, dir)).find((name) => /^licen[cs]e(\.|$)/i.test(name))
      const text = file === undefined ? '(no license file in the package)' : readFileSync(join(root, dir, file), 'utf8').trim()
      return `${name} ${manifest.version}\n${manifest.license}\n${text}\n`
    })
    .join('\n')
}

export async function build(outDir = 'dist') {
  // Written over in place (not emptied first), so that a test running the bundle meanwhile never
  // finds it missing. The folder's depth must be dist/'s: the map names sources relative to it.
  const out = resolve(root, outDir)
  mkdirSync(out, { recursive: true })
  const result = await esbuild({
    absWorkingDir: root,
    entryPoints: ['src/index.ts'],
    outfile: join(out, 'index.js'),
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    sourcemap: 'linked',
    // The map names sources relative to the bundle's folder (../src/x.ts); no contents, so the
    // map stays small and points at the files themselves.
    sourcesContent: false,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning'
  })
  writeFileSync(join(out, 'licenses.txt'), licenses(result.metafile))
  writeFileSync(join(out, 'package.json'), `${JSON.stringify({ type: 'module' }, null, 2)}\n`)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await build(process.argv[2])
