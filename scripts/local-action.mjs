// `npm run local-action`: runs src/main.ts (not dist) with @github/local-action, reading inputs
// from .env (or .env.example when there is no .env), against the stand-in on port 4010.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startStandIn } from '../test-server/runai-stand-in.mjs'

const envFile = existsSync('.env') ? '.env' : '.env.example'
const standIn = await startStandIn({ port: 4010 })
console.log(`Stand-in Run:ai control plane at ${standIn.url}; inputs from ${envFile}`)
// The runner's files, as a runner gives them: the action refuses to run without them rather than
// print the token as a command.
const runnerDir = mkdtempSync(join(tmpdir(), 'runai-local-action-'))
const runnerFiles = Object.fromEntries(
  ['GITHUB_OUTPUT', 'GITHUB_ENV', 'GITHUB_STEP_SUMMARY'].map((name) => [name, join(runnerDir, name.toLowerCase())])
)
for (const file of Object.values(runnerFiles)) writeFileSync(file, '')
const child = spawn(process.execPath, ['node_modules/@github/local-action/bin/local-action.js', 'run', '.', 'src/main.ts', envFile], {
  stdio: 'inherit',
  env: { ...process.env, ...runnerFiles }
})
const exitCode = await new Promise((resolve) => child.on('close', resolve))
await standIn.close()
rmSync(runnerDir, { recursive: true, force: true })
process.exitCode = exitCode ?? 1
