// Bundles src/index.ts into one self-contained file with @vercel/ncc: `node scripts/build.mjs [outDir]`.
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export function build(outDir) {
  execFileSync(
    process.execPath,
    ['node_modules/@vercel/ncc/dist/ncc/cli.js', 'build', 'src/index.ts', '-o', outDir, '--license', 'licenses.txt', '--quiet'],
    {
      stdio: 'inherit'
    }
  )
}

if (process.argv[1] === fileURLToPath(import.meta.url)) build(process.argv[2] ?? 'dist')
