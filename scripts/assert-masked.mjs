// For the e2e workflow: runs dist/index.js against a running stand-in and checks, without
// printing them, that the secret and the token show up only in their ::add-mask:: lines and that
// each mask line comes before any other line. Usage: node scripts/assert-masked.mjs URL [API_VERSION]
import { runLikeRunner } from '../test-server/runner.mjs'

const [url, apiVersion = 'auto'] = process.argv.slice(2)
const secret = process.env.STAND_IN_CLIENT_SECRET ?? 'demo-secret-DO-NOT-USE'
const run = await runLikeRunner('dist/index.js', {
  url: url ?? '',
  'client-id': process.env.STAND_IN_CLIENT_ID ?? 'stand-in-client',
  'client-secret': secret,
  'api-version': apiVersion
})
const token = run.outputs.token ?? ''
const lines = `${run.stdout}\n${run.stderr}`.split('\n')
const problems = []
if (run.exitCode !== 0) problems.push(`the action exited with ${run.exitCode}`)
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
