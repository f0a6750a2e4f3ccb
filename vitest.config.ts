import { defineConfig } from 'vitest/config';

// One Vitest run covers unit, store (SQLite + PostgreSQL), agent (Xvfb) and end-to-end (Chromium) tests.
// Test files that need a service skip themselves loudly when it is missing, and fail under CI=true.
export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'tests/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // expect.poll returns as soon as its condition holds; its 1 s default is a timing bet that a page
    // mounting at load 20+ loses (CI, 2026-12-07: the first conference.e2e step, then all 16 after it).
    expect: { poll: { timeout: 15_000, interval: 50 } },
    // e2e files start servers and browsers: keep files from fighting over 2 cores.
    fileParallelism: false,
    // A process per file (Vitest 4's default, said here on purpose): native modules (node-datachannel,
    // better-sqlite3) run their own threads, and a crash in one then costs that file only ("Worker exited
    // unexpectedly"), where worker threads would share it with the whole run.
    pool: 'forks',
    reporters: ['default'],
  },
});
