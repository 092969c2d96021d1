import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The files of a worker share one module graph: importing the app and the provider costs about a
    // second, more than most files take. No test mocks a module or changes one for the files after it.
    isolate: false,
    // One worker per CPU, whatever the machine: vitest's default (one fewer) runs every file one
    // after another on two cores. Most of a file's time is its app and Postgres working, not vitest.
    maxWorkers: '100%',
    projects: [
      {
        extends: true,
        // `npm test`: every test file gets its own database on the one Postgres of the run.
        test: { name: 'keystep', include: ['test/**/*.test.ts'], exclude: ['test/bench/**'], globalSetup: ['test/support/global-setup.ts'] },
      },
      {
        extends: true,
        // `npm run test:bench`: a tiny run of the benchmark, which starts its own Keystep and Postgres.
        test: { name: 'bench', include: ['test/bench/**/*.test.ts'] },
      },
    ],
  },
});
