import { describe, expect, it } from '@jest/globals'
import { ownStackFrames } from '../src/errors.js'

describe('ownStackFrames', () => {
  const own = new URL('file:///home/runner/work/_actions/org/runai-token-action/v1/dist/')
  const frame = (n: number) => `    at step${n} (file:///home/runner/work/_actions/org/runai-token-action/v1/dist/index.js:1:${n})`
  /** An error as V8 would give it: the stack is its toString, then the frames. */
  const errorWith = (message: string, frames: string[], name = 'TypeError') => {
    const error = new Error(message)
    error.name = name
    error.stack = [message === '' ? name : name === '' ? message : `${name}: ${message}`, ...frames].join('\n')
    return error
  }

  it("keeps only the frames in the action's own code, not Node's", () => {
    const error = errorWith('a server said', [
      frame(1),
      '    at process.processTicksAndRejections (node:internal/process/task_queues:105:5)',
      frame(2)
    ])
    expect(ownStackFrames(error, own)).toEqual([frame(1).trim(), frame(2).trim()])
  })

  it('takes nothing from the message, even lines shaped like frames of its own code', () => {
    const error = errorWith(`bad\n${frame(9)} sign in again at https://evil.example/login\n::error::x`, [frame(1)])
    expect(ownStackFrames(error, own)).toEqual([frame(1).trim()])
  })

  it('gives nothing when the stack does not start with the error as V8 writes it', () => {
    const error = errorWith('x', [frame(1)])
    error.stack = `something else\n${frame(1)}`
    expect(ownStackFrames(error, own)).toEqual([])
  })

  it('reads a stack headed by the name alone when the message is empty, and by the message alone when the name is', () => {
    expect(ownStackFrames(errorWith('', [frame(3)]), own)).toEqual([frame(3).trim()])
    expect(ownStackFrames(errorWith('only a message', [frame(4)], ''), own)).toEqual([frame(4).trim()])
  })

  it('gives nothing for an error without a stack', () => {
    const error = new Error('x')
    delete error.stack
    expect(ownStackFrames(error, own)).toEqual([])
  })

  it('keeps at most ten frames', () => {
    expect(
      ownStackFrames(
        errorWith(
          'x',
          Array.from({ length: 50 }, (_, i) => frame(i))
        ),
        own
      )
    ).toHaveLength(10)
  })

  it('also finds the code by its path, as frames of a script that is not a module name it', () => {
    const error = errorWith('x', ['    at f (/home/runner/work/_actions/org/runai-token-action/v1/dist/index.js:3:4)'])
    expect(ownStackFrames(error, own)).toEqual(['at f (/home/runner/work/_actions/org/runai-token-action/v1/dist/index.js:3:4)'])
  })
})
