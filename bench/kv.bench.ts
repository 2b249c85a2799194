import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { encodeKvCommand, KvStateMachine } from '../src/kv/index.js';
import { SeededRandom } from '../src/lib/index.js';
import type { BenchSuite } from './harness.js';
import { scatteredKey } from './keys.js';

const APPLY_PUTS = 200_000;
const APPLY_KEY_SPACE = 100_000;
const RANGE_STORE_KEYS = 100_000;
const MEMORY_STORE_KEYS = 1_000_000;
const MEMORY_OVERWRITES = 500_000;

/** A collector we can call between phases so heap figures measure live data, not garbage. */
function collector(): () => void {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as (() => void) | undefined;
  return () => {
    gc?.();
    gc?.();
  };
}

function keys(random: SeededRandom, count: number): Uint8Array[] {
  return Array.from({ length: count }, () => random.bytes(16));
}

/**
 * Apply throughput decides how fast a leader can commit; range latency decides read cost; the
 * 1,000,000-key figure decides how much memory one node needs for a large control plane.
 */
export const suite: BenchSuite = {
  name: 'kv',
  async run(context) {
    const collect = collector();
    const random = new SeededRandom(7);

    // Apply: decode + execute of pre-encoded puts (16-byte keys, 256-byte values).
    const keySpace = keys(random, APPLY_KEY_SPACE);
    const value256 = random.bytes(256);
    const commands = Array.from({ length: APPLY_PUTS }, (_, index) =>
      encodeKvCommand({ type: 'put', key: keySpace[index % APPLY_KEY_SPACE] as Uint8Array, value: value256 }),
    );
    const throughput = await context.repeat(5, () => {
      const machine = new KvStateMachine();
      const started = performance.now();
      for (let index = 0; index < commands.length; index++)
        machine.apply(index + 1, commands[index] as Uint8Array);
      return APPLY_PUTS / ((performance.now() - started) / 1000);
    });
    context.record({
      metric: `apply put 16 B key / 256 B value (${APPLY_PUTS} puts, ${APPLY_KEY_SPACE} keys)`,
      median: throughput.median,
      p99: throughput.p99,
      unit: 'ops/s',
      samples: 5,
    });

    // Range latency on a 100,000-key store.
    const rangeStore = new KvStateMachine();
    const rangeKeys = keys(random, RANGE_STORE_KEYS);
    for (let index = 0; index < rangeKeys.length; index++) {
      rangeStore.applyCommand(index + 1, {
        type: 'put',
        key: rangeKeys[index] as Uint8Array,
        value: value256,
      });
    }
    let probe = 0;
    await context.tinybench(
      {
        'range point get (100k keys)': () =>
          rangeStore.range({ type: 'range', key: rangeKeys[probe++ % RANGE_STORE_KEYS] as Uint8Array }),
        'range scan limit 100 (100k keys)': () =>
          rangeStore.range({
            type: 'range',
            key: rangeKeys[probe++ % RANGE_STORE_KEYS] as Uint8Array,
            rangeEnd: new Uint8Array([0]),
            limit: 100,
            countOnly: false,
          }),
      },
      { timeMs: 1_500 },
    );

    // Memory: 1,000,000 keys of 16 bytes with 128-byte values.
    collect();
    const before = process.memoryUsage();
    let memoryStore: KvStateMachine | undefined = new KvStateMachine();
    const value128 = random.bytes(128);
    const started = performance.now();
    for (let index = 0; index < MEMORY_STORE_KEYS; index++) {
      memoryStore.applyCommand(index + 1, { type: 'put', key: scatteredKey(index), value: value128 });
    }
    const loadSeconds = (performance.now() - started) / 1000;
    collect();
    const loaded = process.memoryUsage();
    context.record({
      metric: '1M-key store (16 B keys, 128 B values): RSS growth',
      median: loaded.rss - before.rss,
      unit: 'bytes',
      samples: 1,
      target: '< 1 GiB',
    });
    context.record({
      metric: '1M-key store: heap used growth',
      median: loaded.heapUsed - before.heapUsed,
      unit: 'bytes',
      samples: 1,
    });
    context.record({ metric: '1M-key store: process RSS', median: loaded.rss, unit: 'bytes', samples: 1 });
    context.record({
      metric: '1M-key store: load rate',
      median: MEMORY_STORE_KEYS / loadSeconds,
      unit: 'puts/s',
      samples: 1,
    });

    // History: overwrite half the keys (history grows by one record each), then compact it away.
    for (let index = 0; index < MEMORY_OVERWRITES; index++) {
      memoryStore.applyCommand(MEMORY_STORE_KEYS + index + 1, {
        type: 'put',
        key: scatteredKey(index),
        value: value128,
      });
    }
    collect();
    const withHistory = process.memoryUsage();
    context.record({
      metric: `1M-key store + ${MEMORY_OVERWRITES} overwrites retained: heap used`,
      median: withHistory.heapUsed,
      unit: 'bytes',
      samples: 1,
    });
    const compactStarted = performance.now();
    memoryStore.applyCommand(MEMORY_STORE_KEYS + MEMORY_OVERWRITES + 1, {
      type: 'compact',
      revision: memoryStore.revision,
    });
    context.record({
      metric: `compact ${MEMORY_OVERWRITES} superseded records`,
      median: performance.now() - compactStarted,
      unit: 'ms',
      samples: 1,
    });
    collect();
    context.record({
      metric: 'after compaction: heap used',
      median: process.memoryUsage().heapUsed,
      unit: 'bytes',
      samples: 1,
    });
    const snapshotStarted = performance.now();
    const snapshot = memoryStore.snapshot();
    context.record({ metric: '1M-key snapshot size', median: snapshot.length, unit: 'bytes', samples: 1 });
    context.record({
      metric: '1M-key snapshot encode',
      median: performance.now() - snapshotStarted,
      unit: 'ms',
      samples: 1,
    });
    const restoreStarted = performance.now();
    memoryStore = undefined;
    collect();
    KvStateMachine.fromSnapshot(snapshot);
    context.record({
      metric: '1M-key snapshot restore',
      median: performance.now() - restoreStarted,
      unit: 'ms',
      samples: 1,
    });
  },
};
