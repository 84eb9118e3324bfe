/**
 * The one place every line the action prints goes through. The runner reads each stdout line as a
 * workflow command twice (`::name::data` at the start of a line after whitespace, and the older
 * `##[name]data` anywhere in it) and masks only whole registered values. Server text, Node's error
 * messages and anything else the action quotes are therefore hostile: they could stop command
 * processing, register or clear masks, or carry part of a secret past a cut. In this order, each
 * line is redacted from its raw text, neutralised, and only then shortened.
 */

// Untrusted spans are marked with two private-use characters so that they can be shortened after
// redaction and neutralisation, and not before.
const OPEN = '\uE000'
const CLOSE = '\uE001'
const MARKERS = /[\uE000\uE001]/g
const SPAN = /\uE000([^\uE001]*)\uE001/g

/** Runs this long of a masked value are hidden too: the runner masks whole values only. */
export const MIN_HIDDEN_RUN = 8
/** Longest piece of quoted text printed; longer ones are cut, after redaction. */
export const MAX_QUOTED_CHARS = 200
const REDACTED = '***'

/** Marks text that came from outside (a server, the network, Node): it is shortened when printed. */
export function untrusted(text: string): string {
  return `${OPEN}${text.replace(MARKERS, '\uFFFD')}${CLOSE}`
}

/**
 * Replaces each masked value, and every run of {@link MIN_HIDDEN_RUN} or more of its characters,
 * with `***`. A server that echoes half the secret, or the secret cut short, must not get that
 * half into the log. Values shorter than the run length are replaced where they appear whole.
 */
export function redact(text: string, secrets: readonly string[]): string {
  const hidden = new Array<boolean>(text.length).fill(false)
  for (const secret of secrets) {
    if (secret.length === 0) continue
    for (const variant of new Set([secret, secret.replace(MARKERS, '\uFFFD')])) hideRuns(text, variant, hidden)
  }
  let out = ''
  for (let i = 0; i < text.length; i++) {
    if (!hidden[i]) out += text[i]
    else if (i === 0 || !hidden[i - 1]) out += REDACTED
  }
  return out
}

function hideRuns(text: string, secret: string, hidden: boolean[]): void {
  const run = Math.min(MIN_HIDDEN_RUN, secret.length)
  const pieces = new Set<string>()
  for (let i = 0; i + run <= secret.length; i++) pieces.add(secret.slice(i, i + run))
  for (let i = 0; i + run <= text.length; i++) {
    if (pieces.has(text.slice(i, i + run))) hidden.fill(true, i, i + run)
  }
}

/**
 * Takes away every means text has to steer the runner: control characters (ESC, CR, LF…) are
 * shown escaped or, for whitespace, become one space; `##[` anywhere becomes `## [`; a line that
 * would start with `:` gets a backslash in front. Markers of untrusted spans (private-use
 * characters, neither controls nor format characters) pass unchanged.
 */
export function neutralise(text: string): string {
  return text
    .replace(/[\s\u2028\u2029]+/g, ' ')
    .replace(/[\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}]/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    .replace(/##\[/g, '## [')
    .replace(/^(\s*):/, '$1\\:')
}

/** Ends a message that may end in untrusted text with exactly one full stop. */
export function sentence(text: string): string {
  return `${text.replace(/\.+(\uE001?)$/, '$1')}.`
}

/** Shortens text to `max` characters, marking the cut. */
export function clip(text: string, max = MAX_QUOTED_CHARS): string {
  return text.length > max ? `${text.slice(0, max)}…` : text
}

/**
 * One printable line from a message that may hold untrusted spans: redacted, neutralised, each
 * untrusted span shortened, markers removed, then neutralised and redacted once more.
 */
export function printableLine(message: string, secrets: readonly string[]): string {
  const neutral = neutralise(redact(message, secrets))
  const shortened = neutral.replace(SPAN, (_, span: string) => clip(span.trim())).replace(MARKERS, '')
  // Once more, both: the joins between spans could form `##[`, and collapsing whitespace or
  // escaping a character could turn text into a masked value (a secret with tabs, or with `\u00ad`).
  return redact(neutralise(shortened), secrets)
}

/**
 * A value as it is, and as a server would echo it from a form body, a URL, a JSON string or an
 * Authorization header (base64 at each of the three byte offsets, trimmed of the characters that
 * depend on its neighbours). The runner masks some of these itself, not all.
 */
export function encodings(value: string): string[] {
  const base64 = (prefix: string): string => {
    const encoded = Buffer.from(prefix + value).toString('base64')
    return encoded.slice(prefix === '' ? 0 : prefix.length + 2, encoded.length - 3)
  }
  const forms = [
    value,
    encodeURIComponent(value),
    new URLSearchParams({ v: value }).toString().slice(2),
    JSON.stringify(value).slice(1, -1),
    base64(''),
    base64('.'),
    base64('..')
  ]
  return [...new Set(forms)].filter((form) => form.length >= MIN_HIDDEN_RUN || form === value)
}

export type LineSink = (line: string) => void

export interface LogSinks {
  info: LineSink
  debug: LineSink
  warning: LineSink
  error: LineSink
}

/**
 * Prints through `sinks` only what {@link printableLine} made of a message, redacted against every
 * value registered with {@link LogBoundary.addSecret} by the time the line is printed. While
 * holding, lines wait: a server may put a token into an early answer and issue it later, and the
 * line quoting that answer must not be printed before the token is known and masked.
 */
export class LogBoundary {
  private readonly secrets: string[] = []
  private held: (() => void)[] | undefined

  constructor(private readonly sinks: LogSinks) {}

  /** A value to hide, in the forms a server that echoes a request would quote it in as well. */
  addSecret(value: string): void {
    if (value !== '') this.secrets.push(...encodings(value))
  }

  info(message: string): void {
    this.print(this.sinks.info, message)
  }

  debug(message: string): void {
    this.print(this.sinks.debug, message)
  }

  warning(message: string): void {
    this.print(this.sinks.warning, message)
  }

  error(message: string): void {
    this.print(this.sinks.error, message)
  }

  /** The same treatment for text that is not printed but stored, such as the job summary. */
  render(message: string): string {
    return printableLine(message, this.secrets)
  }

  hold(): void {
    this.held ??= []
  }

  /** Prints the held lines, each redacted against the secrets known now. */
  release(): void {
    const held = this.held ?? []
    this.held = undefined
    for (const print of held) print()
  }

  private print(sink: LineSink, message: string): void {
    const print = (): void => sink(this.render(message))
    if (this.held === undefined) print()
    else this.held.push(print)
  }
}
