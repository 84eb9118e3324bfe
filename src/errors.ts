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
