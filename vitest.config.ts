import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    isolate: false,
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
