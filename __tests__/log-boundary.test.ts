import { describe, expect, it } from '@jest/globals'
import { clip, encodings, INVISIBLE, LogBoundary, neutralise, printableLine, redact, sentence, untrusted } from '../src/log-boundary.js'

const SECRET = 'fake-secret-0123456789-abcdef'

describe('redact', () => {
  it('hides a masked value wherever it stands whole', () => {
    expect(redact(`a ${SECRET} b ${SECRET}`, [SECRET])).toBe('a *** b ***')
  })

  it('hides every run of 8 or more of its characters: the runner masks only whole values', () => {
    expect(redact(`echo: ${SECRET.slice(3, 11)} and ${SECRET.slice(0, 7)}`, [SECRET])).toBe(`echo: *** and ${SECRET.slice(0, 7)}`)
    expect(redact(`${SECRET.slice(0, 12)}|${SECRET.slice(10)}`, [SECRET])).toBe('***|***')
  })

  it('hides a value shorter than 8 characters only where it stands whole', () => {
    expect(redact('pw=abc; abcd', ['abc'])).toBe('pw=***; ***d')
  })

  it('ignores empty values', () => {
    expect(redact('text', ['', SECRET])).toBe('text')
  })

  it("hides a value holding the boundary's own marker characters, as untrusted text carries it", () => {
    const marked = 'secret-\uE000-with-marker'
    expect(printableLine(`said ${untrusted(marked)}`, [marked])).toBe('said ***')
  })
})

describe('redact, against what a hostile server makes of a value', () => {
  it('hides a run of the secret whatever its ASCII case: a URL parser lower-cases a host', () => {
    const secret = 'S3cr3t-Value-0123456789abcdef'
    expect(redact('https://s3cr3t-value-0123456789abcdef.evil.example/', [secret])).toBe('https://***.evil.example/')
    expect(redact('path/HORSE%2FBATTERY', ['horse%2fbattery'])).toBe('path/***')
  })

  it('a token ending in the closing marker cannot unmark a span and keep it from being cut', () => {
    const token = 'abcdefg\uE001'
    const line = printableLine(`answered ${untrusted(`${'Z'.repeat(5000)}abcdefg`)}`, [token])
    expect(line.length).toBeLessThan(300)
    expect(line).toBe(`answered ${'Z'.repeat(200)}…`)
  })
})

describe('encodings', () => {
  it('hides the secret as a server echoing a request would quote it', () => {
    const secret = 'k7+Qz/9~aB*3 xY=Lm+8/Tq~Wr*5=Hn'
    const lines: string[] = []
    const boundary = new LogBoundary({ info: (l) => void lines.push(l), debug: () => {}, warning: () => {}, error: () => {} })
    boundary.addRequestSecret(secret)
    const echoes = [
      new URLSearchParams({ client_secret: secret }).toString(),
      `q=${encodeURIComponent(secret)}`,
      JSON.stringify({ clientSecret: `a"${secret}` }),
      `Basic ${Buffer.from(`my-client:${secret}`).toString('base64')}`
    ]
    for (const echo of echoes) boundary.info(untrusted(echo))
    for (const line of lines) {
      for (const form of encodings(secret)) {
        for (let i = 0; i + 8 <= form.length; i++) expect(line).not.toContain(form.slice(i, i + 8))
      }
    }
    expect(lines[0]).toBe('client_secret=***')
    expect(encodings(secret)).toContain(new URLSearchParams({ v: secret }).toString().slice(2))
  })
})

describe('neutralise', () => {
  it('shows control characters escaped and turns whitespace into one space, so one message is one line', () => {
    expect(neutralise('a\r\nb\tc\u2028d\u001b[31me\u200bf')).toBe('a b c d\\u001b[31me\\u200bf')
    // Characters that are ignored when compared, such as the combining grapheme joiner, too.
    expect(neutralise('#\u034f#[error]')).toBe('#\\u034f#[error]')
    // Beyond the first plane, the whole code point, not half of it.
    expect(neutralise('a\u{e0001}b')).toBe('a\\u{e0001}b')
  })

  it('breaks the old command syntax anywhere and a leading colon', () => {
    expect(neutralise('x ##[stop-commands]y')).toBe('x ## [stop-commands]y')
    expect(neutralise('  ::add-mask::x')).toBe(' \\::add-mask::x')
  })
})

describe('INVISIBLE', () => {
  it('is exactly \\p{Cc}, \\p{Cf} and \\p{Default_Ignorable_Code_Point}, spelt out', () => {
    const byProperty = /^[\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}]$/u
    const spelt = new RegExp(`^${INVISIBLE.source}$`, 'u')
    const differing: string[] = []
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue
      const c = String.fromCodePoint(cp)
      if (byProperty.test(c) !== spelt.test(c)) differing.push(cp.toString(16))
    }
    expect(differing).toEqual([])
  })
})

describe('clip and sentence', () => {
  it('cuts long text and marks the cut', () => {
    expect(clip('abcdef', 3)).toBe('abc…')
    expect(clip('abc', 3)).toBe('abc')
  })

  it('ends a message with exactly one full stop, also after untrusted text', () => {
    expect(printableLine(sentence(`failed with ${untrusted('try later..')}`), [])).toBe('failed with try later.')
    expect(sentence('done')).toBe('done.')
  })
})

describe('printableLine', () => {
  it('redacts before it shortens: a secret past the cut is hidden, not half shown', () => {
    const text = `${'x'.repeat(190)}${SECRET}${'y'.repeat(100)}`
    const line = printableLine(`HTTP 400: ${untrusted(text)}`, [SECRET])
    expect(line).toBe(`HTTP 400: ${'x'.repeat(190)}***${'y'.repeat(7)}…`)
  })

  it('cannot be made to form a command where two spans meet', () => {
    expect(printableLine(`${untrusted('::')}${untrusted('add-mask::x')}`, [])).toBe('\\::add-mask::x')
    expect(printableLine(`a ${untrusted('##')}${untrusted('[error]x')}`, [])).toBe('a ## [error]x')
  })

  it('redacts what collapsing whitespace or escaping turns into a masked value', () => {
    expect(printableLine(untrusted('correct\thorse\tbattery staple'), ['correct horse battery'])).toBe('*** staple')
  })
})

describe('LogBoundary', () => {
  function recorder() {
    const lines: string[] = []
    const sink = (kind: string) => (line: string) => void lines.push(`${kind} ${line}`)
    return {
      lines,
      boundary: new LogBoundary({ info: sink('info'), debug: sink('debug'), warning: sink('warning'), error: sink('error') })
    }
  }

  it('prints through each sink what printableLine makes of the message', () => {
    const { lines, boundary } = recorder()
    boundary.addSecret(SECRET)
    boundary.addSecret('')
    boundary.addRequestSecret('')
    boundary.info(`a ${SECRET}`)
    boundary.debug('b\nc')
    boundary.warning('##[warning]d')
    boundary.error(untrusted('e'.repeat(300)))
    expect(lines).toEqual(['info a ***', 'debug b c', 'warning ## [warning]d', `error ${'e'.repeat(200)}…`])
  })

  it('holds lines that quote the outside until release, then redacts them against the values known by then', () => {
    const { lines, boundary } = recorder()
    boundary.hold()
    boundary.info(`early ${untrusted(SECRET)}`)
    boundary.info('progress in its own words')
    expect(lines).toEqual(['info progress in its own words'])
    boundary.addSecret(SECRET)
    boundary.release()
    boundary.info('late')
    expect(lines).toEqual(['info progress in its own words', 'info early ***', 'info late'])
  })

  it('releases nothing when nothing was held', () => {
    const { lines, boundary } = recorder()
    boundary.release()
    expect(lines).toEqual([])
    expect(boundary.render(`x ${untrusted('\u001b')}`)).toBe('x \\u001b')
  })
})
