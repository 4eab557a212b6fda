import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['__test__/**/*.test.ts'],
    globalSetup: ['__test__/setup/global.ts'],
    // Native addons crash vitest's thread pool; each file gets its own process.
    pool: 'forks',
    // For the memory-bound test of the handle registry.
    execArgv: ['--expose-gc'],
    testTimeout: 60_000,
  },
});
