import { describe, expect, it } from 'vitest';
import { isMeshError, MemoryDisk, MeshError } from '../../../src/lib/index.js';
import { until } from '../../support/until.js';
import { CountingDisk, openLog, records, yieldTurns } from './chain-log-support.js';

const BIG_SEGMENT_BYTES = 1024 * 1024;

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

  it('makes the callers that come while a sync is in flight share the next one', async () => {
    const disk = new CountingDisk();
    const log = await openLog(disk, { segmentBytes: BIG_SEGMENT_BYTES });
    const syncsAtOpen = disk.datasyncs;
    disk.hold();
    log.append(records(0, 1, 1));
    const first = log.durable();
    await until(() => disk.datasyncs === syncsAtOpen + 1, 'the first sync to start');
    const later: Promise<number>[] = [];
    for (let offset = 1; offset <= 10; offset++) {
      log.append(records(offset, 1, 1));
      later.push(log.durable());
    }
    await yieldTurns(20);
    expect(disk.datasyncs - syncsAtOpen).toBe(1);
    expect(log.durableOffset).toBe(0);
    disk.release();
    expect(await first).toBeGreaterThanOrEqual(1);
    expect(await Promise.all(later)).toEqual(new Array(10).fill(11));
    expect(disk.datasyncs - syncsAtOpen).toBe(2);
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
    const memory = new MemoryDisk();
    let failSyncs = false;
    const disk = new CountingDisk(memory);
    const log = await openLog(
      Object.assign(Object.create(disk) as CountingDisk, {
        open: async (filePath: string, mode: 'read' | 'append' | 'create') => {
          const file = await disk.open(filePath, mode);
          return Object.assign(Object.create(file) as object, {
            datasync: async () => {
              if (failSyncs) throw new MeshError('DISK_IO', 'injected fdatasync failure');
              await file.datasync();
            },
          });
        },
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
