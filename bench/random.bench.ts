import { SeededRandom } from '../src/lib/index.js';
import type { BenchSuite } from './harness.js';

/** The simulator draws from Random on every event, so its cost bounds simulator speed. */
export const suite: BenchSuite = {
  name: 'lib/random',
  async run(context) {
    const random = new SeededRandom(42);
    await context.tinybench(
      {
        'SeededRandom.nextUint32 x1000': () => {
          for (let index = 0; index < 1000; index++) random.nextUint32();
        },
      },
      { timeMs: 500 },
    );
  },
};
