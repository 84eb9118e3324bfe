// `npm run local-action`: runs src/main.ts (not dist) with @github/local-action, reading inputs
// from .env (or .env.example when there is no .env), against the stand-in on port 4010.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { startStandIn } from '../test-server/runai-stand-in.mjs'

const envFile = existsSync('.env') ? '.env' : '.env.example'
const standIn = await startStandIn({ port: 4010 })
console.log(`Stand-in Run:ai control plane at ${standIn.url}; inputs from ${envFile}`)
const child = spawn(process.execPath, ['node_modules/@github/local-action/bin/local-action.js', 'run', '.', 'src/main.ts', envFile], {
  stdio: 'inherit'
})
const exitCode = await new Promise((resolve) => child.on('close', resolve))
await standIn.close()
process.exitCode = exitCode ?? 1
