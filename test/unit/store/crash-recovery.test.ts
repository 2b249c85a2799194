import { describe, expect, it } from 'vitest';
import { isMeshError, SeededRandom } from '../../../src/lib/index.js';
import type { StoredEntry, StoredHardState } from '../../../src/store/index.js';
import { CrashableDisk, entries, open, summary, yieldTurns } from './support.js';

const DIRECTORY = '/raft';
const SMALL_SEGMENT_BYTES = 1024;
/** More syncs than any one operation below performs, so every crash point is visited. */
const MAX_SYNC_POINTS = 40;
const MAX_TURNS_TO_SETTLE = 2_000;

/**
 * Runs `operation` on a store set up by `prepare`, crashing at its k-th sync for every k,
 * and hands each recovery to `check`.
 */
async function crashAtEverySync(
  prepare: (store: Awaited<ReturnType<typeof open>>['store']) => Promise<void>,
  operation: (store: Awaited<ReturnType<typeof open>>['store']) => Promise<void>,
  check: (recovered: Awaited<ReturnType<typeof open>>['recovered'], completed: boolean) => void,
): Promise<number> {
  let crashPoints = 0;
  for (let syncs = 0; syncs < MAX_SYNC_POINTS; syncs++) {
    const crashable = new CrashableDisk();
    const { store } = await open(crashable.view(), DIRECTORY, { segmentSizeBytes: SMALL_SEGMENT_BYTES });
    await prepare(store);
    crashable.armCrashAtSync(syncs);
    let completed = false;
    operation(store).then(
      () => {
        completed = true;
      },
      () => undefined,
    );
    for (let turn = 0; turn < MAX_TURNS_TO_SETTLE && !completed && crashable.crashes === 0; turn++) {
      await yieldTurns(1);
    }
    const crashedInside = crashable.crashes > 0;
    if (!crashedInside) crashable.crash();
    const reopened = await open(crashable.view(), DIRECTORY, { segmentSizeBytes: SMALL_SEGMENT_BYTES });
    check(reopened.recovered, completed);
    await reopened.store.close();
    if (!crashedInside) return crashPoints;
    crashPoints++;
  }
  throw new Error(`operation still syncing after ${MAX_SYNC_POINTS} syncs`);
}

function isPrefixOf(candidate: readonly StoredEntry[], log: readonly StoredEntry[]): boolean {
  return JSON.stringify(summary(candidate)) === JSON.stringify(summary(log.slice(0, candidate.length)));
}

describe('crash recovery on MemoryDisk', () => {
  it('keeps acknowledged appends and loses only the unacknowledged ones in a crash', async () => {
    const crashable = new CrashableDisk();
    const first = await open(crashable.view(), DIRECTORY);
    await first.store.append(entries(1, 3, 1), { term: 1, vote: 1, commit: 2 });
    const unacknowledged = first.store.append(entries(4, 6, 1), { term: 1, vote: 1, commit: 3 });
    unacknowledged.catch(() => undefined);
    crashable.crash();

    const second = await open(crashable.view(), DIRECTORY);
    expect(summary(second.recovered.entries)).toEqual(summary(entries(1, 3, 1)));
    expect(second.recovered.hardState).toEqual({ term: 1, vote: 1, commit: 2 });
    await expect(unacknowledged).rejects.toSatisfy((error) => isMeshError(error));
    await second.store.close();
  });

  it('keeps a truncation made durable across a crash', async () => {
    const crashable = new CrashableDisk();
    const first = await open(crashable.view(), DIRECTORY);
    await first.store.append(entries(1, 8, 1));
    await first.store.truncateSuffix(4);
    crashable.crash();

    const second = await open(crashable.view(), DIRECTORY);
    expect(summary(second.recovered.entries)).toEqual(summary(entries(1, 3, 1)));
    expect(second.store.lastIndex).toBe(3);
    await second.store.close();
  });

  it('survives random torn crashes with every acknowledged write intact', async () => {
    const random = new SeededRandom(7);
    const crashable = new CrashableDisk();
    let acknowledged = 0;
    for (let round = 0; round < 20; round++) {
      const { store, recovered } = await open(crashable.view(), DIRECTORY, { segmentSizeBytes: 2048 });
      expect(recovered.entries.length).toBeGreaterThanOrEqual(acknowledged);
      expect(summary(recovered.entries.slice(0, acknowledged))).toEqual(
        summary(entries(1, acknowledged, 1, 50)),
      );
      const next = store.lastIndex + 1;
      await store.append(entries(next, next + 2, 1, 50));
      acknowledged = next + 2;
      const inflight = store.append(entries(next + 3, next + 9, 1, 50));
      inflight.then(() => (acknowledged = next + 9)).catch(() => undefined);
      await yieldTurns(random.nextInt(12));
      crashable.crash(random, 1);
    }
  });
});

describe('crashing at every sync point of a multi-step operation', () => {
  const hardState: StoredHardState = { term: 5, vote: 2, commit: 4 };
  const oldLog = entries(1, 40, 1, 100);
  const fillLog = async (store: Awaited<ReturnType<typeof open>>['store']): Promise<void> => {
    for (let index = 1; index <= 40; index += 4) await store.append(oldLog.slice(index - 1, index + 3));
    await store.append([], hardState);
  };

  it('truncation across segments leaves a prefix of the old log and never loses the hard state', async () => {
    const points = await crashAtEverySync(
      fillLog,
      (store) => store.truncateSuffix(5),
      (recovered, completed) => {
        expect(recovered.hardState).toEqual(hardState);
        expect(recovered.entries.length).toBeGreaterThanOrEqual(4);
        expect(isPrefixOf(recovered.entries, oldLog)).toBe(true);
        if (completed) expect(recovered.entries).toHaveLength(4);
      },
    );
    expect(points).toBeGreaterThan(3);
  });

  it('a reset to a snapshot ends with the snapshot, an empty log and the hard state', async () => {
    const points = await crashAtEverySync(
      async (store) => {
        await fillLog(store);
        await store.saveSnapshot({
          index: 100,
          term: 6,
          config: new Uint8Array(),
          data: new Uint8Array([1]),
        });
      },
      (store) => store.resetToSnapshot(100),
      (recovered) => {
        expect(recovered.hardState).toEqual(hardState);
        expect(recovered.snapshot?.index).toBe(100);
        expect(recovered.entries).toEqual([]);
      },
    );
    expect(points).toBeGreaterThan(2);
  });

  it('appends that roll over segments keep every earlier entry and the hard state', async () => {
    const more = entries(41, 60, 1, 100);
    const points = await crashAtEverySync(
      fillLog,
      async (store) => {
        for (const item of more) await store.append([item]);
      },
      (recovered, completed) => {
        expect(recovered.hardState).toEqual(hardState);
        expect(recovered.entries.length).toBeGreaterThanOrEqual(40);
        expect(isPrefixOf(recovered.entries, [...oldLog, ...more])).toBe(true);
        if (completed) expect(recovered.entries).toHaveLength(60);
      },
    );
    expect(points).toBeGreaterThan(5);
  });

  it('compaction after a snapshot keeps everything after the snapshot', async () => {
    const points = await crashAtEverySync(
      async (store) => {
        await fillLog(store);
        await store.saveSnapshot({ index: 30, term: 1, config: new Uint8Array(), data: new Uint8Array() });
      },
      (store) => store.compact(30),
      (recovered) => {
        expect(recovered.hardState).toEqual(hardState);
        expect(recovered.snapshot?.index).toBe(30);
        expect(summary(recovered.entries)).toEqual(summary(oldLog.slice(30)));
      },
    );
    expect(points).toBeGreaterThanOrEqual(1);
  });
});
