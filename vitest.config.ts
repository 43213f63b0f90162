/**
 * The tests: `npm test` (scripts/test.ts) makes sure PostgreSQL, Redis and
 * NATS answer, then runs `vitest run` with this config. Two projects:
 *
 * - unit: every `*.test.ts` under contracts/, services/ and test/ except the
 *   end-to-end suites and the benchmarks. Files run in parallel, one worker
 *   per core.
 * - e2e: test/e2e/**. Each file starts the whole system (seven service
 *   processes, a private nats-server, customer PostgreSQL clusters), so the
 *   files run one at a time (`fileParallelism: false`, i.e. one worker).
 *   Vitest 4 runs such a project in its own group after every other one, so
 *   an e2e file never overlaps another e2e file (nor the unit files).
 */
import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // One child process per test file, as node's test runner did. Tests rely on
    // process-level state that worker threads would not give them as it is: a
    // global OpenTelemetry tracer provider (outbox.test.ts), process.env read
    // by the config loaders, child processes that inherit the environment, and
    // servers and NATS connections that must die with the file.
    pool: 'forks',
    isolate: true,
    // The default reporter, then one plain closing line: `212 passed, 0 failed`.
    reporters: ['default', './scripts/test-reporter.ts'],
    // `npm run coverage`: a summary on the terminal, the full report in coverage/index.html.
    coverage: {
      provider: 'v8',
      reporter: ['text-summary', 'html'],
      reportsDirectory: './coverage',
      include: ['contracts/src/**/*.ts', 'services/*/src/**/*.ts'],
      exclude: ['**/*.test.ts', '**/testing.ts', '**/node_modules/**'],
    },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['contracts/**/*.test.ts', 'services/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['**/node_modules/**', 'test/e2e/**', 'test/bench/**'],
          // The tests mostly wait on PostgreSQL, Redis and NATS: one worker per core
          // (vitest's own default leaves a core idle, which on 2 cores means one file at a time).
          maxWorkers: Math.max(2, availableParallelism()),
          // node's test runner had no timeouts; these only catch a hang. Hooks
          // start NATS servers, PostgreSQL clusters and service runtimes.
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          fileParallelism: false,
          // Each suite sets its own (longer) timeout for its tests; these are the
          // defaults. Hooks start and stop the whole system.
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
