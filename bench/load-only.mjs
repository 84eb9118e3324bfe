// Measures, inside one process, how long Node takes to load a bundle: the import of the file,
// with no inputs set, so the action stops at its first input check. Prints milliseconds.
import { performance } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'

const started = performance.now()
await import(pathToFileURL(process.argv[2]).href)
const loaded = performance.now() - started
process.exitCode = 0 // the action set 1 for the missing input; that is expected here
process.stderr.write(`${loaded.toFixed(3)}\n`)
