// For the e2e workflow: runs dist/index.js against a running stand-in and checks, without
// printing them, that the secret and the token show up only in their ::add-mask:: lines and that
// each mask line comes before any other line. Usage: node scripts/assert-masked.mjs URL [API_VERSION]
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const [url, apiVersion = 'auto'] = process.argv.slice(2)
const secret = process.env.STAND_IN_CLIENT_SECRET ?? 'stand-in-secret-DO-NOT-USE'
const dir = mkdtempSync(join(tmpdir(), 'assert-masked-'))
const outputFile = join(dir, 'output')
const envFile = join(dir, 'env')
writeFileSync(outputFile, '')
writeFileSync(envFile, '')
const result = spawnSync(process.execPath, ['dist/index.js'], {
  encoding: 'utf8',
  env: {
    PATH: process.env.PATH,
    GITHUB_OUTPUT: outputFile,
    GITHUB_ENV: envFile,
    'INPUT_URL': url,
    'INPUT_CLIENT-ID': process.env.STAND_IN_CLIENT_ID ?? 'stand-in-client',
    'INPUT_CLIENT-SECRET': secret,
    'INPUT_API-VERSION': apiVersion
  }
})
const token = /^token<<(.+)\n(.*)\n\1$/m.exec(readFileSync(outputFile, 'utf8'))?.[2] ?? ''
const lines = `${result.stdout}\n${result.stderr}`.split('\n')
const problems = []
if (result.status !== 0) problems.push(`the action exited with ${result.status}`)
if (token === '') problems.push('no token output')
for (const [name, value] of [
  ['secret', secret],
  ['token', token]
]) {
  if (value === '') continue
  const maskAt = lines.indexOf(`::add-mask::${value}`)
  if (maskAt === -1) problems.push(`no ::add-mask:: line for the ${name}`)
  lines.forEach((line, i) => {
    if (line.includes(value) && i !== maskAt) problems.push(`line ${i + 1} shows the ${name} outside its mask line`)
  })
}
if (problems.length > 0) {
  console.error(`::error::${problems.join('; ')}`)
  process.exit(1)
}
console.log(`ok: the secret and the token appear only in their ::add-mask:: lines (${lines.length} lines checked)`)
