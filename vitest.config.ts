import { availableParallelism } from 'node:os';
import { configDefaults, defineConfig } from 'vitest/config';

/**
 * `npm test`: every suite but the multi-process cluster files, which have their own script
 * (`npm run test:cluster`, vitest.cluster.config.ts) so this one stays within ten minutes on two
 * cores. `.ci/run` runs both.
 */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, 'test/cluster/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Two files at a time even on two cores (vitest's default there is one): these suites are
    // in-process or start short-lived processes, and passed so at a load average of 13-17.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    reporters: ['default'],
  },
});
