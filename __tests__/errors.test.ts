import { describe, expect, it } from '@jest/globals'
import { ownStackFrames } from '../src/errors.js'

describe('ownStackFrames', () => {
  const own = new URL('file:///home/runner/work/_actions/org/runai-token-action/v1/dist/')
  const frame = (n: number) => `    at step${n} (file:///home/runner/work/_actions/org/runai-token-action/v1/dist/index.js:1:${n})`

  it("keeps only the frames in the action's own code, not Node's nor lines of the message", () => {
    const stack = [
      'TypeError: a server said',
      `    at evil (https://evil.example/x.js:1:1)`,
      '::error::not a frame',
      frame(1),
      '    at process.processTicksAndRejections (node:internal/process/task_queues:105:5)',
      frame(2)
    ].join('\n')
    expect(ownStackFrames(stack, own)).toEqual([frame(1).trim(), frame(2).trim()])
  })

  it('keeps at most ten frames', () => {
    const stack = ['Error: x', ...Array.from({ length: 50 }, (_, i) => frame(i))].join('\n')
    expect(ownStackFrames(stack, own)).toHaveLength(10)
  })

  it('also finds the code by its path, as frames of a script that is not a module name it', () => {
    expect(ownStackFrames('Error: x\n    at f (/home/runner/work/_actions/org/runai-token-action/v1/dist/index.js:3:4)', own)).toEqual([
      'at f (/home/runner/work/_actions/org/runai-token-action/v1/dist/index.js:3:4)'
    ])
  })
})
