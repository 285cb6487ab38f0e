/** Jest: TypeScript through ts-jest (transpile only; `npm run typecheck` does the type checking). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: { isolatedModules: true, module: 'commonjs', moduleResolution: 'node10', allowImportingTsExtensions: true, noEmit: false, esModuleInterop: true, target: 'ES2022' }, diagnostics: false }],
  },
  setupFiles: ['<rootDir>/test/harness/quiet-temporal.ts'],
  testTimeout: 120000,
  maxWorkers: 2,
};
