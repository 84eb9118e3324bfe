// The inputs the runner passes to the action: every input of action.yml, at its default unless the
// workflow gives it. The bench's jobs run "with default inputs" this way, as the e2e tests do
// (__tests__/e2e/harness.ts), not by leaving the inputs out.
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'

const manifest = parse(readFileSync('action.yml', 'utf8'))

/** @type {Record<string, string>} */
export const DEFAULT_INPUTS = Object.fromEntries(Object.entries(manifest.inputs).map(([name, spec]) => [name, spec.default ?? '']))
