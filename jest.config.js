/**
 * Jest runs the TypeScript sources directly through ts-jest in transpile-only mode (fast; `npm run build`
 * type-checks). ts-jest rather than a native transformer: its package has no per-platform binaries, so
 * `npm ci` works from the lock file on every platform.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.tsx?$': ['ts-jest', { tsconfig: { isolatedModules: true, target: 'ES2022', module: 'commonjs', esModuleInterop: true, resolveJsonModule: true, sourceMap: true } }] },
  testTimeout: 120000,
  maxWorkers: 2,
};
