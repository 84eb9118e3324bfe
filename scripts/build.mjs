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
 * @actions/core's modules have no import-time side effects, but its package.json does not say so
 * (actions/toolkit#1436). Without that, the bundle keeps every module core imports, among them the
 * OIDC client and, behind it, @actions/http-client with all of undici and tunnel: about 800 KB
 * (60 KB instead of 860 KB) that every start of the action would parse and run without ever
 * calling it (BENCHMARKS.md). esbuild's documented way to declare it from the consuming side is an
 * onResolve result with `sideEffects: false`, for @actions/core and the files it imports from its
 * own package: those that nothing uses are then left out. __tests__/bundle.test.ts guards the result.
 */
const ACTIONS_CORE_FILE = /[\\/]node_modules[\\/]@actions[\\/]core[\\/]/
const actionsCoreSideEffectFree = {
  name: 'actions-core-side-effect-free',
  setup(build) {
    build.onResolve({ filter: /^@actions\/core$|^\.\.?\// }, async (args) => {
      const corePackage = args.path === '@actions/core' || ACTIONS_CORE_FILE.test(args.importer)
      if (!corePackage || args.pluginData === 'resolved once') return undefined
      const resolved = await build.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: 'resolved once'
      })
      if (resolved.errors.length > 0) return { errors: resolved.errors }
      return { path: resolved.path, namespace: resolved.namespace, sideEffects: false }
    })
  }
}

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

/**
 * @param {string} [outDir]  relative to the repository (dist/ unless told)
 * @param {{entryPoint?: string, minify?: boolean, commonJs?: boolean}} [options]  for the benchmark's
 *   variants; commonJs: give the CommonJS modules in the bundle the require() an ES module lacks
 *   (the action's bundle has none; the benchmark's every-export variant keeps tunnel and undici)
 */
export async function build(outDir = 'dist', { entryPoint = 'src/index.ts', minify = false, commonJs = false } = {}) {
  // Written over in place (not emptied first), so that a test running the bundle meanwhile never
  // finds it missing. The folder's depth must be dist/'s: the map names sources relative to it.
  const out = resolve(root, outDir)
  mkdirSync(out, { recursive: true })
  const result = await esbuild({
    absWorkingDir: root,
    entryPoints: [entryPoint],
    minify,
    ...(commonJs ? { banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" } } : {}),
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
    logLevel: 'warning',
    plugins: [actionsCoreSideEffectFree]
  })
  writeFileSync(join(out, 'licenses.txt'), licenses(result.metafile))
  writeFileSync(join(out, 'package.json'), `${JSON.stringify({ type: 'module' }, null, 2)}\n`)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await build(process.argv[2])
