import { defineConfig } from 'vitest/config';

/** `npm run fuzz`: the long fuzzing run of test/fuzz/*.fuzz.ts, outside `npm test`. */
export default defineConfig({
  test: {
    include: ['test/fuzz/**/*.fuzz.ts'],
    testTimeout: 30 * 60_000,
    pool: 'forks',
    reporters: ['verbose'],
  },
});
