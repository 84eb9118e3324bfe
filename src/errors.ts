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

/** Replaces every occurrence of each secret with `***`, longest first so that overlaps cannot leak a tail. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text
  for (const secret of [...secrets].filter((s) => s.length > 0).sort((a, b) => b.length - a.length)) {
    out = out.split(secret).join('***')
  }
  return out
}

/** Shortens server-supplied text so that a hostile or verbose answer cannot flood the log. */
export function clip(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length > max ? `${flat.slice(0, max)}…` : flat
}
