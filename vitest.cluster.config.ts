import { defineConfig } from 'vitest/config';

/**
 * `npm run test:cluster`: the multi-process tests (real `meshos` processes on loopback, kill -9,
 * SIGSTOP, partitions), one file at a time: each starts its own cluster and its timings assume
 * the machine is not also running another.
 */
export default defineConfig({
  test: {
    include: ['test/cluster/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    maxWorkers: 1,
    reporters: ['default'],
  },
});
