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
/**
 * Control, format and default-ignorable characters (\p{Cc}, \p{Cf}, \p{Default_Ignorable_Code_Point}
 * as Node's Unicode tables have them; a test compares every code point), spelt out, so that no
 * start of the action compiles Unicode property tables.
 */
export const INVISIBLE =
  // eslint-disable-next-line no-control-regex, no-misleading-character-class -- control characters are the point, and each is escaped on its own
  /[\x00-\x1f\x7f-\x9f\xad\u034f\u061c\u0600-\u0605\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb\u{110bd}\u{110cd}\u{13430}-\u{1343f}\u{1bca0}-\u{1bca3}\u{1d173}-\u{1d17a}\u{e0000}-\u{e0fff}]/gu

/** Marks text that came from outside (a server, the network, Node): it is shortened when printed. */
export function untrusted(text: string): string {
  return `${OPEN}${text.replace(MARKERS, '\uFFFD')}${CLOSE}`
}

/**
 * What redaction looks for, built once for a set of masked values: every run of
 * {@link MIN_HIDDEN_RUN} characters of each value, and the values shorter than that whole. A server
 * that echoes half the secret, or the secret cut short, must not get that half into the log.
 */
export class Redactor {
  private readonly runs = new Set<string>()
  /** The first UTF-16 unit of each run: most positions of a long text start none, and are skipped cheaply. */
  private readonly runStarts = new Set<number>()
  private readonly whole: string[] = []

  constructor(secrets: readonly string[] = []) {
    this.add(secrets)
  }

  /** Looks for these values too. */
  add(secrets: readonly string[]): void {
    // Untrusted text has its marker characters replaced, so a value is looked for that way only:
    // a server's token ending in the closing marker must not redact the marker of a span and so
    // keep the span from being cut.
    for (const secret of secrets) this.addValue(secret.replace(MARKERS, '\uFFFD'))
  }

  private addValue(value: string): void {
    if (value.length >= MIN_HIDDEN_RUN) {
      for (let i = 0; i + MIN_HIDDEN_RUN <= value.length; i++) {
        const run = asciiLowerCase(value.slice(i, i + MIN_HIDDEN_RUN))
        this.runs.add(run)
        this.runStarts.add(run.charCodeAt(0))
      }
    } else if (value !== '') {
      this.whole.push(value)
    }
  }

  /** The text with each stretch of masked characters replaced by `***`. */
  redact(text: string): string {
    const hidden = new Uint8Array(text.length)
    let any = false
    if (this.runs.size > 0) {
      // Runs are compared without regard to ASCII case: a URL parser lower-cases a host, and
      // percent-escapes come in either case, so a secret echoed there must not slip through.
      const folded = asciiLowerCase(text)
      for (let i = 0; i + MIN_HIDDEN_RUN <= folded.length; i++) {
        if (this.runStarts.has(folded.charCodeAt(i)) && this.runs.has(folded.slice(i, i + MIN_HIDDEN_RUN))) {
          hidden.fill(1, i, i + MIN_HIDDEN_RUN)
          any = true
        }
      }
    }
    for (const value of this.whole) {
      for (let at = text.indexOf(value); at !== -1; at = text.indexOf(value, at + 1)) {
        hidden.fill(1, at, at + value.length)
        any = true
      }
    }
    if (!any) return text
    // Kept stretches are copied whole: a character at a time costs a string per character.
    let out = ''
    for (let i = 0; i < text.length;) {
      const start = i
      const state = hidden[i]
      while (i < text.length && hidden[i] === state) i++
      out += state === 0 ? text.slice(start, i) : REDACTED
    }
    return out
  }
}

/** A-Z as a-z, nothing else: unlike toLowerCase, it keeps every character at its index. */
function asciiLowerCase(text: string): string {
  return text.replace(/[A-Z]+/g, (upper) => upper.toLowerCase())
}

/** Replaces each masked value, and every run of {@link MIN_HIDDEN_RUN} of its characters, with `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  return new Redactor(secrets).redact(text)
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
    .replace(INVISIBLE, escapeInvisible)
    .replace(/##\[/g, '## [')
    .replace(/^(\s*):/, '$1\\:')
}

// A megabyte of control characters is a million replacements: each escape is spelt only once.
const ESCAPES = new Map<string, string>()
function escapeInvisible(c: string): string {
  let escaped = ESCAPES.get(c)
  if (escaped === undefined) {
    const code = Number(c.codePointAt(0))
    escaped = code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, '0')}`
    ESCAPES.set(c, escaped)
  }
  return escaped
}

/**
 * Ends a message that may end in untrusted text with exactly one full stop. A loop, not a regular
 * expression: `/\.+$/` backtracks over every run of dots that does not end the text, which is
 * quadratic in a server's answer of dots and froze the step for minutes (no timer fires meanwhile).
 */
export function sentence(text: string): string {
  const close = text.endsWith(CLOSE) ? CLOSE : ''
  let end = text.length - close.length
  while (end > 0 && text[end - 1] === '.') end--
  return `${text.slice(0, end)}${close}.`
}

/** Shortens text to `max` characters, marking the cut. */
export function clip(text: string, max = MAX_QUOTED_CHARS): string {
  return text.length > max ? `${text.slice(0, max)}…` : text
}

/**
 * One printable line from a message that may hold untrusted spans: redacted, neutralised, each
 * untrusted span shortened, markers removed, then neutralised and redacted once more.
 */
export function printableLine(message: string, secrets: readonly string[] | Redactor): string {
  const redactor = secrets instanceof Redactor ? secrets : new Redactor(secrets)
  const neutral = neutralise(redactor.redact(message))
  const shortened = neutral.replace(SPAN, (_, span: string) => clip(span.trim())).replace(MARKERS, '')
  // Once more, both: the joins between spans could form `##[`, and collapsing whitespace or
  // escaping a character could turn text into a masked value (a secret with tabs, or with `\u00ad`).
  return redactor.redact(neutralise(shortened))
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
    // application/x-www-form-urlencoded, as URLSearchParams writes it (which costs a run 0.5 ms to load).
    encodeURIComponent(value)
      .replace(/%20/g, '+')
      .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    JSON.stringify(value).slice(1, -1),
    base64(''),
    base64('.'),
    base64('..')
  ]
  return [...new Set(forms)].filter((form) => form.length >= MIN_HIDDEN_RUN || form === value)
}

/** Shortest value sent to the runner as a mask: it masks a value in every later line of the job. */
const MIN_RUNNER_MASK = 8

/**
 * What of a value can go to the runner in `::add-mask::`. The runner splits a mask on CR and LF,
 * trims each line and masks every non-empty one, however short, for the rest of the job: so each
 * line goes on its own, trimmed, and only when it is {@link MIN_RUNNER_MASK} characters or more.
 * The log boundary redacts the whole value either way.
 */
export function runnerMasks(value: string): string[] {
  return value
    .split(/\r\n|\r|\n/)
    .map((line) => line.trim())
    .filter((line) => line.length >= MIN_RUNNER_MASK)
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
  private readonly redactor = new Redactor()
  private held: (() => void)[] | undefined

  constructor(private readonly sinks: LogSinks) {}

  /** A value to hide: a token the server issued. */
  addSecret(value: string): void {
    this.add(value === '' ? [] : [value])
  }

  /** A value the action sends (the client secret, a proxy password): a server that echoes the request may quote it encoded. */
  addRequestSecret(value: string): void {
    this.add(value === '' ? [] : encodings(value))
  }

  private add(forms: string[]): void {
    this.redactor.add(forms)
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
    return printableLine(message, this.redactor)
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
    // Only lines that quote the outside wait: the action's own words (progress lines) cannot
    // carry a token, and must show while the step waits.
    if (this.held === undefined || !message.includes(OPEN)) print()
    else this.held.push(print)
  }
}
