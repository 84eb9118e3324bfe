/**
 * ESM TypeScript under jest: ts-jest's ESM preset, run with --experimental-vm-modules (see package.json;
 * one file: `npm run test:unit -- __tests__/inputs.test.ts`).
 *
 * Coverage is V8's (coverageProvider 'v8'), like the coverage of the e2e runs of dist/index.js, so that
 * scripts/coverage.mjs can merge both by location and the same c8 ignore comments work on both.
 * collectCoverageFrom is the list of files that coverage is checked on: exclude a file under src/
 * only with a comment here saying why.
 */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  testMatch: ['**/__tests__/**/*.test.ts'],
  coverageProvider: 'v8',
  collectCoverageFrom: ['src/**/*.ts'],
  coverageDirectory: 'coverage/jest',
  testTimeout: 30000
}
