/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Type-checking is `tsc --noEmit` in `npm test`; here ts-jest only transpiles, which keeps the suite fast.
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  testTimeout: 30000,
  // The AWS SDK warns once per process that its releases after January 2027 need Node 22 (we pin one that runs on
  // Lambda's nodejs20.x); a passing run reads clean.
  setupFiles: ['<rootDir>/test/helpers/quiet-aws-sdk.js'],
};
