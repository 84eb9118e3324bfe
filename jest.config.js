/**
 * ESM TypeScript under jest: ts-jest's ESM preset, run with --experimental-vm-modules (see package.json;
 * one file: `npm run test:unit -- __tests__/inputs.test.ts`).
 *
 * globalSetup bundles the current src/ into .build/ before any test runs: the e2e tests start
 * .build/index.js, so they test what was just changed, whether run alone or by `npm test`.
 * Coverage (scripts/coverage.mjs, `npm run test:coverage`): jest's V8 coverage of its own
 * processes, merged there with c8's of the action's processes. collectCoverageFrom is the list of
 * files coverage is checked on: exclude a file under src/ only with a comment here saying why.
 *
 * maxWorkers '100%': one worker per core. Most of the time goes to e2e tests waiting on the
 * action's processes and on loopback servers, so jest's default (cores - 1: one worker on two
 * cores) leaves a core idle; on this 2-core machine two workers take the suite from ~75 s to ~35 s.
 */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  testMatch: ['**/__tests__/**/*.test.ts'],
  globalSetup: './scripts/jest-global-setup.mjs',
  maxWorkers: '100%',
  coverageProvider: 'v8',
  collectCoverageFrom: ['src/**/*.ts'],
  coverageDirectory: 'coverage/jest',
  coverageReporters: ['json'],
  testTimeout: 30000
}
