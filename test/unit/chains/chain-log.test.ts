import { describe, expect, it } from 'vitest';
import { DEFAULT_CHAIN_SEGMENT_BYTES, MAX_CHAIN_OPEN_READ_FILES } from '../../../src/chains/index.js';
import {
  type Disk,
  isMeshError,
  ManualClock,
  MemoryDisk,
  type OpenMode,
  type OpenOptions,
} from '../../../src/lib/index.js';
import { until } from '../../support/until.js';
import { CountingDisk, DIRECTORY, openLog, readAll, record, records, summary } from './chain-log-support.js';

async function segmentFiles(disk: MemoryDisk, directory = DIRECTORY): Promise<string[]> {
  return (await disk.list(directory)).filter((name) => name.endsWith('.wal'));
}

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return isMeshError(error) ? error.code : String(error);
  }
  return undefined;
}

async function rejectionCode(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return isMeshError(error) ? error.code : String(error);
  }
  return undefined;
}

describe('chain log round trip', () => {
  it('reads back every record across segment rolls, and again after a clean reopen', async () => {
    const disk = new MemoryDisk();
    const log = await openLog(disk);
    const written = [...records(0, 60, 1), ...records(60, 60, 3), ...records(120, 30, 4)];
    for (let from = 0; from < written.length; from += 9) log.append(written.slice(from, from + 9));
    expect(log.endOffset).toBe(150);
    expect(await log.durable()).toBe(150);
    expect(log.durableOffset).toBe(150);
    expect((await segmentFiles(disk)).length).toBeGreaterThan(5);
    expect(summary(await readAll(log))).toEqual(summary(written));
    expect(log.epochHistory()).toEqual([
      { epoch: 1, offset: 0 },
      { epoch: 3, offset: 60 },
      { epoch: 4, offset: 120 },
    ]);
    expect(log.lastEpoch).toBe(4);
    await log.close();

    const reopened = await openLog(disk);
    expect([reopened.startOffset, reopened.endOffset, reopened.durableOffset]).toEqual([0, 150, 150]);
    expect(reopened.epochHistory()).toEqual(log.epochHistory());
    expect(reopened.lastEpoch).toBe(4);
    expect(summary(await readAll(reopened, 1000))).toEqual(summary(written));
    expect(summary(await reopened.read(77, 3, 1 << 20))).toEqual(summary(written.slice(77, 80)));
    await reopened.close();
  });

  it('syncs at close what was appended while an earlier call was still being carried out', async () => {
    const disk = new MemoryDisk();
    const log = await openLog(disk, { retention: { maxBytes: 3000 } });
    // The retention resolves inside the writer's loop: the append and close come before it ends.
    await log.applyRetention(0);
    log.append(records(0, 1, 1));
    await log.close();
    disk.crash();
    const reopened = await openLog(disk);
    expect(reopened.endOffset).toBe(1);
    await reopened.close();
  });

  it('reads what was appended before the read, synced or not', async () => {
    const log = await openLog(new MemoryDisk());
    log.append(records(0, 5, 2));
    expect(summary(await log.read(0, 100, 1 << 20))).toEqual(summary(records(0, 5, 2)));
    expect(log.durableOffset).toBe(0);
    await log.close();
  });

  it('serves a read from the log as it was when the read was called, even if a truncation follows at once', async () => {
    const log = await openLog(new MemoryDisk());
    log.append(records(0, 50, 1));
    await log.durable();
    const reading = log.read(0, 100, 1 << 20);
    log.truncateFrom(10);
    log.append(records(10, 5, 2));
    const readingAfter = log.read(0, 100, 1 << 20);
    expect(summary(await reading)).toEqual(summary(records(0, 50, 1)));
    expect(summary(await readingAfter)).toEqual(summary([...records(0, 10, 1), ...records(10, 5, 2)]));
    await log.close();
  });

  it('keeps at most MAX_CHAIN_OPEN_READ_FILES segment files open for reads, and none after close', async () => {
    const disk = new CountingDisk();
    const written = await openLog(disk);
    written.append(records(0, 200, 1));
    await written.close();
    // Reopened: nothing in memory, every read goes to the segment files.
    const log = await openLog(disk);
    for (let offset = 0; offset < 200; offset += 10) await log.read(offset, 1, 1);
    expect(disk.readFilesOpen).toBe(MAX_CHAIN_OPEN_READ_FILES);
    await Promise.all([log.read(0, 200, 1 << 20), log.read(50, 200, 1 << 20), log.read(199, 1, 1)]);
    expect(disk.readFilesOpen).toBe(MAX_CHAIN_OPEN_READ_FILES);
    await log.close();
    expect(disk.readFilesOpen).toBe(0);
  });

  it('keeps a read to its record and byte budgets, returning one record even when it alone is larger', async () => {
    const log = await openLog(new MemoryDisk(), { segmentBytes: 64 * 1024 });
    log.append([record(0, 1, 5000), ...records(1, 20, 1, 100)]);
    expect((await log.read(0, 10, 10)).map((entry) => entry.offset)).toEqual([0]);
    expect((await log.read(1, 10, 350)).map((entry) => entry.offset)).toEqual([1, 2, 3]);
    expect((await log.read(5, 4, 1 << 20)).map((entry) => entry.offset)).toEqual([5, 6, 7, 8]);
    expect(await log.read(21, 4, 100)).toEqual([]);
    expect(await rejectionCode(log.read(22, 4, 100))).toBe('CHAIN_OFFSET_OUT_OF_RANGE');
    await log.close();
  });

  it('starts a new log empty, at offset 0 and epoch 0', async () => {
    const log = await openLog(new MemoryDisk());
    expect([log.startOffset, log.endOffset, log.durableOffset, log.lastEpoch, log.promisedEpoch]).toEqual([
      0, 0, 0, 0, 0,
    ]);
    expect(log.epochHistory()).toEqual([]);
    expect(await log.durable()).toBe(0);
    await log.close();
  });
});

describe('chain log input checks', () => {
  it('refuses records that do not continue the log, with nothing appended', async () => {
    const log = await openLog(new MemoryDisk());
    log.append(records(0, 3, 2));
    expect(codeOf(() => log.append([record(4, 2)]))).toBe('CHAIN_OFFSET_OUT_OF_RANGE');
    expect(codeOf(() => log.append([record(3, 2), record(5, 2)]))).toBe('CHAIN_OFFSET_OUT_OF_RANGE');
    expect(codeOf(() => log.append([record(3, 1)]))).toBe('CHAIN_ENTRY_INVALID');
    expect(codeOf(() => log.append([{ ...record(3, 2), appendedAtMs: Number.NaN }]))).toBe(
      'CHAIN_ENTRY_INVALID',
    );
    expect(codeOf(() => log.append([record(3, 2), record(4, 2, 2000)]))).toBe(undefined);
    expect(log.endOffset).toBe(5);
    await log.close();
  });

  it('refuses a record above maxRecordBytes and keeps the whole batch out', async () => {
    const log = await openLog(new MemoryDisk(), { maxRecordBytes: 100 });
    expect(codeOf(() => log.append([record(0, 1, 100), record(1, 1, 101)]))).toBe('CHAIN_RECORD_TOO_LARGE');
    expect(log.endOffset).toBe(0);
    log.append([record(0, 1, 100)]);
    expect(await log.durable()).toBe(1);
    await log.close();
  });

  it('refuses bad options, listing every problem', async () => {
    const error = await openLog(new MemoryDisk(), {
      segmentBytes: 10,
      maxRecordBytes: -1,
      sync: { mode: 'interval', intervalMs: 0 },
    }).catch((caught: unknown) => caught);
    expect(isMeshError(error, 'VALIDATION_FAILED')).toBe(true);
    expect((error as { problems: string[] }).problems).toHaveLength(3);
  });

  it('refuses every call after close', async () => {
    const log = await openLog(new MemoryDisk());
    await log.close();
    expect(codeOf(() => log.append([record(0, 1)]))).toBe('CHAIN_LOG_CLOSED');
    expect(await rejectionCode(log.durable())).toBe('CHAIN_LOG_CLOSED');
    expect(await rejectionCode(log.read(0, 1, 1))).toBe('CHAIN_LOG_CLOSED');
  });
});

describe('truncateFrom', () => {
  it('cuts a divergent suffix inside the active segment, then takes new records there', async () => {
    const disk = new MemoryDisk();
    const log = await openLog(disk, { segmentBytes: 64 * 1024 });
    log.append([...records(0, 10, 1), ...records(10, 5, 2)]);
    log.truncateFrom(12);
    expect([log.endOffset, log.lastEpoch]).toEqual([12, 2]);
    log.append(records(12, 3, 3));
    expect(await log.durable()).toBe(15);
    const expected = [...records(0, 10, 1), ...records(10, 2, 2), ...records(12, 3, 3)];
    expect(summary(await readAll(log))).toEqual(summary(expected));
    await log.close();
    const reopened = await openLog(disk, { segmentBytes: 64 * 1024 });
    expect(summary(await readAll(reopened))).toEqual(summary(expected));
    expect(reopened.epochHistory()).toEqual([
      { epoch: 1, offset: 0 },
      { epoch: 2, offset: 10 },
      { epoch: 3, offset: 12 },
    ]);
    await reopened.close();
  });

  it('cuts into an earlier segment, deleting the later ones', async () => {
    const disk = new MemoryDisk();
    const log = await openLog(disk);
    log.append(records(0, 100, 1));
    await log.durable();
    const filesBefore = (await segmentFiles(disk)).length;
    log.truncateFrom(20);
    expect(log.epochHistory()).toEqual([{ epoch: 1, offset: 0 }]);
    expect(log.durableOffset).toBe(20);
    log.append(records(20, 3, 2));
    await log.durable();
    expect((await segmentFiles(disk)).length).toBeLessThan(filesBefore);
    await log.close();
    const reopened = await openLog(disk);
    expect(summary(await readAll(reopened))).toEqual(summary([...records(0, 20, 1), ...records(20, 3, 2)]));
    await reopened.close();
  });

  it('cut at a segment boundary and at the log start keeps offsets from being reused', async () => {
    const disk = new MemoryDisk();
    const log = await openLog(disk);
    log.append(records(0, 100, 1));
    await log.durable();
    const secondSegmentStart = Number((await segmentFiles(disk))[1]!.match(/\d+/)![0]);
    log.truncateFrom(secondSegmentStart);
    await log.durable();
    expect((await segmentFiles(disk)).length).toBe(1);
    expect(log.endOffset).toBe(secondSegmentStart);
    log.truncateFrom(0);
    await log.durable();
    expect([log.endOffset, log.lastEpoch, log.epochHistory().length]).toEqual([0, 0, 0]);
    await log.close();
    const reopened = await openLog(disk);
    expect([reopened.startOffset, reopened.endOffset]).toEqual([0, 0]);
    reopened.append(records(0, 2, 5));
    expect(await reopened.durable()).toBe(2);
    await reopened.close();
  });

  it('refuses a cut outside the log', async () => {
    const log = await openLog(new MemoryDisk());
    log.append(records(0, 3, 1));
    expect(codeOf(() => log.truncateFrom(4))).toBe('CHAIN_OFFSET_OUT_OF_RANGE');
    expect(codeOf(() => log.truncateFrom(-1))).toBe('CHAIN_OFFSET_OUT_OF_RANGE');
    expect(codeOf(() => log.truncateFrom(3))).toBe(undefined);
    await log.close();
  });
});

describe('promisedEpoch', () => {
  it('survives a reopen and a crash once durable() resolved', async () => {
    const disk = new MemoryDisk();
    const log = await openLog(disk);
    log.setPromisedEpoch(4);
    expect(log.promisedEpoch).toBe(4);
    await log.durable();
    disk.crash();
    const reopened = await openLog(disk);
    expect(reopened.promisedEpoch).toBe(4);
    reopened.setPromisedEpoch(9);
    await reopened.close();
    const again = await openLog(disk);
    expect(again.promisedEpoch).toBe(9);
    expect(() => again.setPromisedEpoch(8)).toThrow(/cannot go back/);
    await again.close();
  });
});

describe('retention', () => {
  it('drops whole segments from the front by bytes, never the active one', async () => {
    const disk = new MemoryDisk();
    const log = await openLog(disk, { retention: { maxBytes: 3000 } });
    log.append(records(0, 200, 1));
    await log.durable();
    const filesBefore = await segmentFiles(disk);
    await log.applyRetention(0);
    const filesAfter = await segmentFiles(disk);
    expect(filesAfter.length).toBeLessThan(filesBefore.length);
    expect(filesAfter.length).toBeGreaterThanOrEqual(3);
    expect(log.startOffset).toBe(Number(filesAfter[0]!.match(/\d+/)![0]));
    expect(log.startOffset).toBeGreaterThan(0);
    expect(log.epochHistory()).toEqual([{ epoch: 1, offset: log.startOffset }]);
    expect(await rejectionCode(log.read(0, 1, 1))).toBe('CHAIN_OFFSET_TRUNCATED');
    expect(summary(await readAll(log))).toEqual(summary(records(log.startOffset, 200 - log.startOffset, 1)));
    const start = log.startOffset;
    await log.close();
    const reopened = await openLog(disk);
    expect([reopened.startOffset, reopened.endOffset]).toEqual([start, 200]);
    await reopened.close();
  });

  it('drops segments whose newest record is older than maxAgeMs, keeping the active one', async () => {
    const disk = new MemoryDisk();
    const log = await openLog(disk, { retention: { maxAgeMs: 500 } });
    // appendedAtMs is 1000 + offset.
    log.append(records(0, 100, 1));
    await log.applyRetention(1_000 + 40 + 500);
    expect(log.startOffset).toBeGreaterThan(0);
    expect(log.startOffset).toBeLessThanOrEqual(41);
    await log.applyRetention(1_000_000);
    expect((await segmentFiles(disk)).length).toBe(1);
    expect(log.endOffset).toBe(100);
    expect(summary(await readAll(log))).toEqual(summary(records(log.startOffset, 100 - log.startOffset, 1)));
    await log.close();
  });
});

describe('retention bounded by a keep-from offset', () => {
  it('never drops a segment holding a record at or after keepFrom', async () => {
    const disk = new MemoryDisk();
    const log = await openLog(disk, { retention: { maxBytes: 0 } });
    log.append(records(0, 200, 1));
    await log.durable();
    await log.applyRetention(0, 50);
    expect(log.startOffset).toBeGreaterThan(0);
    expect(log.startOffset).toBeLessThanOrEqual(50);
    expect(summary(await log.read(50, 1, 1 << 20))).toEqual(summary(records(50, 1, 1)));
    await log.applyRetention(0);
    expect(log.startOffset).toBeGreaterThan(50);
    await log.close();
  });
});

describe('trim floor', () => {
  it('drops whole segments entirely below the floor without a retention policy, never past keepFrom', async () => {
    const disk = new MemoryDisk();
    const log = await openLog(disk);
    log.append(records(0, 200, 1));
    await log.durable();
    const segmentsBefore = (await segmentFiles(disk)).length;
    expect(segmentsBefore).toBeGreaterThan(3);
    // No policy and a floor at the start: nothing moves.
    await log.applyRetention(0, Number.POSITIVE_INFINITY, 0);
    expect(log.startOffset).toBe(0);
    await log.applyRetention(0, Number.POSITIVE_INFINITY, 120);
    // Every record below the new start was below the floor; the segment holding 120 stays.
    expect(log.startOffset).toBeGreaterThan(0);
    expect(log.startOffset).toBeLessThanOrEqual(120);
    expect((await segmentFiles(disk)).length).toBeLessThan(segmentsBefore);
    expect(await rejectionCode(log.read(0, 1, 1))).toBe('CHAIN_OFFSET_TRUNCATED');
    expect(summary(await readAll(log))).toEqual(summary(records(log.startOffset, 200 - log.startOffset, 1)));
    // keepFrom (the commit offset) bounds the floor.
    const start = log.startOffset;
    await log.applyRetention(0, start, 190);
    expect(log.startOffset).toBe(start);
    await log.close();
    const reopened = await openLog(disk);
    expect(reopened.startOffset).toBe(start);
    await reopened.close();
  });
});

describe('restart at an offset', () => {
  it('drops every record and continues empty at the offset, durably and across a reopen', async () => {
    const disk = new MemoryDisk();
    const log = await openLog(disk);
    log.append([...records(0, 60, 1), ...records(60, 40, 2)]);
    await log.durable();
    log.restartAt(250);
    // The shape moves at once; the durable offset never claims records the log no longer has.
    expect([log.startOffset, log.endOffset, log.lastEpoch]).toEqual([250, 250, 0]);
    expect(log.epochHistory()).toEqual([]);
    expect(log.durableOffset).toBeLessThanOrEqual(250);
    log.append(records(250, 30, 5));
    expect(await log.durable()).toBe(280);
    expect(await segmentFiles(disk)).not.toContain('log-00000000000000000000.wal');
    expect(await rejectionCode(log.read(249, 1, 1))).toBe('CHAIN_OFFSET_TRUNCATED');
    expect(summary(await readAll(log))).toEqual(summary(records(250, 30, 5)));
    expect(log.epochHistory()).toEqual([{ epoch: 5, offset: 250 }]);
    await log.close();
    disk.crash();
    const reopened = await openLog(disk);
    expect([reopened.startOffset, reopened.endOffset]).toEqual([250, 280]);
    expect(summary(await readAll(reopened))).toEqual(summary(records(250, 30, 5)));
    // Never back below the start: offsets are not reused.
    expect(codeOf(() => reopened.restartAt(249))).toBe('CHAIN_OFFSET_OUT_OF_RANGE');
    await reopened.close();
  });

  it('a restart not yet synced is lost whole in a crash, or kept whole', async () => {
    const disk = new MemoryDisk();
    const log = await openLog(disk);
    log.append(records(0, 30, 1));
    await log.durable();
    log.restartAt(100);
    log.append(records(100, 5, 2));
    await log.durable();
    log.restartAt(200);
    disk.crash();
    await log.close().catch(() => undefined);
    const reopened = await openLog(disk);
    // Either the durable state before the second restart, or an empty log: never a mix with a gap.
    const shape = [reopened.startOffset, reopened.endOffset];
    expect([
      [100, 105],
      [200, 200],
      [0, 0],
    ]).toContainEqual(shape);
    await reopened.close();
  });
});

/** A memory disk that notes, for each fdatasync, how its file was opened (background, syncing off the loop). */
function syncRecordingDisk(syncs: string[]): MemoryDisk {
  const disk = new MemoryDisk();
  const open = disk.open.bind(disk);
  (disk as Disk).open = async (filePath: string, mode: OpenMode, options: OpenOptions = {}) => {
    const file = await open(filePath, mode);
    const datasync = file.datasync.bind(file);
    file.datasync = async () => {
      syncs.push(
        options.background === true
          ? 'background'
          : options.syncOffThread === true
            ? 'writing, off the loop'
            : 'writing',
      );
      await datasync();
    };
    return file;
  };
  return disk;
}

describe('interval sync policy', () => {
  it('syncs on the timer through a background handle (the thread pool), batch syncs through the writing one, off the event loop', async () => {
    const clock = new ManualClock();
    const syncs: string[] = [];
    const disk = syncRecordingDisk(syncs);
    // One segment throughout: sealing a full one syncs it through the writing handle.
    const segmentBytes = DEFAULT_CHAIN_SEGMENT_BYTES;
    const log = await openLog(disk, { clock, sync: { mode: 'interval', intervalMs: 50 }, segmentBytes });
    syncs.length = 0;
    log.append(records(0, 10, 1));
    expect(await log.durable()).toBe(10);
    expect(syncs).toEqual([]);
    clock.advance(50);
    await until(() => syncs.length === 1, 'the interval sync');
    log.append(records(10, 5, 1));
    await log.durable();
    clock.advance(50);
    await until(() => syncs.length === 2, 'the next interval sync');
    expect(syncs).toEqual(['background', 'background']);
    await log.close();
    disk.crash();
    const batch = await openLog(disk, { clock, sync: { mode: 'batch' }, segmentBytes });
    expect(batch.endOffset).toBe(15);
    syncs.length = 0;
    batch.append(records(15, 1, 1));
    await batch.durable();
    expect(syncs).toEqual(['writing, off the loop']);
    await batch.close();
  });

  it('answers durable() with the written offset and syncs on the timer', async () => {
    const clock = new ManualClock();
    const disk = new MemoryDisk();
    const log = await openLog(disk, { clock, sync: { mode: 'interval', intervalMs: 50 } });
    const syncsAtOpen = disk.syncCount;
    log.append(records(0, 10, 1));
    expect(await log.durable()).toBe(10);
    expect(log.durableOffset).toBe(10);
    expect(disk.syncCount).toBe(syncsAtOpen);
    clock.advance(49);
    await log.read(0, 1, 1);
    expect(disk.syncCount).toBe(syncsAtOpen);
    clock.advance(1);
    await until(() => disk.syncCount === syncsAtOpen + 1, 'the interval sync');
    disk.crash();
    const reopened = await openLog(disk);
    expect(reopened.endOffset).toBe(10);
    await reopened.close();
  });
});
