// @ts-check
// Problem matchers that a job may have registered while the action runs: the runner feeds every
// output line that is not a command to them (OutputManager.OnDataReceived), and a match becomes an
// annotation on the run's summary page. Read by runner-log.mjs (IssueMatcher, ConvertToIssue).
//
// setup-node registers three for the rest of every job that uses it: its src/main.ts prints
// `##[add-matcher]` for .github/tsc.json, .github/eslint-stylish.json and .github/eslint-compact.json,
// in that order. Their regular expressions and group numbers are restated below from those files
// (actions/setup-node at ae0d4ed0); the structure is ours: each pattern names its groups in `groups`.
// The expressions are .NET ones (RegexOptions.ECMAScript): runner-log.mjs translates them.

/**
 * @typedef {'file' | 'line' | 'column' | 'severity' | 'code' | 'message' | 'fromPath'} MatchedField
 * @typedef {object} MatcherPattern
 * @property {string} regexp  as the matcher file has it (.NET, ECMAScript mode)
 * @property {Partial<Record<MatchedField, number>>} groups  which capture group holds which field
 * @property {boolean} [loop]  only on the last pattern: it may match again and again after the others
 * @typedef {object} ProblemMatcher
 * @property {string} owner
 * @property {string} [severity]  default when no group gives one (the runner's own default is error)
 * @property {string} [fromPath]
 * @property {MatcherPattern[]} patterns  more than one: a multi-line match, consecutive lines
 */

/** tsc's `file(line,col): error TS1234: message` and `file:line:col - error TS1234: message`. @type {ProblemMatcher} */
export const TSC = Object.freeze({
  owner: 'tsc',
  patterns: [
    {
      regexp: '^([^\\s].*)[\\(:](\\d+)[,:](\\d+)(?:\\):\\s+|\\s+-\\s+)(error|warning|info)\\s+TS(\\d+)\\s*:\\s*(.*)$',
      groups: { file: 1, line: 2, column: 3, severity: 4, code: 5, message: 6 }
    }
  ]
})

/** ESLint's stylish formatter: a line naming the file, then indented `line:col  severity  message  rule` lines. @type {ProblemMatcher} */
export const ESLINT_STYLISH = Object.freeze({
  owner: 'eslint-stylish',
  patterns: [
    { regexp: '^\\s*([^\\s].*)$', groups: { file: 1 } },
    {
      regexp: '^\\s+(\\d+):(\\d+)\\s+(error|warning|info)\\s+(.*)\\s\\s+(.*)$',
      groups: { line: 1, column: 2, severity: 3, message: 4, code: 5 },
      loop: true
    }
  ]
})

/** ESLint's compact formatter: `file: line 1, col 2, Error - message (rule)`. @type {ProblemMatcher} */
export const ESLINT_COMPACT = Object.freeze({
  owner: 'eslint-compact',
  patterns: [
    {
      regexp: '^(.+):\\sline\\s(\\d+),\\scol\\s(\\d+),\\s([Ee]rror|[Ww]arning|[Ii]nfo)\\s-\\s(.+)\\s\\((.+)\\)$',
      groups: { file: 1, line: 2, column: 3, severity: 4, message: 5, code: 6 }
    }
  ]
})

/** setup-node's matchers, in the order it registers them. */
export const SETUP_NODE_MATCHERS = Object.freeze([TSC, ESLINT_STYLISH, ESLINT_COMPACT])

/**
 * Ours: every non-blank line becomes an error annotation. The widest matcher a job could register,
 * so what it annotates is everything any matcher could put on the summary page from a plain line.
 * @type {ProblemMatcher}
 */
export const ANY_LINE = Object.freeze({ owner: 'any-line', patterns: [{ regexp: '^(.+)$', groups: { message: 1 } }] })
