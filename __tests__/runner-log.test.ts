/**
 * test-server/runner-log.mjs against actions/runner (read at 258d6c857): each rule the emulation
 * follows, with the runner file it comes from and, where the runner has one, the L0 test whose
 * inputs and expectations are restated here. The action's own output is judged by these rules in
 * log-safety.test.ts and the e2e suites; this file checks the judge.
 */
import { describe, expect, it } from '@jest/globals'
import { readRunnerLog, runnerLines, tryParseV1, tryParseV2, RUNNER_COMMANDS } from '../test-server/runner-log.mjs'

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

  it('stops and resumes as ActionCommandManagerL0.StopProcessCommand expects, masking a long stop token', () => {
    const log = readRunnerLog(
      ['##[stop-commands]stopToken', '##[set-env name=foo]bar', '##[stopToken]', '##[set-env name=foo]bar', 'stopToken'].join('\n')
    )
    expect(log.commands.map((c) => c.name)).toEqual(['stop-commands', 'stopToken', 'set-env'])
    expect(log.ignored.map((c) => c.name)).toEqual(['set-env'])
    expect(log.displayed.at(-1)).toBe('***')
  })

  it('splits lines at \\n, \\r and \\r\\n (StreamReader.ReadLine), not at U+0085 or U+2028', () => {
    expect(runnerLines('a\r\nb\rc\n\nd\u0085e\u2028f\n')).toEqual(['a', 'b', 'c', '', 'd\u0085e\u2028f'])
  })

  it('trims with .NET whitespace: a line starting with U+0085 is a command, one starting with U+FEFF is not', () => {
    expect(readRunnerLog('\u0085::stop-commands::abcdefgh').commands.map((c) => c.name)).toEqual(['stop-commands'])
    expect(readRunnerLog('\ufeff::stop-commands::abcdefgh').commands).toEqual([])
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
