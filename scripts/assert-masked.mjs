// For the e2e workflow: runs dist/index.js (what `uses: ./` runs) against a running stand-in and
// checks, without printing them, that neither the secret nor the token shows anywhere but in its
// own ::add-mask:: line: the leak check of every test, the runner emulation's findLeaks
// (test-server/runner-log.mjs). Usage: node scripts/assert-masked.mjs URL [API_VERSION]
import { findLeaks, readRunnerLog } from '../test-server/runner-log.mjs'
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
const problems = []
if (run.exitCode !== 0) problems.push(`the action exited with ${run.exitCode}`)
if (token === '') problems.push('no token output')
if (!run.stdout.startsWith(`::add-mask::${secret}\n`)) problems.push("the first line is not the secret's ::add-mask::")
// Every value the action masked may show in its own ::add-mask:: line (a v2 answer's other
// tokens are masked too, and JWTs share their first characters).
const masked = readRunnerLog(run.stdout).maskCommands.filter((value) => value !== secret && value !== token)
problems.push(...findLeaks(run.stdout, [secret, token, ...masked], { stderr: run.stderr }))
if (problems.length > 0) {
  console.error(`::error::${problems.join('; ')}`)
  process.exit(1)
}
console.log("ok: the secret and the token appear only in their ::add-mask:: lines, the secret's first")
