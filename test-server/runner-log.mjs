// What a GitHub runner makes of an action's stdout: which lines it processes as workflow commands,
// which values it masks, and what the log then shows. Emulates actions/runner (read at commit
// 258d6c857, Nov 2025); every rule below names the runner file and function it comes from.
// Shared by the log-safety tests, the snapshot tests, scripts and the e2e workflow. Plain Node.
//
// Files of actions/runner referred to:
//   ProcessInvoker  src/Runner.Sdk/ProcessInvoker.cs            StartReadStream
//   OutputManager   src/Runner.Worker/Handlers/OutputManager.cs OnDataReceived
//   CommandManager  src/Runner.Worker/ActionCommandManager.cs   TryProcessCommand and the *CommandExtension classes
//   ActionCommand   src/Runner.Common/ActionCommand.cs          TryParseV2, TryParse, Unescape*
//   SecretMasker    src/Sdk/DTLogging/Logging/SecretMasker.cs, ValueSecret.cs, ValueEncoders.cs
//   HostContext     src/Runner.Common/HostContext.cs            the value encoders registered
//   Context         src/Runner.Worker/ExecutionContext.cs       Write, AddIssue, Debug
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
// - Problem matchers (add-matcher) are not run; issue messages are not cut at 4096 characters
//   (Context.AddIssue does that after masking, which changes nothing about leaks).

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
 * @property {string} [failsStep] why the runner fails the step on this command (it throws in ProcessCommand)
 */

/**
 * @typedef {object} RunnerLog
 * @property {string[]} lines        the lines as the runner reads them (ProcessInvoker)
 * @property {RunnerCommand[]} commands   every command the runner processed, in order (resume tokens included)
 * @property {RunnerCommand[]} ignored    commands parsed while processing was stopped: printed as plain lines
 * @property {string[]} masks        values registered with the secret masker, derived encodings included
 * @property {string[]} maskCommands the data of each processed add-mask command
 * @property {{type: 'error' | 'warning' | 'notice', message: string}[]} annotations  masked
 * @property {string[]} displayed    the log as shown, each line masked with the values known at the time
 * @property {string | undefined} stopToken  set when the output ended with command processing stopped
 */

/**
 * Splits output into lines as .NET's StreamReader.ReadLine does (ProcessInvoker.StartReadStream
 * loops `reader.ReadLine()` until EndOfStream): a line ends at "\n", at "\r", or at "\r\n"; a
 * terminator at the very end does not start another line. U+0085, U+2028 and U+2029 do not end a
 * line. Undecodable bytes become U+FFFD (UTF-8 decoding, as Node encodes lone surrogates too).
 * @param {string | Buffer} output
 * @returns {string[]}
 */
export function runnerLines(output) {
  const text = typeof output === 'string' ? Buffer.from(output, 'utf8').toString('utf8') : output.toString('utf8')
  if (text === '') return []
  const lines = text.split(/\r\n|\r|\n/)
  if (/[\r\n]$/.test(text)) lines.pop()
  return lines
}

// .NET's Char.IsWhiteSpace, which String.TrimStart() uses: unlike JavaScript's \s it includes
// U+0085 (NEXT LINE) and excludes U+FEFF.
const DOTNET_LEADING_WHITESPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/

/** String.TrimStart() of .NET. @param {string} text */
export function dotnetTrimStart(text) {
  return text.replace(DOTNET_LEADING_WHITESPACE, '')
}

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
          info
            .slice(space + 1)
            .trim()
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

// ValueEncoders.*, registered in HostContext's constructor: each masked value is also masked in
// these forms. (ExpressionStringEscape doubles single quotes; the PowerShell ones take the parts
// around `&`.)
/** @type {((value: string) => string)[]} */
const VALUE_ENCODERS = [
  (v) => Buffer.from(v, 'utf8').toString('base64'),
  (v) => base64Shift(v, 1),
  (v) => base64Shift(v, 2),
  (v) => v.replace(/"/g, '\\"'),
  (v) => v.replace(/'/g, "''"),
  (v) =>
    JSON.stringify(v)
      .slice(1, -1)
      .replace(/[\u0085\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
  (v) => uriDataEscape(v),
  (v) => v.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c),
  (v) => (v.length > 8 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : ''),
  (v) => ampersandSection(v, 'pre'),
  (v) => ampersandSection(v, 'post')
]

/** @param {string} value @param {number} shift */
function base64Shift(value, shift) {
  const bytes = Buffer.from(value, 'utf8')
  return (bytes.length > shift ? bytes.subarray(shift) : bytes).toString('base64')
}

/** Uri.EscapeDataString: everything but RFC 3986 unreserved characters is percent-encoded. @param {string} value */
function uriDataEscape(value) {
  return Array.from(Buffer.from(value, 'utf8'))
    .map((b) =>
      /[A-Za-z0-9\-._~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`
    )
    .join('')
}

/** @param {string} value @param {'pre' | 'post'} side */
function ampersandSection(value, side) {
  if (!value.includes('&')) return ''
  let section
  if (value.includes('&+')) {
    const at = value.indexOf('&+') + 2
    section = side === 'pre' ? value.slice(0, at) : value.length > at + 1 ? value.slice(at + 1) : ''
  } else {
    const at = value.lastIndexOf('&') + 1
    section = side === 'pre' ? value.slice(0, at) : value.slice(at)
  }
  return section.length >= 6 ? section : ''
}

/**
 * The runner's secret masker (SecretMasker.AddValue/MaskSecrets): every occurrence of every
 * registered value, found ordinally and overlapping ones merged, becomes `***`. Whole values only:
 * a part of a secret is not masked unless it was registered on its own.
 */
export class RunnerSecretMasker {
  /** @type {Set<string>} */
  #values = new Set()

  /** SecretMasker.AddValue: the value and each encoding of it. @param {string} value */
  addValue(value) {
    if (value === '' || this.#values.has(value)) return
    this.#values.add(value)
    for (const encode of VALUE_ENCODERS) {
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

/**
 * Reads an action's output as the runner does and says what it did with each line.
 * @param {string | Buffer} stdout
 * @param {{stderr?: string | Buffer, stepDebug?: boolean, icu?: 'ordinal' | 'strip', allowUnsecureCommands?: boolean}} [options]
 *   stepDebug: ACTIONS_STEP_DEBUG (debug lines are shown); icu: see the top of this file;
 *   allowUnsecureCommands: ACTIONS_ALLOW_UNSECURE_COMMANDS (set-env and add-path are processed)
 * @returns {RunnerLog}
 */
export function readRunnerLog(stdout, options = {}) {
  const lines = [...runnerLines(stdout), ...(options.stderr === undefined ? [] : runnerLines(options.stderr))]
  const registered = new Set(RUNNER_COMMANDS)
  const masker = new RunnerSecretMasker()
  /** @type {RunnerLog} */
  const log = { lines, commands: [], ignored: [], masks: [], maskCommands: [], annotations: [], displayed: [], stopToken: undefined }
  let echo = false
  const show = (/** @type {string} */ text) => log.displayed.push(masker.mask(text))

  lines.forEach((raw, index) => {
    // OutputManager.OnDataReceived: only lines holding `##[` or `::` go to the command manager.
    const parsed = raw.includes('##[') || raw.includes('::') ? parseLine(raw, registered, options.icu ?? 'ordinal') : undefined
    if (parsed !== undefined) {
      /** @type {RunnerCommand} */
      const command = { ...parsed, line: index, raw }
      const name = command.name.toLowerCase()
      // CommandManager.TryProcessCommand, in its lock:
      if (log.stopToken !== undefined) {
        if (name === log.stopToken.toLowerCase()) {
          // The resume token: processing starts again, the token is a command no more.
          registered.delete(log.stopToken.toLowerCase())
          log.stopToken = undefined
          log.commands.push(command)
          show(raw)
          return
        }
        // Stopped: TryProcessCommand returns false and the line is printed as it is.
        log.ignored.push(command)
      } else if (name === 'stop-commands') {
        // ValidateStopToken: an empty token, `pause-logging` or a command name makes the runner
        // throw (the step fails) unless ACTIONS_ALLOW_UNSECURE_STOPCOMMAND_TOKENS is set.
        if (command.data === '' || command.data.toLowerCase() === 'pause-logging' || registered.has(command.data.toLowerCase())) {
          command.failsStep = 'invalid stop-commands token'
          log.commands.push(command)
          return
        }
        log.stopToken = command.data
        registered.add(command.data.toLowerCase())
        if (command.data.length > 6) masker.addValue(command.data)
        log.commands.push(command)
        show(raw)
        return
      } else {
        log.commands.push(command)
        processCommand(command, name)
        return
      }
    }
    // OutputManager: runner-controlled markers are defused, then the line is regular output.
    show(raw.replace(/##\[start-action/g, '##[\\start-action').replace(/##\[end-action/g, '##[\\end-action'))
  })
  log.masks = masker.values
  return log

  /** The *CommandExtension.ProcessCommand of each command. @param {RunnerCommand} command @param {string} name */
  function processCommand(command, name) {
    // IActionCommandExtension.OmitEcho is false for these: with `::echo::on` the line is shown.
    const omitEcho = ['add-mask', 'debug', 'error', 'warning', 'notice'].includes(name)
    if (echo && !omitEcho) show(command.raw)
    switch (name) {
      case 'add-mask':
        // AddMaskCommandExtension: the whole value, and each line of it, trimmed, on its own.
        if (command.data.trim() === '') {
          annotate('warning', "Can't add secret mask for empty string in ##[add-mask] command.")
          break
        }
        if (echo) show('::add-mask::***')
        log.maskCommands.push(command.data)
        masker.addValue(command.data)
        for (const piece of command.data.split(/[\r\n]/)) if (piece.trim() !== '') masker.addValue(piece.trim())
        break
      case 'debug':
        // Context.Debug: one `##[debug]` line per line of the data, shown only with step debug on.
        if (options.stepDebug) for (const part of command.data.replace(/\r\n/g, '\n').split('\n')) show(`##[debug]${part}`)
        break
      case 'error':
      case 'warning':
      case 'notice':
        annotate(name, command.data)
        break
      case 'group':
        show(`##[group]${command.data}`)
        break
      case 'endgroup':
        show('##[endgroup]')
        break
      case 'echo': {
        const value = command.data.trim().toUpperCase()
        if (value === 'ON') echo = true
        else if (value === 'OFF') echo = false
        else command.failsStep = 'invalid echo value'
        break
      }
      case 'set-env':
      case 'add-path':
        if (!options.allowUnsecureCommands) command.failsStep = `the ${name} command is disabled`
        break
      case 'set-output':
      case 'save-state':
        if (!Object.keys(command.properties).some((k) => k.toLowerCase() === 'name' && command.properties[k] !== ''))
          command.failsStep = "required field 'name' is missing"
        break
      default:
        break
    }
  }

  /** Context.AddIssue masks the message; the log shows it with its tag. @param {'error' | 'warning' | 'notice'} type @param {string} message */
  function annotate(type, message) {
    const masked = masker.mask(message)
    log.annotations.push({ type, message: masked })
    log.displayed.push(`##[${type}]${masked}`)
  }
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
 * The log-safety rules of issue #8 for one run of an action, as a list of broken ones (empty when
 * all hold): the runner processes only commands from `allowed` (by default add-mask, debug,
 * warning and error), each written as `::name::` at the start of its line; nothing is ignored
 * because processing was stopped; `::add-mask::` only of `masked` values, the first of them
 * (the secret) on the first line; at most one error; no run of `minRun` characters of a masked
 * value outside its own add-mask line (see findLeaks).
 * stderr, when given, is read too: the runner parses it for commands as well (OutputManager is
 * attached to both streams), here after stdout.
 * @param {string | Buffer} stdout
 * @param {{masked: string[], allowed?: string[], icu?: 'ordinal' | 'strip', minRun?: number, stderr?: string | Buffer}} options
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
  for (const value of log.maskCommands) {
    if (!options.masked.includes(value))
      problems.push(`add-mask of a value that is neither the secret nor a token: ${JSON.stringify(value.slice(0, 60))}`)
  }
  const first = log.lines[0]
  if (options.masked.length > 0 && first !== `::add-mask::${escapeData(options.masked[0] ?? '')}`)
    problems.push(`the first line is not the secret's add-mask: ${JSON.stringify(first?.slice(0, 80))}`)
  const errors = log.commands.filter((c) => c.name.toLowerCase() === 'error').length
  if (errors > 1) problems.push(`${errors} error lines`)
  problems.push(
    ...findLeaks(stdout, options.masked, {
      ...(options.minRun === undefined ? {} : { minRun: options.minRun }),
      ...(options.stderr === undefined ? {} : { stderr: options.stderr })
    })
  )
  return problems
}
