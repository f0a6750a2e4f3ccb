import { defineConfig } from 'vitest/config';

// One Vitest run covers unit, store (SQLite + PostgreSQL), agent (Xvfb) and end-to-end (Chromium) tests.
// Test files that need a service skip themselves loudly when it is missing, and fail under CI=true.
export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'tests/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // e2e files start servers and browsers: keep files from fighting over 2 cores.
    fileParallelism: false,
    reporters: ['default'],
  },
});
