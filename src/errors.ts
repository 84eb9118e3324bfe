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
 * The frames of a stack that are in the action's own code, at most {@link MAX_FRAMES}. Only lines
 * that name that code count: an error's message may hold a server's text over many lines, some of
 * which may look like frames, and Node's own frames say nothing the user can act on.
 */
export function ownStackFrames(stack: string, ownCode: URL = OWN_CODE): string[] {
  const places = [ownCode.href, ownCode.pathname]
  return stack
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('at ') && places.some((place) => line.includes(place)))
    .slice(0, MAX_FRAMES)
}
