// `npm run demo`: runs the committed dist/index.js end to end, the way a GitHub runner would,
// against the stand-in Run:ai server on loopback, and prints what a workflow would get, with
// masked values shown as *** as the runner shows them. Needs no `npm ci`: plain Node only.
import { parseArgs } from 'node:util'
import { DEFAULT_CLIENT, GENERATIONS, generationOf, startStandIn } from '../test-server/runai-stand-in.mjs'
import { maskLikeRunner, runLikeRunner } from '../test-server/runner.mjs'

const USAGE = `Usage: npm run demo -- [--generation VERSION] [--api-version CHOICE] [--cluster NAME] [--project NAME] [--permission LIST] [--token-only]

Runs dist/index.js as a GitHub runner would, against the stand-in Run:ai control plane on loopback.
  --generation VERSION   the control plane to stand in for: 2.18 to 2.24, 3.0 or latest (default latest)
  --api-version CHOICE   the action's api-version input: auto, v2, v1 or v1-app-token (default auto)
  --cluster NAME         the cluster input (default gpu-east, one of the stand-in's clusters)
  --project NAME         the project input (default team-a)
  --permission LIST      the permission input (default "create trainings")
  --token-only           the token alone: no cluster, project or permission
  --help                 this text`

/** @typedef {{generation: string, 'api-version': string, cluster: string, project: string, permission: string, 'token-only': boolean, help: boolean}} DemoOptions */
/** @returns {DemoOptions} */
function options() {
  try {
    const { values } = parseArgs({
      options: {
        generation: { type: 'string', default: 'latest' },
        'api-version': { type: 'string', default: 'auto' },
        cluster: { type: 'string', default: 'gpu-east' },
        project: { type: 'string', default: 'team-a' },
        permission: { type: 'string', default: 'create trainings' },
        'token-only': { type: 'boolean', default: false },
        help: { type: 'boolean', default: false }
      }
    })
    return /** @type {DemoOptions} */ (values)
  } catch (error) {
    console.error(`${/** @type {Error} */ (error).message}\n\n${USAGE}`)
    process.exit(2)
  }
}

const values = options()
if (values.help) {
  console.log(USAGE)
  process.exit(0)
}
const generation = generationOf(values.generation)
if (generation === undefined) {
  console.error(
    `Unknown --generation ${values.generation}: use 2.18 to 2.24, 3.0 or latest (stand-ins: ${Object.keys(GENERATIONS).join(', ')}).`
  )
  process.exit(2)
}
const standIn = await startStandIn({ generation })
const inputs = {
  url: standIn.url,
  'client-id': DEFAULT_CLIENT.id,
  'client-secret': DEFAULT_CLIENT.secret,
  'api-version': values['api-version'],
  'job-summary': 'true',
  ...(values['token-only'] ? {} : { cluster: values.cluster, project: values.project, permission: values.permission })
}
console.log(`Stand-in Run:ai control plane ${values.generation} (stand-in generation ${generation}) at ${standIn.url}`)
console.log(`Running: node dist/index.js with ${Object.keys(inputs).join(', ')}\n`)
const run = await runLikeRunner('dist/index.js', inputs)
await standIn.close()

const { shown, hide } = maskLikeRunner(`${run.stdout}\n${run.stderr}`)
const list = (values) =>
  Object.entries(values)
    .map(([name, value]) => `  ${name}=${hide(value)}`)
    .join('\n') || '  (none)'
console.log('--- step log (as the runner shows it; debug lines hidden)')
for (const line of shown) console.log(`  ${line}`)
console.log(`--- exit code: ${run.exitCode}`)
console.log('--- step outputs (steps.<id>.outputs)')
console.log(list(run.outputs))
console.log('--- environment for later steps')
console.log(list(run.exported))
console.log('--- job summary')
console.log(`  ${hide(run.summary.trim()) || '(none)'}`)
console.log(
  `--- the stand-in saw ${standIn.requests.length} request(s): ${standIn.requests.map((r) => `${r.method} ${r.path}`).join(', ')}`
)
process.exitCode = run.exitCode ?? 1
