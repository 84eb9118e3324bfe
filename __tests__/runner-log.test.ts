/**
 * test-server/runner-log.mjs against actions/runner (read at 258d6c857): each rule the emulation
 * follows, with the runner file it comes from and, where the runner has one, the L0 test whose
 * inputs and expectations are restated here. The action's own output is judged by these rules in
 * log-safety.test.ts and the e2e suites; this file checks the judge.
 */
import { describe, expect, it } from '@jest/globals'
import {
  IssueMatcher,
  logSafetyProblems,
  matcherAnnotations,
  readRunnerLog,
  RunnerSecretMasker,
  runnerLines,
  tryParseV1,
  tryParseV2,
  RUNNER_COMMANDS,
  VALUE_ENCODERS
} from '../test-server/runner-log.mjs'
import { ANY_LINE, ESLINT_COMPACT, ESLINT_STYLISH, SETUP_NODE_MATCHERS, TSC } from '../test-server/problem-matchers.mjs'

describe('the runner emulation (test-server/runner-log.mjs) agrees with actions/runner', () => {
  const names = new Set(['do-something'])
  it('parses as ActionCommandL0.CommandParserTest and CommandParserV2Test expect', () => {
    expect(tryParseV1('##[do-something k1=v1;]msg', names)).toEqual({
      name: 'do-something',
      properties: { k1: 'v1' },
      data: 'msg',
      syntax: 'v1'
    })
    expect(tryParseV1('##[do-something k1=%3B=%0D=%0A=%5D;]%3B-%0D-%0A-%5D', names)?.data).toBe(';-\r-\n-]')
    expect(tryParseV1('##[do-something k1=%253B=%250D=%250A=%255D;]%253B-%250D-%250A-%255D', names)?.properties).toEqual({
      k1: '%3B=%0D=%0A=%5D'
    })
    expect(tryParseV1('##[do-something k1=;k2=;]', names)?.properties).toEqual({})
    expect(tryParseV1('>>>   ##[do-something k1=v1;]msg', names)?.data).toBe('msg')
    expect(tryParseV2('::do-something k1=v1,::msg', names)).toEqual({
      name: 'do-something',
      properties: { k1: 'v1' },
      data: 'msg',
      syntax: 'v2'
    })
    expect(tryParseV2('::do-something k1=;=%2C=%0D=%0A=]=%3A,::;-%0D-%0A-]-:-,', names)).toMatchObject({
      properties: { k1: ';=,=\r=\n=]=:' },
      data: ';-\r-\n-]-:-,'
    })
    expect(tryParseV2('   ::do-something k1=v1,::msg', names)?.data).toBe('msg')
    expect(tryParseV2('   >>>   ::do-something k1=v1,::msg', names)).toBeUndefined()
  })

  it('splits lines at \\n, \\r and \\r\\n (StreamReader.ReadLine), not at U+0085 or U+2028', () => {
    expect(runnerLines('a\r\nb\rc\n\nd\u0085e\u2028f\n')).toEqual(['a', 'b', 'c', '', 'd\u0085e\u2028f'])
  })

  it('trims with .NET whitespace: a line starting with U+0085 is a command', () => {
    expect(readRunnerLog('\u0085::stop-commands::abcdefgh').commands.map((c) => c.name)).toEqual(['stop-commands'])
    expect(readRunnerLog('\u00ad::stop-commands::abcdefgh', { icu: 'strip' }).commands[0]?.viaIcu).toBe(true)
  })

  it('masks whole values and each line of a multi-line value, never a part of a line', () => {
    const log = readRunnerLog(['::add-mask::first line%0A  second  ', 'first line / second / first'].join('\n'))
    expect(log.displayed).toEqual(['*** / *** / first'])
  })

  it('knows every command the runner registers', () => {
    expect(RUNNER_COMMANDS).toContain('stop-commands')
    expect(RUNNER_COMMANDS).toContain('add-mask')
  })
})
describe('a byte-order mark (ProcessInvoker: .NET StreamReader detects it at the start of the stream)', () => {
  // The runner has no L0 test of this: it leaves the decoding to .NET (NodeScriptActionHandler
  // passes outputEncoding null on Linux), whose Process.StandardOutput consumes a leading BOM.
  it('is dropped at the very start of a stream, so `\\uFEFF::cmd::x` on the first line runs', () => {
    expect(runnerLines('\ufeff::warning::x\nnext')).toEqual(['::warning::x', 'next'])
    expect(runnerLines(Buffer.from([0xef, 0xbb, 0xbf, 0x61]))).toEqual(['a'])
    expect(readRunnerLog('\ufeff::stop-commands::abcdefgh').commands.map((c) => c.name)).toEqual(['stop-commands'])
    expect(readRunnerLog('', { stderr: '\ufeff::warning::from stderr' }).annotations).toEqual([
      { type: 'warning', line: 0, message: 'from stderr' }
    ])
  })

  it('only there: one later in the output, or a second one, stays, and TrimStart does not take it', () => {
    expect(runnerLines('\ufeff\ufeffa')).toEqual(['\ufeffa'])
    const log = readRunnerLog('plain\n\ufeff::warning::x')
    expect(log.commands).toEqual([])
    expect(log.displayed).toEqual(['plain', '\ufeff::warning::x'])
  })
})

describe('stop-commands (ActionCommandManager.ValidateStopToken, TryProcessCommand)', () => {
  it.each([
    ['an empty token', '::stop-commands::'],
    ['pause-logging', '::stop-commands::Pause-Logging'],
    ["a registered command's name", '::stop-commands::set-env'],
    ['stop-commands itself', '::stop-commands::stop-commands']
  ])('%s fails the step there and nothing after it is read (L0 StopProcessCommand__FailOnInvalidStopTokens)', (_label, line) => {
    const log = readRunnerLog(['::warning::before', line, '::warning::after', 'plain after'].join('\n'))
    expect(log.stepFailure).toEqual({ line: 1, reason: expect.stringContaining("the string 'pause-logging'") })
    expect(log.commands.map((c) => c.name)).toEqual(['warning', 'stop-commands'])
    expect(log.annotations.map((a) => a.message)).toEqual(['before'])
    expect(log.displayed).toEqual(['##[warning]before'])
    expect(log.lines).toHaveLength(4)
    expect(logSafetyProblems(['::add-mask::s3cret-value', line, '::warning::after'].join('\n'), { masked: ['s3cret-value'] })).toContain(
      'the runner fails the step at line 2 and reads no further: ' + String(log.stepFailure?.reason)
    )
  })

  it('a step failure on stdout ends the reading of stderr too', () => {
    const log = readRunnerLog('::stop-commands::', { stderr: '::warning::never read' })
    expect(log.stepFailure?.line).toBe(0)
    expect(log.annotations).toEqual([])
  })

  it('stops and resumes as L0 StopProcessCommand and StopProcessCommandAcceptsValidToken expect', () => {
    const log = readRunnerLog(
      ['##[stop-commands]stopToken', '##[set-env name=foo]bar', '##[stopToken]', '##[set-env name=foo]bar', 'stopToken'].join('\n')
    )
    expect(log.commands.map((c) => c.name)).toEqual(['stop-commands', 'stopToken', 'set-env'])
    expect(log.ignored.map((c) => c.name)).toEqual(['set-env'])
    expect(log.stepFailure).toBeUndefined()
  })

  it('masks a token longer than 6 characters for the rest of the run (L0 StopProcessCommandMasksValidTokenForEntireRun)', () => {
    const log = readRunnerLog(['::stop-commands::randomToken', 'randomToken', '::randomToken::', 'later randomToken'].join('\n'))
    expect(log.displayed).toEqual(['::stop-commands::***', '***', '::***::', 'later ***'])
    // Six characters or fewer: not masked.
    expect(readRunnerLog(['::stop-commands::abcdef', 'abcdef', '::abcdef::'].join('\n')).displayed).toEqual([
      '::stop-commands::abcdef',
      'abcdef',
      '::abcdef::'
    ])
  })
})

describe('add-mask (AddMaskCommandExtension)', () => {
  it('masks each line of a multi-line value on its own, trimmed, however short (L0 AddMaskWithMultilineValue)', () => {
    const log = readRunnerLog(
      ['::add-mask::abc%0Ddef%0Aghi%0D%0Ajkl', '::add-mask:: %0D  %0A   %0D%0A    %0D', 'abc def ghi jkl', '    ', 'ab e'].join('\n')
    )
    expect(log.displayed).toEqual([
      "##[warning]Can't add secret mask for empty string in ##[add-mask] command.",
      '*** *** *** ***',
      '    ',
      'ab e'
    ])
    // issue 13: a refresh token "e" + 7 spaces, an ID token "ab" + line feeds.
    const padded = readRunnerLog(['::add-mask::e       ', '::add-mask::ab%0A%0A%0A', 'ab e, e.g. a label'].join('\n'))
    // Adjacent masks merge into one `***` (MaskSecrets: a start at the end of the last one overlaps).
    expect(padded.displayed).toEqual(['*** ***, ***.g. a l***l'])
  })

  it('trims with .NET whitespace (TrimEntries): U+0085 is trimmed, U+FEFF is not', () => {
    const log = readRunnerLog(['::add-mask::\u0085abcd\u0085%0A\ufeffwxyz', 'abcd wxyz \ufeffwxyz'].join('\n'))
    expect(log.displayed).toEqual(['*** wxyz ***'])
    expect(readRunnerLog('::add-mask::\u0085 ').annotations.map((a) => a.type)).toEqual(['warning'])
  })
})

describe('the value encoders HostContext registers (ValueEncoders.cs)', () => {
  it('are the eleven of HostContext, in its order', () => {
    expect(VALUE_ENCODERS.map(([name]) => name)).toEqual([
      'Base64StringEscape',
      'Base64StringEscapeShift1',
      'Base64StringEscapeShift2',
      'CommandLineArgumentEscape',
      'ExpressionStringEscape',
      'JsonStringEscape',
      'UriDataEscape',
      'XmlDataEscape',
      'TrimDoubleQuotes',
      'PowerShellPreAmpersandEscape',
      'PowerShellPostAmpersandEscape'
    ])
  })

  it('mask as HostContextL0.DefaultSecretMaskers expects', () => {
    const masker = new RunnerSecretMasker()
    for (const value of [
      'Password123!',
      'Pass"word"123!',
      'Pass word 123!',
      'Pass<word>123!',
      "Pass'word'123!",
      '"Password123!!"',
      '"short"'
    ])
      masker.addValue(value)
    const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64')
    expect(masker.mask('123Password123!123')).toBe('123***123')
    expect(masker.mask('password123')).toBe('password123')
    expect(masker.mask('123Pass\\"word\\"123!123')).toBe('123***123')
    expect(masker.mask('123Pass%20word%20123%21123')).toBe('123***123')
    expect(masker.mask('123Pass&lt;word&gt;123!123')).toBe('123***123')
    expect(masker.mask("123Pass''word''123!123")).toBe('123***123')
    expect(masker.mask(b64(':Password123!'))).toBe('OlBh***')
    expect(masker.mask(b64('a:Password123!'))).toBe('YTpQ***')
    expect(masker.mask(b64('ab:Password123!'))).toBe('YWI6***')
    expect(masker.mask(b64('abc:Password123!'))).toBe('YWJjOlBh***')
    expect(masker.mask(b64('abcd:Password123!'))).toBe('YWJjZDpQ***')
    expect(masker.mask(b64('abcde:Password123!'))).toBe('YWJjZGU6***')
    expect(masker.mask('123Password123!!123')).toBe('123***123')
    expect(masker.mask('123short123')).toBe('123short123')
    expect(masker.mask('123"short"123')).toBe('123***123')
  })

  it.each([
    ['secret&secret&secret', 'secret&secret&\u001b[96msecret\u001b[0m', '***\u001b[96m***\u001b[0m'],
    ['secret&secret&+secretsecret', 'secret&secret&+\u001b[96ms\u001b[0mecretsecret', '***\u001b[96ms\u001b[0m***'],
    ['secret&+secret&+secret', 'secret&+\u001b[96ms\u001b[0mecret&+secret', '***\u001b[96ms\u001b[0m***']
  ])(
    'mask the parts of %j around an ampersand, as HostContextL0.SecretSectionMasking expects (colour codes as ESC)',
    (secret, output, masked) => {
      const masker = new RunnerSecretMasker()
      masker.addValue(secret)
      expect(masker.mask(output)).toBe(masked)
    }
  )

  it('give each form of a value with every character they escape (computed by hand)', () => {
    const value = 'a"b\'c<d>&e\\f\tg/h é\u2028'
    const forms = Object.fromEntries(VALUE_ENCODERS.map(([name, encode]) => [name, encode(value)]))
    expect(forms).toEqual({
      // UTF-8: 61 22 62 27 63 3c 64 3e 26 65 5c 66 09 67 2f 68 20 c3 a9 e2 80 a8
      Base64StringEscape: 'YSJiJ2M8ZD4mZVxmCWcvaCDDqeKAqA==',
      Base64StringEscapeShift1: 'ImInYzxkPiZlXGYJZy9oIMOp4oCo',
      Base64StringEscapeShift2: 'YidjPGQ+JmVcZglnL2ggw6nigKg=',
      CommandLineArgumentEscape: 'a\\"b\'c<d>&e\\f\tg/h é\u2028',
      ExpressionStringEscape: "a\"b''c<d>&e\\f\tg/h é\u2028",
      JsonStringEscape: 'a\\"b\'c<d>&e\\\\f\\tg/h é\\u2028',
      UriDataEscape: 'a%22b%27c%3Cd%3E%26e%5Cf%09g%2Fh%20%C3%A9%E2%80%A8',
      XmlDataEscape: 'a&quot;b&apos;c&lt;d&gt;&amp;e\\f\tg/h é\u2028',
      TrimDoubleQuotes: '',
      PowerShellPreAmpersandEscape: 'a"b\'c<d>&',
      PowerShellPostAmpersandEscape: 'e\\f\tg/h é\u2028'
    })
    const masker = new RunnerSecretMasker()
    masker.addValue(value)
    for (const form of Object.values(forms).filter((f) => f !== '')) expect(masker.mask(`<${form}>`)).toBe('<***>')
  })

  it('encode the value added, not again an encoding of it; a value that was only an encoding gets its own when added', () => {
    const masker = new RunnerSecretMasker()
    masker.addValue('abc')
    expect(masker.mask('YWJj WVdKag==')).toBe('*** WVdKag==')
    masker.addValue('YWJj')
    expect(masker.mask('YWJj WVdKag==')).toBe('*** ***')
  })
})

describe('set-env and add-path (SetEnvCommandExtension, AddPathCommandExtension)', () => {
  it('are refused without ACTIONS_ALLOW_UNSECURE_COMMANDS: two errors, the step fails, reading goes on', () => {
    const log = readRunnerLog(['::set-env name=A::b', '::add-path::/tmp/x', '::warning::after'].join('\n'))
    expect(log.commands.map((c) => c.failsStep)).toEqual([
      expect.stringContaining('The `set-env` command is disabled.'),
      expect.stringContaining('The `add-path` command is disabled.'),
      undefined
    ])
    expect(log.annotations.map((a) => a.message)).toEqual([
      "Unable to process command '::set-env name=A::b' successfully.",
      expect.stringContaining('ACTIONS_ALLOW_UNSECURE_COMMANDS'),
      "Unable to process command '::add-path::/tmp/x' successfully.",
      expect.stringContaining('ACTIONS_ALLOW_UNSECURE_COMMANDS'),
      'after'
    ])
    expect(log.stepFailure).toBeUndefined()
  })

  it('are processed with it', () => {
    const log = readRunnerLog(['::set-env name=A::b', '::add-path::/tmp/x'].join('\n'), { allowUnsecureCommands: true })
    expect(log.commands.map((c) => c.failsStep)).toEqual([undefined, undefined])
    expect(log.annotations).toEqual([])
  })
})

describe('problem matchers (OutputManager.OnDataReceived, IssueMatcher.cs)', () => {
  it('see only lines that are not commands (OutputManagerL0.MatcherDoesNotReceiveCommand)', () => {
    const mine = { owner: 'my-matcher', patterns: [{ regexp: 'ERROR: (.+)', groups: { message: 1 } }] }
    const output = [
      'this line is an ERROR: it is broken',
      '##[warning]this line is a command even though it contains ERROR: not working',
      'this line is a command too ##[warning]even though it contains ERROR: not working again',
      '##[not-command]this line is an ERROR: it is broken again'
    ].join('\n')
    expect(matcherAnnotations(output, { matchers: [mine] }).map((a) => a.message)).toEqual(['it is broken', 'it is broken again'])
  })

  it('match after stripping the runner\'s colour codes, NUL "33[" (OutputManagerL0.MatcherRemoveColorCodes)', () => {
    const mine = { owner: 'my-matcher', patterns: [{ regexp: '^the error: (.+)$', groups: { message: 1 } }] }
    const log = readRunnerLog('the error: \u000033[31mred, \u000033[1;31mbright red, \u000033[mreset', { matchers: [mine] })
    expect(log.annotations.map((a) => a.message)).toEqual(['red, bright red, reset'])
    expect(log.displayed).toEqual(['##[error]the error: red, bright red, reset'])
  })

  it('accumulate a multi-line match with a loop (IssueMatcherL0.Matcher_MultiplePatterns_Loop_AccumulatesStatePerLine)', () => {
    const matcher = new IssueMatcher({
      owner: 'myMatcher',
      patterns: [
        { regexp: '^(.+)$', groups: { file: 1 } },
        { regexp: '^(.+)$', groups: { code: 1 } },
        { regexp: '^message:(.+)$', groups: { message: 1 }, loop: true }
      ]
    })
    expect(matcher.match('file1')).toBeUndefined()
    expect(matcher.match('code1')).toBeUndefined()
    expect(matcher.match('message:message1')).toMatchObject({ file: 'file1', code: 'code1', message: 'message1' })
    expect(matcher.match('message:message1-2')).toMatchObject({ file: 'file1', code: 'code1', message: 'message1-2' })
    matcher.match('abc')
    expect(matcher.match('file2')).toBeUndefined()
    expect(matcher.match('code2')).toBeUndefined()
    expect(matcher.match('message:message2')).toMatchObject({ file: 'file2', code: 'code2', message: 'message2' })
  })

  it('drop a blank message and a severity the runner does not know (ConvertToIssue); none means error', () => {
    const log = readRunnerLog(['a.ts(1,2): info TS1: note', 'b.ts(3,4): error TS2304: real', 'c.ts(5,6): warning TS7:   '].join('\n'), {
      matchers: [TSC]
    })
    expect(log.matches.map((m) => [m.line, m.annotation?.type])).toEqual([
      [0, undefined],
      [1, 'error'],
      [2, undefined]
    ])
    expect(log.annotations).toEqual([
      { type: 'error', message: 'real', line: 1, matcher: 'tsc', data: { file: 'b.ts', line: '3', col: '4', code: '2304' } }
    ])
    const defaulted = readRunnerLog('x: y', {
      matchers: [{ owner: 'o', patterns: [{ regexp: '^(\\w+): (\\w+)$', groups: { message: 2 } }] }]
    })
    expect(defaulted.annotations[0]?.type).toBe('error')
  })

  it('read .NET ECMAScript-mode \\s and .: U+00A0 is not \\s there, U+2028 is matched by .', () => {
    expect(matcherAnnotations('x(1,2):\u00a0error TS1: m', { matchers: [TSC] })).toEqual([])
    expect(matcherAnnotations('x(1,2): error TS1: m\u2028n', { matchers: [TSC] }).map((a) => a.message)).toEqual(['m\u2028n'])
  })

  it("restate setup-node's tsc, eslint-stylish and eslint-compact matchers, registered in its order", () => {
    expect(SETUP_NODE_MATCHERS.map((m) => m.owner)).toEqual(['tsc', 'eslint-stylish', 'eslint-compact'])
    expect(matcherAnnotations("src/a.ts(12,5): error TS2304: Cannot find name 'x'.")).toEqual([
      {
        type: 'error',
        message: "Cannot find name 'x'.",
        line: 0,
        matcher: 'tsc',
        data: { file: 'src/a.ts', line: '12', col: '5', code: '2304' }
      }
    ])
    expect(matcherAnnotations('src/a.ts:12:5 - warning TS6133: unused', { matchers: [TSC] })[0]?.type).toBe('warning')
    expect(
      matcherAnnotations(
        ['/src/a.js', '  1:10  error  Missing semicolon  semi', '  2:1   warning  Unexpected console  no-console'].join('\n'),
        {
          matchers: [ESLINT_STYLISH]
        }
      ).map((a) => [a.type, a.message, a.data])
    ).toEqual([
      ['error', 'Missing semicolon', { file: '/src/a.js', line: '1', col: '10', code: 'semi' }],
      ['warning', 'Unexpected console', { file: '/src/a.js', line: '2', col: '1', code: 'no-console' }]
    ])
    expect(
      matcherAnnotations('/src/a.js: line 3, col 7, Error - Missing semicolon. (semi)', { matchers: [ESLINT_COMPACT] }).map(
        (a) => a.message
      )
    ).toEqual(['Missing semicolon.'])
  })

  it('the newest registered is tried first and takes the line (OutputManager.OnMatcherChanged prepends)', () => {
    const line = 'src/a.ts(1,2): error TS2304: x'
    expect(matcherAnnotations(line, { matchers: [TSC, ANY_LINE] }).map((a) => a.matcher)).toEqual(['any-line'])
    expect(matcherAnnotations(line, { matchers: [ANY_LINE, TSC] }).map((a) => a.matcher)).toEqual(['tsc'])
  })

  it('annotations are masked (Context.AddIssue)', () => {
    expect(matcherAnnotations('::add-mask::hunter22\nx(1,2): error TS1: pw hunter22').map((a) => a.message)).toEqual(['pw ***'])
  })
})

describe('logSafetyProblems: no plain line carries server text or looks like compiler output', () => {
  const SECRET = 'fake-secret-for-matchers'
  const out = (...lines: string[]) => [`::add-mask::${SECRET}`, ...lines].join('\n')

  it('flags a plain line that a tsc matcher matches, not the same text in a ::debug:: command', () => {
    const evil = 'x(1,2): error TS2304: session expired, sign in at https://evil.example/login'
    expect(logSafetyProblems(out(`Server answered HTTP 404: ${evil}`), { masked: [SECRET] })).toEqual([
      `setup-node's tsc matcher matches plain line 2 ${JSON.stringify(`Server answered HTTP 404: ${evil}`.slice(0, 100))}`
    ])
    expect(logSafetyProblems(out(`::debug::answered HTTP 404: ${evil}`), { masked: [SECRET] })).toEqual([])
    expect(logSafetyProblems(out(`::warning::answered HTTP 404: ${evil}`), { masked: [SECRET] })).toEqual([])
  })

  it('flags eslint-shaped plain lines, stylish (two lines) and compact', () => {
    expect(logSafetyProblems(out('/a.js', '  1:1  error  evil text  rule'), { masked: [SECRET] })).toEqual([
      `setup-node's eslint-stylish matcher matches plain line 3 "  1:1  error  evil text  rule"`
    ])
    expect(logSafetyProblems(out('f: line 1, col 2, Error - evil (r)'), { masked: [SECRET] })).toEqual([
      `setup-node's eslint-compact matcher matches plain line 2 "f: line 1, col 2, Error - evil (r)"`
    ])
  })

  it('with serverTexts, flags a plain line that carries one, and not a command line that does', () => {
    const lines = out(
      'v2 answered HTTP 404: sign in at evil.example; trying api-version v1.',
      '::error::Run:ai said: sign in at evil.example'
    )
    expect(logSafetyProblems(lines, { masked: [SECRET], serverTexts: ['sign in at evil.example'] })).toEqual([
      'plain line 2 carries server text "sign in at evil.example": "v2 answered HTTP 404: sign in at evil.example; trying api-version v1."'
    ])
    expect(logSafetyProblems(lines, { masked: [SECRET] })).toEqual([])
    expect(logSafetyProblems(lines, { masked: [SECRET], serverTexts: ['not there'] })).toEqual([])
  })

  it('counts a command ignored while stopped, and stderr, as plain lines', () => {
    const problems = logSafetyProblems(out('::stop-commands::abcdefgh', '::warning::evil text', '::abcdefgh::'), {
      masked: [SECRET],
      serverTexts: ['evil text'],
      stderr: 'stderr evil text'
    })
    expect(problems).toContain('plain line 3 carries server text "evil text": "::warning::evil text"')
    expect(problems).toContain('plain line 5 carries server text "evil text": "stderr evil text"')
  })
})
