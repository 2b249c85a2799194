import { describe, expect, it } from 'vitest';
import { isMeshError, MemoryDisk, MeshError } from '../../../src/lib/index.js';
import { until } from '../../support/until.js';
import { CountingDisk, openLog, records, yieldTurns } from './chain-log-support.js';

const BIG_SEGMENT_BYTES = 1024 * 1024;

/** `disk` whose files run `before` ahead of each fdatasync (to hold it at a gate, or fail it). */
function beforeEachDatasync(disk: CountingDisk, before: () => Promise<void> | void): CountingDisk {
  return Object.assign(Object.create(disk) as CountingDisk, {
    open: async (filePath: string, mode: 'read' | 'append' | 'create') => {
      const file = await disk.open(filePath, mode);
      return Object.assign(Object.create(file) as object, {
        datasync: async () => {
          await before();
          await file.datasync();
        },
      });
    },
  });
}

describe('group commit with the batch sync policy', () => {
  it('shares one fdatasync among every durable() call made together', async () => {
    const disk = new CountingDisk();
    const log = await openLog(disk, { segmentBytes: BIG_SEGMENT_BYTES });
    const syncsAtOpen = disk.datasyncs;
    const confirmations: Promise<number>[] = [];
    for (let offset = 0; offset < 20; offset++) {
      log.append(records(offset, 1, 1));
      confirmations.push(log.durable());
    }
    const offsets = await Promise.all(confirmations);
    expect(offsets.every((offset) => offset === 20)).toBe(true);
    expect(disk.datasyncs - syncsAtOpen).toBe(1);
    await log.close();
  });

  it('starts a second fdatasync for the callers that come while one is in flight, and no third', async () => {
    const disk = new CountingDisk();
    const log = await openLog(disk, { segmentBytes: BIG_SEGMENT_BYTES });
    const syncsAtOpen = disk.datasyncs;
    disk.hold();
    log.append(records(0, 1, 1));
    const first = log.durable();
    await until(() => disk.datasyncs === syncsAtOpen + 1, 'the first sync to start');
    const second: Promise<number>[] = [];
    for (let offset = 1; offset <= 10; offset++) {
      log.append(records(offset, 1, 1));
      second.push(log.durable());
    }
    await until(() => disk.datasyncs === syncsAtOpen + 2, 'a second sync to start beside the first');
    log.append(records(11, 2, 1));
    const third = log.durable();
    // A read waits until every write queued before it is written: the third batch is on disk.
    expect((await log.read(11, 10, 1 << 20)).length).toBe(2);
    await yieldTurns(50);
    expect(disk.datasyncs - syncsAtOpen).toBe(2);
    expect(log.durableOffset).toBe(0);
    disk.release();
    expect(await first).toBeGreaterThanOrEqual(1);
    expect(Math.min(...(await Promise.all(second)))).toBeGreaterThanOrEqual(11);
    expect(await third).toBe(13);
    expect(disk.datasyncs - syncsAtOpen).toBe(3);
    await log.close();
  });

  it('confirms only what a finished sync covers, whichever of two finishes first', async () => {
    const gates: (() => void)[] = [];
    let holding = false;
    const log = await openLog(
      beforeEachDatasync(new CountingDisk(new MemoryDisk()), async () => {
        if (holding) await new Promise<void>((resolve) => gates.push(resolve));
      }),
      { segmentBytes: BIG_SEGMENT_BYTES },
    );
    // Each sync from here on waits for its own gate.
    holding = true;
    log.append(records(0, 3, 1));
    const first = log.durable();
    await until(() => gates.length === 1, 'the first sync to start');
    log.append(records(3, 4, 1));
    const second = log.durable();
    await until(() => gates.length === 2, 'the second sync to start');
    const settled: number[] = [];
    void first.then((offset) => settled.push(offset));
    gates[1]!();
    // The second sync started after every write of both batches: it covers the first's too.
    expect(await second).toBe(7);
    expect(await first).toBe(7);
    expect(settled).toEqual([7]);
    gates[0]!();
    await yieldTurns(20);
    expect(log.durableOffset).toBe(7);
    log.append(records(7, 1, 1));
    const later = log.durable();
    await until(() => gates.length === 3, 'a sync for the later append');
    expect(log.durableOffset).toBe(7);
    gates[2]!();
    expect(await later).toBe(8);
    await log.close();
  });

  it('writes appends without syncing until someone asks', async () => {
    const disk = new CountingDisk();
    const log = await openLog(disk, { segmentBytes: BIG_SEGMENT_BYTES });
    const syncsAtOpen = disk.datasyncs;
    log.append(records(0, 50, 1));
    expect((await log.read(0, 100, 1 << 20)).length).toBe(50);
    expect(disk.datasyncs).toBe(syncsAtOpen);
    expect(log.durableOffset).toBe(0);
    expect(await log.durable()).toBe(50);
    expect(disk.datasyncs).toBe(syncsAtOpen + 1);
    expect(await log.durable()).toBe(50);
    expect(disk.datasyncs).toBe(syncsAtOpen + 1);
    await log.close();
  });

  it('fails every waiting and later call after a failed sync', async () => {
    let failSyncs = false;
    const log = await openLog(
      beforeEachDatasync(new CountingDisk(new MemoryDisk()), () => {
        if (failSyncs) throw new MeshError('DISK_IO', 'injected fdatasync failure');
      }),
      { segmentBytes: BIG_SEGMENT_BYTES },
    );
    failSyncs = true;
    log.append(records(0, 3, 1));
    const error = await log.durable().catch((caught: unknown) => caught);
    expect(isMeshError(error, 'CHAIN_LOG_FAILED')).toBe(true);
    expect(() => log.append(records(3, 1, 1))).toThrow(/failed/);
    const later = await log.durable().catch((caught: unknown) => caught);
    expect(isMeshError(later, 'CHAIN_LOG_FAILED')).toBe(true);
    await log.close();
  });
});
