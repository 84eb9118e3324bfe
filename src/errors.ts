/**
 * An error whose message is written for the user of the workflow: it says what failed and what
 * to check. Anything else that reaches main.ts is a bug and is reported as such.
 */
export class ActionError extends Error {
  override name = 'ActionError'
}

/** A bad input, found before any request is sent. */
export class InputError extends ActionError {
  override name = 'InputError'
}

/**
 * Where the action's own code is: dist/ for the bundle, src/ under the tests. Cut from the
 * module's URL by hand: the bundler takes `new URL('.', import.meta.url)` for a file to copy.
 */
const OWN_CODE = new URL(import.meta.url.slice(0, import.meta.url.lastIndexOf('/') + 1))
const MAX_FRAMES = 10

/**
 * The frames of an error's stack that are in the action's own code, at most {@link MAX_FRAMES}.
 * Only what follows the message counts (a message may hold a server's text over many lines, some
 * shaped like frames), and of that only frames naming that code: Node's own say nothing the user
 * can act on.
 */
export function ownStackFrames(error: Error, ownCode: URL = OWN_CODE): string[] {
  // How V8 heads a stack: as Error.prototype.toString writes the error.
  const header = error.message === '' ? error.name : error.name === '' ? error.message : `${error.name}: ${error.message}`
  const stack = error.stack ?? ''
  if (!stack.startsWith(header)) return []
  const places = [ownCode.href, ownCode.pathname]
  return stack
    .slice(header.length)
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('at ') && places.some((place) => line.includes(place)))
    .slice(0, MAX_FRAMES)
}
