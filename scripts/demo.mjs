// `npm run demo`: runs the committed dist/index.js end to end, the way a GitHub runner would,
// against the stand-in Run:ai server on loopback, and prints what a workflow would get, with
// masked values shown as *** as the runner shows them. Needs no `npm ci`: plain Node only.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { DEFAULT_CLIENT, startStandIn } from '../test-server/runai-stand-in.mjs'

const { values } = parseArgs({
  options: { generation: { type: 'string', default: 'latest' }, 'api-version': { type: 'string', default: 'auto' } }
})
const standIn = await startStandIn({ generation: values.generation })
const dir = mkdtempSync(join(tmpdir(), 'runai-demo-'))
const files = { GITHUB_OUTPUT: join(dir, 'output'), GITHUB_ENV: join(dir, 'env'), GITHUB_STEP_SUMMARY: join(dir, 'summary') }
for (const file of Object.values(files)) writeFileSync(file, '')

const inputs = {
  url: standIn.url,
  'client-id': DEFAULT_CLIENT.id,
  'client-secret': DEFAULT_CLIENT.secret,
  'api-version': values['api-version'],
  'job-summary': 'true'
}
const env = { PATH: process.env.PATH ?? '', ...files }
for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value

console.log(`Stand-in Run:ai control plane (generation ${values.generation}) at ${standIn.url}`)
console.log(`Running: node dist/index.js with ${Object.keys(inputs).join(', ')}\n`)
const child = spawn(process.execPath, ['dist/index.js'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
let log = ''
child.stdout.on('data', (chunk) => (log += chunk))
child.stderr.on('data', (chunk) => (log += chunk))
const exitCode = await new Promise((resolve) => child.on('close', resolve))

// What the runner does with ::add-mask:: lines: hide the line itself and every later occurrence.
const masks = []
const shown = []
for (const line of log.split('\n')) {
  const mask = /^::add-mask::(.*)$/.exec(line)
  if (mask) masks.push(mask[1])
  // The runner hides debug lines unless debug logging is on.
  else if (line !== '' && !line.startsWith('::debug::')) shown.push(masks.reduce((text, secret) => text.split(secret).join('***'), line))
}
const hide = (text) => masks.reduce((out, secret) => out.split(secret).join('***'), text)
const fileCommands = (path) =>
  [...readFileSync(path, 'utf8').matchAll(/^(.+?)<<(.+)\n([\s\S]*?)\n\2$/gm)].map(([, name, , value]) => `  ${name}=${hide(value)}`)

console.log('--- step log (as the runner shows it)')
for (const line of shown) console.log(`  ${line}`)
console.log(`--- exit code: ${exitCode}`)
console.log('--- step outputs (steps.<id>.outputs)')
console.log(fileCommands(files.GITHUB_OUTPUT).join('\n') || '  (none)')
console.log('--- environment for later steps')
console.log(fileCommands(files.GITHUB_ENV).join('\n') || '  (none)')
console.log('--- job summary')
console.log(`  ${readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8').trim() || '(none)'}`)
console.log(
  `--- the stand-in saw ${standIn.requests.length} request(s): ${standIn.requests.map((r) => `${r.method} ${r.path}`).join(', ')}`
)

await standIn.close()
rmSync(dir, { recursive: true, force: true })
process.exitCode = exitCode
