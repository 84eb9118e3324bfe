// jest's globalSetup: bundles the current src/ into .build/ (scripts/build.mjs, well under a
// second), so that every e2e test, run alone or in `npm test`, starts what was just changed.
// Also says which Node runs the tests and the action's processes.
import { build } from './build.mjs'

export default async function globalSetup() {
  await build('.build')
  console.log(
    `\nTests and the action's processes run on Node ${process.version} (${process.execPath}); the action: .build/index.js, bundled from src/ just now.`
  )
}
