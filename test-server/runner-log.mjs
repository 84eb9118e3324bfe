// @ts-check
// What a GitHub runner makes of an action's stdout: which lines it processes as workflow commands,
// which values it masks, which lines its problem matchers turn into annotations, and what the log
// then shows. Emulates actions/runner (read at commit 258d6c857, Nov 2025); every rule below names
// the runner file and function it comes from, and __tests__/runner-log.test.ts checks each against
// the runner's L0 test of it. Shared by the log-safety tests, the snapshot tests, scripts and the
// e2e workflow. Plain Node.
//
// Files of actions/runner referred to:
//   ProcessInvoker  src/Runner.Sdk/ProcessInvoker.cs            StartReadStream, ProcessOutput
//   NodeHandler     src/Runner.Worker/Handlers/NodeScriptActionHandler.cs  one OutputManager per stream
//   OutputManager   src/Runner.Worker/Handlers/OutputManager.cs OnDataReceived, ConvertToIssue
//   IssueMatcher    src/Runner.Worker/IssueMatcher.cs           Match, Reset, IssueMatch
//   CommandManager  src/Runner.Worker/ActionCommandManager.cs   TryProcessCommand, ValidateStopToken, the *CommandExtension classes
//   ActionCommand   src/Runner.Common/ActionCommand.cs          TryParseV2, TryParse, Unescape*
//   SecretMasker    src/Sdk/DTLogging/Logging/SecretMasker.cs, ValueSecret.cs, ValueEncoders.cs
//   HostContext     src/Runner.Common/HostContext.cs            the value encoders registered
//   Context         src/Runner.Worker/ExecutionContext.cs       Write, AddIssue, Debug, Error(Exception)
//
// Deliberate limits:
// - Comparisons are ordinal. The runner's `StartsWith("::")`, `IndexOf("::", 2)` and
//   `IndexOf("##[")` use the current culture, which on Linux and macOS runners is ICU: ICU ignores
//   "ignorable" code points (NUL and most other controls, soft hyphen, zero-width space, BOM…) in
//   such comparisons. Where that shifts an offset the parse breaks instead of matching, but
//   `{ icu: 'strip' }` gives a conservative upper bound: each line is also parsed with those code
//   points removed, as if ICU matched across them.
// - stdout and stderr are separate streams read by separate threads (ProcessInvoker); their
//   interleaving on a real runner is not fixed. Here stderr is read after stdout.
// - Problem matchers are the ones given in `matchers` (as if registered before the step); an
//   `add-matcher` command does not load a file. The runner's one-second regex timeout, its
//   check that a matched file exists in the repository, and its cap of 10 annotations of each type
//   on the summary page are not emulated: the file is reported as matched, every annotation kept.

import { ANY_LINE, SETUP_NODE_MATCHERS } from './problem-matchers.mjs'

/** @typedef {import('./problem-matchers.mjs').ProblemMatcher} ProblemMatcher */
/** @typedef {import('./problem-matchers.mjs').MatcherPattern} MatcherPattern */
/** @typedef {import('./problem-matchers.mjs').MatchedField} MatchedField */

/** Commands the runner knows (CommandManager: one IActionCommandExtension each, plus `stop-commands`). */
export const RUNNER_COMMANDS = Object.freeze([
  'add-mask',
  'add-matcher',
  'add-path',
  'debug',
  'echo',
  'endgroup',
  'error',
  'group',
  'notice',
  'remove-matcher',
  'save-state',
  'set-env',
  'set-output',
  'stop-commands',
  'warning'
  // `internal-set-repo-path` is registered only while a runner plugin runs (EnablePluginInternalCommand).
])

/**
 * @typedef {object} RunnerCommand
 * @property {string} name        as written (the runner matches names without regard to case)
 * @property {Record<string, string>} properties  unescaped
 * @property {string} data        unescaped
 * @property {'v2' | 'v1'} syntax  `::name::data` (TryParseV2) or `##[name]data` (TryParse)
 * @property {number} line        0-based index into `lines`
 * @property {string} raw         the whole line
 * @property {boolean} [viaIcu]   found only with ignorable code points removed ({ icu: 'strip' })
 * @property {string} [failsStep] why the runner fails the step on this command (ProcessCommand or ValidateStopToken threw)
 */

/**
 * @typedef {object} Annotation
 * @property {'error' | 'warning' | 'notice'} type
 * @property {string} message  masked, and cut at 4096 characters (Context.AddIssue)
 * @property {number} [line]   0-based index into `lines` of the line that made it
 * @property {string} [matcher]  the owner of the problem matcher that made it from a plain line
 * @property {Partial<Record<'file' | 'line' | 'col' | 'code', string>>} [data]  what the matcher found (OutputManager.ConvertToIssue)
 */

/**
 * @typedef {object} MatcherHit
 * @property {string} owner   the matcher
 * @property {number} line    0-based index into `lines`
 * @property {Annotation | undefined} annotation  none when the runner drops the match (a blank message, a severity such as `info`)
 */

/**
 * @typedef {object} RunnerLog
 * @property {string[]} lines        the lines as the runner reads them (ProcessInvoker), all of them, even after a step failure
 * @property {RunnerCommand[]} commands   every command the runner processed, in order (resume tokens included)
 * @property {RunnerCommand[]} ignored    commands parsed while processing was stopped: printed as plain lines
 * @property {{line: number, text: string}[]} plain  every line that was not a command, as the problem matchers see it
 * @property {MatcherHit[]} matches  every line a problem matcher matched
 * @property {string[]} masks        values registered with the secret masker, derived encodings included
 * @property {string[]} maskCommands the data of each processed add-mask command
 * @property {Annotation[]} annotations  from commands, from failures to process one, and from problem matchers
 * @property {string[]} displayed    the log as shown, each line masked with the values known at the time
 * @property {string | undefined} stopToken  set when the output ended with command processing stopped
 * @property {{line: number, reason: string} | undefined} stepFailure  where the runner failed the step and read no further
 */

/**
 * Splits output into lines as .NET's StreamReader.ReadLine does (ProcessInvoker.StartReadStream
 * loops `reader.ReadLine()` until EndOfStream): a line ends at "\n", at "\r", or at "\r\n"; a
 * terminator at the very end does not start another line. U+0085, U+2028 and U+2029 do not end a
 * line. Undecodable bytes become U+FFFD (UTF-8 decoding, as Node encodes lone surrogates too).
 * A byte-order mark at the very start is not part of the first line: the runner leaves the
 * encoding to .NET on Linux (NodeHandler passes `outputEncoding: null`), and .NET's
 * Process.StandardOutput is a StreamReader that detects byte-order marks, which consumes one
 * at the start of the stream. (UTF-16 and UTF-32 marks would switch the decoding; UTF-8 output,
 * which Node writes, cannot begin with them.)
 * @param {string | Buffer} output
 * @returns {string[]}
 */
export function runnerLines(output) {
  const decoded = typeof output === 'string' ? Buffer.from(output, 'utf8').toString('utf8') : output.toString('utf8')
  const text = decoded.startsWith('\ufeff') ? decoded.slice(1) : decoded
  if (text === '') return []
  const lines = text.split(/\r\n|\r|\n/)
  if (/[\r\n]$/.test(text)) lines.pop()
  return lines
}

// .NET's Char.IsWhiteSpace, which String.Trim(), TrimStart(), StringSplitOptions.TrimEntries and
// String.IsNullOrWhiteSpace use: unlike JavaScript's \s it includes U+0085 (NEXT LINE) and
// excludes U+FEFF.
const DOTNET_WHITESPACE = '[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]'
const DOTNET_LEADING_WHITESPACE = new RegExp(`^${DOTNET_WHITESPACE}+`)
const DOTNET_ONLY_WHITESPACE = new RegExp(`^${DOTNET_WHITESPACE}*$`)

/** String.TrimStart() of .NET. @param {string} text */
export function dotnetTrimStart(text) {
  return text.replace(DOTNET_LEADING_WHITESPACE, '')
}

/**
 * String.Trim() of .NET. The end is found by a loop, not by a `\s+$` search, which would take
 * quadratic time on a long run of whitespace that does not end the text.
 * @param {string} text
 */
export function dotnetTrim(text) {
  const start = dotnetTrimStart(text)
  let end = start.length
  while (end > 0 && DOTNET_ONLY_WHITESPACE.test(start.charAt(end - 1))) end--
  return start.slice(0, end)
}

/** String.IsNullOrWhiteSpace of .NET. @param {string} text */
const isNullOrWhiteSpace = (text) => DOTNET_ONLY_WHITESPACE.test(text)

// ActionCommand: _escapeMappings (TryParse), _escapeDataMappings and _escapePropertyMappings
// (TryParseV2). Unescaping replaces each mapping in turn, in this order.
const UNESCAPE_V1 = [
  ['%3B', ';'],
  ['%0D', '\r'],
  ['%0A', '\n'],
  ['%5D', ']'],
  ['%25', '%']
]
const UNESCAPE_DATA = [
  ['%0D', '\r'],
  ['%0A', '\n'],
  ['%25', '%']
]
const UNESCAPE_PROPERTY = [
  ['%0D', '\r'],
  ['%0A', '\n'],
  ['%3A', ':'],
  ['%2C', ','],
  ['%25', '%']
]
/** @param {string} text @param {string[][]} mappings */
const unescape = (text, mappings) => mappings.reduce((out, [from = '', to = '']) => out.split(from).join(to), text)

/** @param {Set<string>} registered lower-cased names @param {string} name */
const isRegistered = (registered, name) => registered.has(name.toLowerCase())

/**
 * `"k=v"` pairs: each split once at the first `=`, both sides non-empty (`Split('=', 2, RemoveEmptyEntries)`).
 * @param {string[]} pairs @param {string[][]} mappings
 */
function parseProperties(pairs, mappings) {
  /** @type {Record<string, string>} */
  const properties = {}
  for (const pair of pairs) {
    const at = pair.indexOf('=')
    if (at <= 0 || at === pair.length - 1) continue
    // The runner's dictionary ignores case (StringComparer.OrdinalIgnoreCase): the last one wins.
    const key = Object.keys(properties).find((k) => k.toLowerCase() === pair.slice(0, at).toLowerCase()) ?? pair.slice(0, at)
    properties[key] = unescape(pair.slice(at + 1), mappings)
  }
  return properties
}

/**
 * ActionCommand.TryParseV2: after TrimStart the line must start with `::`; the command info runs
 * to the next `::`; the name ends at the first space; properties are `,`-separated `k=v`; the data
 * is the rest, unescaped (%0D, %0A, %25).
 * @param {string} line @param {Set<string>} registered
 * @returns {Omit<RunnerCommand, 'line' | 'raw'> | undefined}
 */
export function tryParseV2(line, registered) {
  if (line === '') return undefined
  const message = dotnetTrimStart(line)
  if (!message.startsWith('::')) return undefined
  const end = message.indexOf('::', 2)
  if (end < 0) return undefined
  const info = message.slice(2, end)
  const space = info.indexOf(' ')
  const name = space < 0 ? info : info.slice(0, space)
  if (!isRegistered(registered, name)) return undefined
  const properties =
    space > 0
      ? parseProperties(
          dotnetTrim(info.slice(space + 1))
            .split(',')
            .filter((p) => p !== ''),
          UNESCAPE_PROPERTY
        )
      : {}
  return { name, properties, data: unescape(message.slice(end + 2), UNESCAPE_DATA), syntax: 'v2' }
}

/**
 * ActionCommand.TryParse: the FIRST `##[` anywhere in the line (not trimmed); the command info runs
 * to the next `]`; the name ends at the first space; properties are `;`-separated `k=v`; the data
 * is the rest, unescaped (%3B, %0D, %0A, %5D, %25). A later `##[` in the same line is never looked at.
 * @param {string} line @param {Set<string>} registered
 * @returns {Omit<RunnerCommand, 'line' | 'raw'> | undefined}
 */
export function tryParseV1(line, registered) {
  if (line === '') return undefined
  const prefix = line.indexOf('##[')
  if (prefix < 0) return undefined
  const close = line.indexOf(']', prefix)
  if (close < 0) return undefined
  const info = line.slice(prefix + 3, close)
  const space = info.indexOf(' ')
  const name = space < 0 ? info : info.slice(0, space)
  if (!isRegistered(registered, name)) return undefined
  const properties =
    space > 0
      ? parseProperties(
          info
            .slice(space + 1)
            .split(';')
            .filter((p) => p !== ''),
          UNESCAPE_V1
        )
      : {}
  return { name, properties, data: unescape(line.slice(close + 1), UNESCAPE_V1), syntax: 'v1' }
}

// Code points ICU's root collation ignores in culture-sensitive StartsWith/IndexOf: controls other
// than the whitespace ones, and every default-ignorable code point (soft hyphen, ZWSP, ZWJ, BOM…).
const ICU_IGNORABLE = /(?![\t\n\v\f\r\u0085])\p{Cc}|\p{Default_Ignorable_Code_Point}/gu

// ValueEncoders.cs, each encoder a function of the same name. HostContext's constructor registers
// all eleven with the secret masker, so every value added is also masked in each of these forms
// (an encoder that answers '' adds nothing).

/** Convert.ToBase64String of the UTF-8 bytes. @param {string} value */
const base64StringEscape = (value) => Buffer.from(value, 'utf8').toString('base64')

/** The same, of the bytes after the first `shift` (the value whole when it has no more bytes than that). @param {string} value @param {number} shift */
function base64StringEscapeShift(value, shift) {
  const bytes = Buffer.from(value, 'utf8')
  return (bytes.length > shift ? bytes.subarray(shift) : bytes).toString('base64')
}

/** `"` as `\"`, as for docker's command line. @param {string} value */
const commandLineArgumentEscape = (value) => value.split('"').join('\\"')

/** ExpressionUtility.StringEscape: `'` doubled. @param {string} value */
const expressionStringEscape = (value) => value.split("'").join("''")

// Newtonsoft's JsonConvert.ToString escapes, with `"` as the quote: `"` and `\`, the C0 controls
// (\b \t \n \f \r by name, the others as \u00xx in lower-case hex) and U+0085, U+2028, U+2029.
/** @type {Record<string, string>} */
const JSON_NAMED_ESCAPES = { '"': '\\"', '\\': '\\\\', '\b': '\\b', '\t': '\\t', '\n': '\\n', '\f': '\\f', '\r': '\\r' }
// eslint-disable-next-line no-control-regex -- the C0 controls are what Newtonsoft escapes
const JSON_ESCAPED = /["\\\u0000-\u001f\u0085\u2028\u2029]/g

/** JsonConvert.ToString without its surrounding quotes. @param {string} value */
const jsonStringEscape = (value) =>
  value.replace(JSON_ESCAPED, (c) => JSON_NAMED_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)

/** Uri.EscapeDataString: every UTF-8 byte but RFC 3986's unreserved characters as %XX. @param {string} value */
const uriDataEscape = (value) =>
  Array.from(Buffer.from(value, 'utf8'), (b) =>
    /[A-Za-z0-9\-._~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`
  ).join('')

/** @type {Record<string, string>} */
const XML_ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' }
/** SecurityElement.Escape. @param {string} value */
const xmlDataEscape = (value) => value.replace(/[&<>"']/g, (c) => XML_ESCAPES[c] ?? c)

/** A value of more than 8 characters in double quotes, without them. @param {string} value */
const trimDoubleQuotes = (value) => (value.length > 8 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : '')

/**
 * The part of a value up to its first `&+`, or else up to its last `&`, if at least 6 long.
 * @param {string} value
 */
function powerShellPreAmpersandEscape(value) {
  if (!value.includes('&')) return ''
  const section = value.includes('&+') ? value.slice(0, value.indexOf('&+') + 2) : value.slice(0, value.lastIndexOf('&') + 1)
  return section.length >= 6 ? section : ''
}

/**
 * The part after its first `&+` and one more character (PowerShell colours it), or else after its
 * last `&`, if at least 6 long.
 * @param {string} value
 */
function powerShellPostAmpersandEscape(value) {
  if (!value.includes('&')) return ''
  let section = ''
  if (value.includes('&+')) {
    const after = value.indexOf('&+') + 2
    if (value.length > after + 1) section = value.slice(after + 1)
  } else section = value.slice(value.lastIndexOf('&') + 1)
  return section.length >= 6 ? section : ''
}

/** The encoders HostContext registers, in its order, by their names in ValueEncoders.cs. */
export const VALUE_ENCODERS = Object.freeze(
  /** @type {[string, (value: string) => string][]} */ ([
    ['Base64StringEscape', base64StringEscape],
    ['Base64StringEscapeShift1', (v) => base64StringEscapeShift(v, 1)],
    ['Base64StringEscapeShift2', (v) => base64StringEscapeShift(v, 2)],
    ['CommandLineArgumentEscape', commandLineArgumentEscape],
    ['ExpressionStringEscape', expressionStringEscape],
    ['JsonStringEscape', jsonStringEscape],
    ['UriDataEscape', uriDataEscape],
    ['XmlDataEscape', xmlDataEscape],
    ['TrimDoubleQuotes', trimDoubleQuotes],
    ['PowerShellPreAmpersandEscape', powerShellPreAmpersandEscape],
    ['PowerShellPostAmpersandEscape', powerShellPostAmpersandEscape]
  ])
)

/**
 * The runner's secret masker (SecretMasker.AddValue/MaskSecrets): every occurrence of every
 * registered value, found ordinally and overlapping ones merged, becomes `***`. Whole values only:
 * a part of a secret is not masked unless it was registered on its own.
 */
export class RunnerSecretMasker {
  /** Values added (m_originalValueSecrets): a value is skipped only if it was added itself before. @type {Set<string>} */
  #originals = new Set()
  /** Those and their encodings (m_valueSecrets). @type {Set<string>} */
  #values = new Set()

  /** SecretMasker.AddValue: the value and each encoding of it. @param {string} value */
  addValue(value) {
    if (value === '' || this.#originals.has(value)) return
    this.#originals.add(value)
    this.#values.add(value)
    for (const [, encode] of VALUE_ENCODERS) {
      const encoded = encode(value)
      if (encoded !== '') this.#values.add(encoded)
    }
  }

  get values() {
    return [...this.#values]
  }

  /** @param {string} input */
  mask(input) {
    /** @type {[number, number][]} */
    const spans = []
    for (const value of this.#values) {
      for (let at = input.indexOf(value); at >= 0; at = input.indexOf(value, at + 1)) spans.push([at, at + value.length])
    }
    if (spans.length === 0) return input
    spans.sort((a, b) => a[0] - b[0])
    let out = ''
    let from = 0
    let current = /** @type {[number, number] | undefined} */ (undefined)
    for (const span of spans) {
      if (current !== undefined && span[0] <= current[1]) current[1] = Math.max(current[1], span[1])
      else {
        if (current !== undefined) {
          out += `${input.slice(from, current[0])}***`
          from = current[1]
        }
        current = [span[0], span[1]]
      }
    }
    if (current !== undefined) out += `${input.slice(from, current[0])}***`
    return out + input.slice(current === undefined ? 0 : current[1])
  }
}

// ---------------------------------------------------------------------------------------------
// Problem matchers
// ---------------------------------------------------------------------------------------------

const ECMASCRIPT_WHITESPACE = ' \\f\\n\\r\\t\\v'

/**
 * A matcher's .NET expression as a JavaScript RegExp that matches the same lines. IssuePattern
 * compiles it with RegexOptions.ECMAScript, where `\s` is [ \f\n\r\t\v] and `.` is anything but
 * "\n"; in JavaScript `\s` also takes U+00A0, U+2028, U+FEFF… and `.` refuses "\r", U+2028 and
 * U+2029. Only those two are spelt out; the rest of the syntax the two engines share. Hand-made:
 * no package translates between the two dialects.
 * @param {string} pattern
 */
export function ecmaScriptModeRegExp(pattern) {
  let out = ''
  let inClass = false
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charAt(i)
    if (c === '\\') {
      const escaped = pattern.charAt(++i)
      if (escaped === 's') out += inClass ? ECMASCRIPT_WHITESPACE : `[${ECMASCRIPT_WHITESPACE}]`
      else if (escaped === 'S' && !inClass) out += `[^${ECMASCRIPT_WHITESPACE}]`
      else if (escaped === 'S') throw new Error(`\\S inside a character class is not translated: ${pattern}`)
      else out += `\\${escaped}`
    } else if (c === '[' && !inClass) {
      inClass = true
      out += c
      if (pattern.charAt(i + 1) === '^') out += pattern.charAt(++i)
      // A `]` first in a .NET class is a member; in JavaScript it would close an empty class.
      if (pattern.charAt(i + 1) === ']') out += `\\${pattern.charAt(++i)}`
    } else if (c === ']' && inClass) {
      inClass = false
      out += c
    } else out += c === '.' && !inClass ? '[^\\n]' : c
  }
  return new RegExp(out)
}

/**
 * @typedef {Partial<Record<MatchedField, string>>} IssueMatch  IssueMatch: each field a group's
 *   value ('' for a group that took no part), or absent when no pattern names it
 */

/**
 * IssueMatcher.Match: one pattern matches lines on its own; with more, consecutive lines must match
 * them in order, each pattern's fields carried to the next, and a `loop` last pattern may match
 * again and again while the first ones' match stands.
 */
export class IssueMatcher {
  /** @param {ProblemMatcher} config */
  constructor(config) {
    this.owner = config.owner
    this.defaultSeverity = config.severity ?? ''
    this.defaultFromPath = config.fromPath ?? ''
    this.patterns = config.patterns.map((p) => ({ ...p, regex: ecmaScriptModeRegExp(p.regexp) }))
    /** @type {(IssueMatch | undefined)[]} */
    this.state = []
    this.reset()
  }

  reset() {
    this.state = new Array(Math.max(0, this.patterns.length - 1)).fill(undefined)
  }

  /** @param {string} line @returns {IssueMatch | undefined} */
  match(line) {
    const patterns = this.patterns
    if (patterns.length === 1) {
      const pattern = /** @type {(typeof patterns)[number]} */ (patterns[0])
      const found = pattern.regex.exec(line)
      return found === null ? undefined : this.#issueMatch(undefined, pattern, found, true)
    }
    // Each pattern, the last first, so that one line moves a match one pattern on at most.
    for (let i = patterns.length - 1; i >= 0; i--) {
      const running = i > 0 ? this.state[i - 1] : undefined
      if (i !== 0 && running === undefined) continue
      const pattern = /** @type {(typeof patterns)[number]} */ (patterns[i])
      const isLast = i === patterns.length - 1
      const found = pattern.regex.exec(line)
      if (found !== null) {
        if (isLast) {
          this.reset()
          // A loop keeps the match of the patterns before it, for the next line.
          if (pattern.loop) this.state[i - 1] = running
          return this.#issueMatch(running, pattern, found, true)
        }
        this.state[i] = this.#issueMatch(running, pattern, found, false)
      } else if (isLast) this.state[i - 1] = undefined
      else this.state[i] = undefined
    }
    return undefined
  }

  /**
   * IssueMatch's constructor: a running match's fields win; then the matcher's defaults fill an
   * empty severity and fromPath (only for the match that is returned).
   * @param {IssueMatch | undefined} running @param {MatcherPattern} pattern @param {RegExpExecArray} found @param {boolean} complete
   */
  #issueMatch(running, pattern, found, complete) {
    /** @type {IssueMatch} */
    const match = {}
    for (const field of /** @type {MatchedField[]} */ (['file', 'line', 'column', 'severity', 'code', 'message', 'fromPath'])) {
      const group = pattern.groups[field]
      const value = running?.[field] ?? (group === undefined || group >= found.length ? undefined : (found[group] ?? ''))
      if (value !== undefined) match[field] = value
    }
    if (complete && !match.severity && this.defaultSeverity !== '') match.severity = this.defaultSeverity
    if (complete && !match.fromPath && this.defaultFromPath !== '') match.fromPath = this.defaultFromPath
    return match
  }
}

/**
 * OutputManager.ConvertToIssue: a blank message or a severity other than error, warning or notice
 * (case ignored; none means error) drops the match. Line and column count only as plain digits.
 * (The file is kept as matched: the runner keeps it only if it exists under the workspace.)
 * @param {IssueMatch} match
 * @returns {{type: 'error' | 'warning' | 'notice', message: string, data: Partial<Record<'file' | 'line' | 'col' | 'code', string>>} | undefined}
 */
export function convertToIssue(match) {
  if (match.message === undefined || isNullOrWhiteSpace(match.message)) return undefined
  const severity = (match.severity ?? '').toLowerCase()
  if (severity !== '' && severity !== 'error' && severity !== 'warning' && severity !== 'notice') return undefined
  /** @type {Partial<Record<'file' | 'line' | 'col' | 'code', string>>} */
  const data = {}
  // int.TryParse with NumberStyles.None: digits only, within Int32.
  const number = (/** @type {string | undefined} */ text) =>
    text !== undefined && /^[0-9]+$/.test(text) && Number(text) <= 2 ** 31 - 1 ? String(Number(text)) : undefined
  const line = number(match.line)
  if (line !== undefined) data.line = line
  const col = number(match.column)
  if (col !== undefined) data.col = col
  if (match.code !== undefined && !isNullOrWhiteSpace(match.code)) data.code = dotnetTrim(match.code)
  if (match.file !== undefined && !isNullOrWhiteSpace(match.file)) data.file = match.file
  return { type: severity === '' ? 'error' : /** @type {'error' | 'warning' | 'notice'} */ (severity), message: match.message, data }
}

/**
 * The matchers an OutputManager holds after `##[add-matcher]` of each config in turn
 * (OnMatcherChanged): the newest first, replacing one of the same owner (case ignored).
 * @param {readonly ProblemMatcher[]} configs
 */
function registeredMatchers(configs) {
  /** @type {IssueMatcher[]} */
  let matchers = []
  for (const config of configs) {
    const others = matchers.filter((m) => m.owner.toLowerCase() !== config.owner.toLowerCase())
    matchers = config.patterns.length > 0 ? [new IssueMatcher(config), ...others] : others
  }
  return matchers
}

// OutputManager's _colorCodePrefix "\033[" and _colorCodeRegex @"\x0033\[[0-9;]*m?": C# has no
// octal escapes and .NET's \x takes two hex digits, so both mean NUL, "33[". That is what the
// runner strips before matching (OutputManagerL0.MatcherRemoveColorCodes writes "\033[31m" in C#
// too); a real ESC[31m is left in the line.
const COLOR_CODE_PREFIX = '\u000033['
// eslint-disable-next-line no-control-regex -- NUL is what the runner's expression starts with
const COLOR_CODE = /\u000033\[[0-9;]*m?/g

// ---------------------------------------------------------------------------------------------
// Reading a step's output
// ---------------------------------------------------------------------------------------------

/**
 * @typedef {object} ReadOptions
 * @property {string | Buffer} [stderr]  read after stdout, by its own OutputManager (NodeHandler)
 * @property {boolean} [stepDebug]  ACTIONS_STEP_DEBUG: debug lines are shown
 * @property {'ordinal' | 'strip'} [icu]  see the top of this file
 * @property {boolean} [allowUnsecureCommands]  ACTIONS_ALLOW_UNSECURE_COMMANDS: set-env and add-path are processed
 * @property {readonly ProblemMatcher[]} [matchers]  registered for the job before the step, in the order of their add-matcher
 */

/** What ValidateStopToken throws out of TryProcessCommand: nothing catches it, the step fails. */
class StepFailure extends Error {}

/**
 * Reads an action's output as the runner does and says what it did with each line.
 * @param {string | Buffer} stdout
 * @param {ReadOptions} [options]
 * @returns {RunnerLog}
 */
export function readRunnerLog(stdout, options = {}) {
  const streams = [runnerLines(stdout), options.stderr === undefined ? [] : runnerLines(options.stderr)]
  /** @type {RunnerLog} */
  const log = {
    lines: streams.flat(),
    commands: [],
    ignored: [],
    plain: [],
    matches: [],
    masks: [],
    maskCommands: [],
    annotations: [],
    displayed: [],
    stopToken: undefined,
    stepFailure: undefined
  }
  // One command manager and one secret masker for the step; one OutputManager, with its own
  // matcher state, per stream.
  const step = { options, log, registered: new Set(RUNNER_COMMANDS), masker: new RunnerSecretMasker(), echo: false }
  let index = 0
  read: for (const lines of streams) {
    const matchers = registeredMatchers(options.matchers ?? [])
    for (const raw of lines) {
      try {
        onDataReceived(step, matchers, raw, index++)
      } catch (failure) {
        if (!(failure instanceof StepFailure)) throw failure
        log.stepFailure = { line: index - 1, reason: failure.message }
        break read
      }
    }
  }
  log.masks = step.masker.values
  return log
}

/**
 * @typedef {object} Step
 * @property {ReadOptions} options
 * @property {RunnerLog} log
 * @property {Set<string>} registered  lower-cased command names (the stop token while stopped)
 * @property {RunnerSecretMasker} masker
 * @property {boolean} echo  EchoOnActionCommand
 */

/** Context.Write: the line as shown, masked with the values known now. @param {Step} step @param {string} text */
const show = (step, text) => step.log.displayed.push(step.masker.mask(text))

/**
 * Context.AddIssue: the message masked and cut; the log shows it with its tag, or instead the
 * line a matcher matched.
 * @param {Step} step @param {Omit<Annotation, 'message'> & {message: string}} issue @param {string} [logMessage]
 */
function addIssue(step, issue, logMessage) {
  const annotation = { ...issue, message: step.masker.mask(issue.message).slice(0, 4096) }
  step.log.annotations.push(annotation)
  show(step, `##[${issue.type}]${logMessage ?? annotation.message}`)
  return annotation
}

/**
 * OutputManager.OnDataReceived: a line holding `##[` or `::` is offered to the command manager;
 * any other line, or one it does not take, has the runner's own markers defused and goes to the
 * problem matchers, colour codes stripped; the first that makes an annotation of it takes it,
 * else it is regular output.
 * @param {Step} step @param {IssueMatcher[]} matchers @param {string} raw @param {number} index
 */
function onDataReceived(step, matchers, raw, index) {
  if (raw.includes('##[') || raw.includes('::')) {
    const parsed = parseLine(raw, step.registered, step.options.icu ?? 'ordinal')
    if (parsed !== undefined && tryProcessCommand(step, { ...parsed, line: index, raw })) return
  }
  const line = raw.replace(/##\[start-action/g, '##[\\start-action').replace(/##\[end-action/g, '##[\\end-action')
  const stripped = line.includes(COLOR_CODE_PREFIX) ? line.replace(COLOR_CODE, '') : line
  step.log.plain.push({ line: index, text: stripped })
  for (const matcher of matchers) {
    const match = matcher.match(stripped)
    if (match === undefined) continue
    for (const other of matchers) if (other !== matcher) other.reset()
    const issue = convertToIssue(match)
    const hit = { owner: matcher.owner, line: index, annotation: /** @type {Annotation | undefined} */ (undefined) }
    step.log.matches.push(hit)
    if (issue !== undefined) {
      hit.annotation = addIssue(step, { ...issue, line: index, matcher: matcher.owner }, stripped)
      return
    }
  }
  show(step, line)
}

/**
 * CommandManager.TryProcessCommand, in its lock. False: the line is output like any other.
 * @param {Step} step @param {RunnerCommand} command
 */
function tryProcessCommand(step, command) {
  const { log } = step
  const name = command.name.toLowerCase()
  if (log.stopToken !== undefined) {
    // Stopped: only the resume token is a command; it is one no more once processing resumes.
    if (name !== log.stopToken.toLowerCase()) {
      log.ignored.push(command)
      return false
    }
    show(step, command.raw)
    step.registered.delete(name)
    log.stopToken = undefined
    log.commands.push(command)
    return true
  }
  log.commands.push(command)
  if (name === 'stop-commands') {
    validateStopToken(step, command)
    log.stopToken = command.data
    step.registered.add(command.data.toLowerCase())
    if (command.data.length > 6) step.masker.addValue(command.data)
    show(step, command.raw)
    return true
  }
  // IActionCommandExtension.OmitEcho is true for these: with `::echo::on` the others are shown.
  const omitEcho = ['add-mask', 'debug', 'error', 'warning', 'notice'].includes(name)
  if (step.echo && !omitEcho) show(step, command.raw)
  try {
    processCommand(step, command, name)
  } catch (failure) {
    if (!(failure instanceof Error)) throw failure
    // The command fails the step at its end; the output goes on being read.
    command.failsStep = failure.message
    addIssue(step, {
      type: 'error',
      line: command.line,
      message: `Unable to process command '${omitEcho ? name : command.raw}' successfully.`
    })
    addIssue(step, { type: 'error', line: command.line, message: failure.message })
  }
  return true
}

/**
 * CommandManager.ValidateStopToken: an empty token, `pause-logging` or a registered command's name
 * throws (unless ACTIONS_ALLOW_UNSECURE_STOPCOMMAND_TOKENS is set), out of TryProcessCommand.
 * @param {Step} step @param {RunnerCommand} command
 */
function validateStopToken(step, command) {
  const token = command.data
  if (token === '' || token.toLowerCase() === 'pause-logging' || step.registered.has(token.toLowerCase())) {
    command.failsStep = 'invalid stop-commands token'
    throw new StepFailure("You cannot use a endToken that is an empty string, the string 'pause-logging', or another workflow command.")
  }
}

/**
 * The *CommandExtension.ProcessCommand of each command; what they throw fails the step.
 * @param {Step} step @param {RunnerCommand} command @param {string} name
 */
function processCommand(step, command, name) {
  const { log, options } = step
  switch (name) {
    case 'add-mask': {
      // AddMaskCommandExtension: the whole value, then each line of it (split at CR and LF,
      // trimmed, empty ones left out), each a value of its own, however short.
      if (isNullOrWhiteSpace(command.data)) {
        addIssue(step, { type: 'warning', line: command.line, message: "Can't add secret mask for empty string in ##[add-mask] command." })
        break
      }
      if (step.echo) show(step, '::add-mask::***')
      log.maskCommands.push(command.data)
      step.masker.addValue(command.data)
      for (const piece of command.data.split(/[\r\n]/)) {
        const trimmed = dotnetTrim(piece)
        if (trimmed !== '') step.masker.addValue(trimmed)
      }
      break
    }
    case 'debug':
      // Context.Debug: one `##[debug]` line per line of the data, shown only with step debug on.
      if (options.stepDebug) for (const part of command.data.replace(/\r\n/g, '\n').split('\n')) show(step, `##[debug]${part}`)
      break
    case 'error':
    case 'warning':
    case 'notice':
      addIssue(step, { type: name, line: command.line, message: command.data })
      break
    case 'group':
      show(step, `##[group]${command.data}`)
      break
    case 'endgroup':
      show(step, '##[endgroup]')
      break
    case 'echo': {
      // EchoCommandExtension: ArgUtil.NotNullOrEmpty, then on or off.
      if (command.data === '') throw new Error("Value cannot be null. (Parameter 'value')")
      const value = dotnetTrim(command.data).toUpperCase()
      if (value === 'ON') step.echo = true
      else if (value === 'OFF') step.echo = false
      else throw new Error(`Invalid echo command value. Possible values can be: 'on', 'off'. Current value is: '${command.data}'.`)
      break
    }
    case 'set-env':
    case 'add-path':
      // SetEnvCommandExtension, AddPathCommandExtension: refused unless ACTIONS_ALLOW_UNSECURE_COMMANDS is true.
      if (!options.allowUnsecureCommands)
        throw new Error(
          `The \`${name}\` command is disabled. Please upgrade to using Environment Files or opt into unsecure command execution by setting the \`ACTIONS_ALLOW_UNSECURE_COMMANDS\` environment variable to \`true\`.`
        )
      if (name === 'set-env') requireName(command, name)
      break
    case 'set-output':
    case 'save-state':
      requireName(command, name)
      break
    default:
      break
  }
}

/** @param {RunnerCommand} command @param {string} name */
function requireName(command, name) {
  if (!Object.keys(command.properties).some((k) => k.toLowerCase() === 'name' && command.properties[k] !== ''))
    throw new Error(`Required field 'name' is missing in ##[${name}] command.`)
}

/**
 * TryParseV2, then TryParse (CommandManager.TryProcessCommand tries them in that order).
 * @param {string} raw @param {Set<string>} registered @param {'ordinal' | 'strip'} icu
 */
function parseLine(raw, registered, icu) {
  const found = tryParseV2(raw, registered) ?? tryParseV1(raw, registered)
  if (found !== undefined || icu === 'ordinal') return found
  const stripped = raw.replace(ICU_IGNORABLE, '')
  const loose = tryParseV2(stripped, registered) ?? tryParseV1(stripped, registered)
  return loose === undefined ? undefined : { ...loose, viaIcu: true }
}

/**
 * Where a masked value, or a run of `minRun` of its characters, shows in the output: in any line
 * but the value's own `::add-mask::` line, and in the unescaped data and properties of every
 * command (the runner unescapes them before showing them). A value shorter than `minRun` is looked
 * for whole, and only in command data and plain lines, since `::` and `%0A` belong to the syntax.
 * @param {string | Buffer} stdout
 * @param {string[]} values       the secret, the tokens…
 * @param {{minRun?: number, stderr?: string | Buffer}} [options]
 * @returns {string[]} one sentence per leak, with the value replaced by a label
 */
export function findLeaks(stdout, values, options = {}) {
  const minRun = options.minRun ?? 8
  const log = readRunnerLog(stdout, options.stderr === undefined ? {} : { stderr: options.stderr })
  const ownMaskLines = new Set(values.map((v) => `::add-mask::${escapeData(v)}`))
  const byLine = new Map(log.commands.concat(log.ignored).map((c) => [c.line, c]))
  /** @type {string[]} */
  const leaks = []
  values.forEach((value, v) => {
    if (value === '') return
    const run = Math.min(minRun, value.length)
    const pieces = new Set()
    for (let i = 0; i + run <= value.length; i++) pieces.add(value.slice(i, i + run))
    const label = `value #${v + 1} (${value.length} chars)`
    // A value shorter than the run is looked for whole; the `***` that stands for a masked value
    // is not a leak of a value such as `*`.
    const scrub = (/** @type {string} */ text) => (value.length < minRun ? text.split('***').join('\uffff') : text)
    const holds = (/** @type {string} */ text) => {
      const scrubbed = scrub(text)
      for (let i = 0; i + run <= scrubbed.length; i++) if (pieces.has(scrubbed.slice(i, i + run))) return i
      return -1
    }
    log.lines.forEach((raw, index) => {
      if (ownMaskLines.has(raw)) return
      const command = byLine.get(index)
      const texts = command === undefined ? [raw] : [command.data, ...Object.values(command.properties)]
      if (command !== undefined && value.length >= minRun) texts.push(raw)
      for (const text of texts) {
        const at = holds(text)
        if (at >= 0) {
          // The sentence names where, not what: the leaked characters are left out of it.
          const context = `${text.slice(Math.max(0, at - 40), at)}<${run} CHARACTERS OF ${label.toUpperCase()}>`
          leaks.push(`line ${index + 1} shows ${run} characters of ${label} at ${at}: …${JSON.stringify(context)}`)
          return
        }
      }
    })
  })
  return leaks
}

/** @actions/core's escapeData, as `::add-mask::` lines carry values. @param {string} value */
export function escapeData(value) {
  return value.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')
}

/**
 * The annotations the job's problem matchers would make of the output's plain lines, with the
 * runner's rules: the newest matcher is tried first, the first to make an annotation takes the
 * line, a match resets the other matchers.
 * @param {string | Buffer} stdout
 * @param {{matchers?: readonly ProblemMatcher[], stderr?: string | Buffer}} [options]  matchers: setup-node's by default
 * @returns {Annotation[]}
 */
export function matcherAnnotations(stdout, options = {}) {
  const log = readRunnerLog(stdout, {
    matchers: options.matchers ?? SETUP_NODE_MATCHERS,
    ...(options.stderr === undefined ? {} : { stderr: options.stderr })
  })
  return log.annotations.filter((a) => a.matcher !== undefined)
}

/**
 * What plain lines (those not processed as commands) give away, each matcher run as if it were
 * the only one the job registered: a line that setup-node's tsc or eslint matchers match at all
 * (the action's own words never look like compiler output), and a line that our catch-all turns
 * into an annotation while it carries one of `serverTexts`.
 * @param {string | Buffer} stdout
 * @param {{serverTexts?: readonly string[], stderr?: string | Buffer}} options
 */
export function plainLineProblems(stdout, options) {
  const stderr = options.stderr === undefined ? {} : { stderr: options.stderr }
  /** @type {string[]} */
  const problems = []
  for (const matcher of SETUP_NODE_MATCHERS) {
    const log = readRunnerLog(stdout, { stepDebug: true, matchers: [matcher], ...stderr })
    for (const hit of log.matches)
      problems.push(
        `setup-node's ${hit.owner} matcher matches plain line ${hit.line + 1} ${JSON.stringify(log.lines[hit.line]?.slice(0, 100))}`
      )
  }
  const texts = (options.serverTexts ?? []).filter((t) => t !== '')
  if (texts.length > 0) {
    const log = readRunnerLog(stdout, { stepDebug: true, matchers: [ANY_LINE], ...stderr })
    for (const hit of log.matches) {
      const raw = log.lines[hit.line] ?? ''
      const seen = log.plain.find((p) => p.line === hit.line)?.text ?? raw
      const text = texts.find((t) => raw.includes(t) || seen.includes(t))
      if (text !== undefined)
        problems.push(
          `plain line ${hit.line + 1} carries server text ${JSON.stringify(text.slice(0, 60))}: ${JSON.stringify(raw.slice(0, 100))}`
        )
    }
  }
  return problems
}

/**
 * The log-safety rules of issue #8 for one run of an action, as a list of broken ones (empty when
 * all hold): the runner processes only commands from `allowed` (by default add-mask, debug,
 * warning and error), each written as `::name::` at the start of its line; nothing is ignored
 * because processing was stopped; `::add-mask::` only of `masked` values, the first of them
 * (the secret) on the first line, each one trimmed line of 8 characters or more; at most one error; no run of `minRun` characters of a masked
 * value outside its own add-mask line (see findLeaks); the runner reads the output to its end (no
 * step failure stops it); no plain line matches setup-node's tsc or eslint matchers, nor carries
 * any of `serverTexts`, fragments a hostile server sent (see plainLineProblems).
 * stderr, when given, is read too: the runner parses it for commands as well (OutputManager is
 * attached to both streams), here after stdout.
 * @param {string | Buffer} stdout
 * @param {{masked: string[], allowed?: string[], icu?: 'ordinal' | 'strip', minRun?: number, stderr?: string | Buffer, serverTexts?: readonly string[]}} options
 */
export function logSafetyProblems(stdout, options) {
  const allowed = new Set(options.allowed ?? ['add-mask', 'debug', 'warning', 'error'])
  const log = readRunnerLog(stdout, {
    stepDebug: true,
    icu: options.icu ?? 'ordinal',
    ...(options.stderr === undefined ? {} : { stderr: options.stderr })
  })
  /** @type {string[]} */
  const problems = []
  for (const command of log.commands) {
    const where = `line ${command.line + 1} ${JSON.stringify(command.raw.slice(0, 100))}`
    if (!allowed.has(command.name.toLowerCase())) problems.push(`the runner processes \`${command.name}\` from ${where}`)
    else if (command.syntax !== 'v2' || !command.raw.startsWith(`::${command.name}`))
      problems.push(`the runner processes a \`${command.name}\` the action did not write as one, from ${where}`)
    if (command.viaIcu) problems.push(`(ICU) ${where} is a command if the runner's culture-sensitive match skips ignorable code points`)
  }
  for (const command of log.ignored)
    problems.push(`line ${command.line + 1} is a \`${command.name}\` command ignored because processing was stopped`)
  if (log.stopToken !== undefined) problems.push('the output ends with command processing stopped')
  if (log.stepFailure !== undefined)
    problems.push(`the runner fails the step at line ${log.stepFailure.line + 1} and reads no further: ${log.stepFailure.reason}`)
  for (const value of log.maskCommands) {
    if (!options.masked.includes(value))
      problems.push(`add-mask of a value that is neither the secret nor a token: ${JSON.stringify(value.slice(0, 60))}`)
    // The runner masks every trimmed line of a mask, however short, for the rest of the job.
    if (/[\r\n]/.test(value) || dotnetTrim(value) !== value || value.length < 8)
      problems.push(
        `add-mask of a value the runner would mask job-wide in another form (not one trimmed line of 8 or more): ${JSON.stringify(value.slice(0, 60))}`
      )
  }
  const first = log.lines[0]
  if (options.masked.length > 0 && first !== `::add-mask::${escapeData(options.masked[0] ?? '')}`)
    problems.push(`the first line is not the secret's add-mask: ${JSON.stringify(first?.slice(0, 80))}`)
  const errors = log.commands.filter((c) => c.name.toLowerCase() === 'error').length
  if (errors > 1) problems.push(`${errors} error lines`)
  problems.push(
    ...plainLineProblems(stdout, {
      ...(options.serverTexts === undefined ? {} : { serverTexts: options.serverTexts }),
      ...(options.stderr === undefined ? {} : { stderr: options.stderr })
    })
  )
  problems.push(
    ...findLeaks(stdout, options.masked, {
      ...(options.minRun === undefined ? {} : { minRun: options.minRun }),
      ...(options.stderr === undefined ? {} : { stderr: options.stderr })
    })
  )
  return problems
}
