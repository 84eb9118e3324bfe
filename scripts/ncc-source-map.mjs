// Preloaded by scripts/build.mjs into the ncc process (`node --import`). ncc asks webpack for
// `cheap-module-source-map`: lines only, no columns, from which a coverage range inside a line
// cannot be mapped back (v8-to-istanbul then drops the range, and every line counts as covered).
// This swaps in `source-map` (the same bundle, with columns in the map) as ncc reads its own
// compiled code; nothing on disk changes. It fails loudly if a new ncc no longer has the text.
import fs from 'node:fs'

const CHEAP = 'devtool:sourceMap?"cheap-module-source-map":false'
const FULL = 'devtool:sourceMap?"source-map":false'
const readFileSync = fs.readFileSync
fs.readFileSync = function (path, ...rest) {
  const content = readFileSync.call(this, path, ...rest)
  if (typeof path === 'string' && /[\\/]ncc[\\/]dist[\\/]ncc[\\/]index\.js\.cache\.js$/.test(path)) {
    const text = String(content)
    if (!text.includes(CHEAP)) throw new Error(`scripts/ncc-source-map.mjs: ${path} no longer contains ${CHEAP}; update it.`)
    return text.replace(CHEAP, FULL)
  }
  return content
}
