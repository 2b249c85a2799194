import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Disk, isMeshError } from '../../../src/lib/index.js';
import { CorruptionError, type StoredSnapshot } from '../../../src/store/index.js';
import { RECORD_HEADER_BYTES } from '../../../src/store/record-frame.js';
import { encodeEntry } from '../../../src/store/records.js';
import { type DiskFixture, entries, entry, memoryFixture, nodeFixture, open, summary } from './support.js';

/** A segment opens with a header record (16 + 16 bytes) and a hard state record (16 + 24 bytes). */
const SEGMENT_OPENING_BYTES = 32 + 40;
/** An entry record with 8 data bytes: 16 header + 20 fixed fields + 8 data. */
const SMALL_ENTRY_RECORD_BYTES = 44;
const SMALL_SEGMENT_BYTES = 1024;

function snapshotAt(index: number, term: number): StoredSnapshot {
  return { index, term, config: new Uint8Array([9]), data: new Uint8Array(64).fill(index & 0xff) };
}

/** Flips one bit through the Disk seam, so the same damage can be done to real files. */
async function flipBit(disk: Disk, filePath: string, offset: number, bit: number): Promise<void> {
  const file = await disk.open(filePath, 'append');
  const [byte] = await file.readAt(offset, 1);
  await file.writeAt(Uint8Array.of((byte ?? 0) ^ (1 << bit)), offset);
  await file.datasync();
  await file.close();
}

async function sizeOf(disk: Disk, filePath: string): Promise<number> {
  const file = await disk.open(filePath, 'read');
  const size = await file.size();
  await file.close();
  return size;
}

describe.each([
  ['MemoryDisk', memoryFixture],
  ['NodeDisk', nodeFixture],
])('damaged files on %s', (_name, makeFixture) => {
  let fixture: DiskFixture;
  let firstSegment: string;
  const pathOf = (name: string): string => `${fixture.directory}/${name}`;
  const openError = async (options = {}): Promise<unknown> => {
    try {
      const { store } = await open(fixture.disk, fixture.directory, options);
      await store.close();
    } catch (error) {
      return error;
    }
    throw new Error('open succeeded but an error was expected');
  };

  beforeEach(async () => {
    fixture = await makeFixture();
    firstSegment = pathOf('log-00000000000000000001.wal');
  });
  afterEach(async () => {
    await fixture.cleanup();
  });

  it('cuts a torn final record, reports its size and keeps appending after it', async () => {
    const first = await open(fixture.disk, fixture.directory);
    await first.store.append(entries(1, 4, 1));
    await first.store.close();
    const partial = encodeEntry(entry(5, 1)).subarray(0, 30);
    const file = await fixture.disk.open(firstSegment, 'append');
    await file.append(partial);
    await file.datasync();
    await file.close();

    const second = await open(fixture.disk, fixture.directory);
    expect(summary(second.recovered.entries)).toEqual(summary(entries(1, 4, 1)));
    expect(second.recovered.tornBytes).toBe(partial.byteLength);
    expect(second.store.metrics.recoveredTornBytes).toBe(partial.byteLength);
    await second.store.append(entries(5, 6, 2));
    await second.store.close();

    const third = await open(fixture.disk, fixture.directory);
    expect(summary(third.recovered.entries)).toEqual(summary([...entries(1, 4, 1), ...entries(5, 6, 2)]));
    expect(third.recovered.tornBytes).toBe(0);
    await third.store.close();
  });

  it('treats a checksum failure in the last record of the last segment as a torn write', async () => {
    const first = await open(fixture.disk, fixture.directory);
    await first.store.append(entries(1, 4, 1));
    await first.store.close();
    await flipBit(fixture.disk, firstSegment, (await sizeOf(fixture.disk, firstSegment)) - 2, 3);

    const second = await open(fixture.disk, fixture.directory);
    expect(summary(second.recovered.entries)).toEqual(summary(entries(1, 3, 1)));
    expect(second.recovered.tornBytes).toBe(SMALL_ENTRY_RECORD_BYTES);
    await second.store.close();
  });

  it('stops with CorruptionError naming the file and offset for a bit flip in the middle', async () => {
    const first = await open(fixture.disk, fixture.directory);
    await first.store.append(entries(1, 6, 1));
    await first.store.close();
    const secondRecordOffset = SEGMENT_OPENING_BYTES + SMALL_ENTRY_RECORD_BYTES;
    await flipBit(fixture.disk, firstSegment, secondRecordOffset + RECORD_HEADER_BYTES + 25, 6);

    const error = await openError();
    expect(error).toBeInstanceOf(CorruptionError);
    expect(error).toMatchObject({ code: 'STORE_CORRUPT', file: firstSegment, offset: secondRecordOffset });
    expect((error as Error).message).toContain(firstSegment);
  });

  it('rejects any damage in a sealed segment, even in its last record', async () => {
    const options = { segmentSizeBytes: SMALL_SEGMENT_BYTES };
    const first = await open(fixture.disk, fixture.directory, options);
    for (let index = 1; index <= 30; index++) await first.store.append([entry(index, 1, 100)]);
    await first.store.close();
    await flipBit(fixture.disk, firstSegment, (await sizeOf(fixture.disk, firstSegment)) - 1, 0);

    const error = await openError(options);
    expect(isMeshError(error, 'STORE_CORRUPT')).toBe(true);
    expect(error).toMatchObject({ file: firstSegment });
  });

  it('falls back to the previous snapshot when the newest has a bad checksum', async () => {
    const first = await open(fixture.disk, fixture.directory);
    await first.store.append(entries(1, 30, 1));
    await first.store.saveSnapshot(snapshotAt(10, 1));
    await first.store.saveSnapshot(snapshotAt(20, 1));
    await first.store.close();
    const newest = pathOf('snapshot-00000000000000000020.snap');
    await flipBit(fixture.disk, newest, 50, 1);

    const second = await open(fixture.disk, fixture.directory);
    expect(second.recovered.snapshot).toEqual(snapshotAt(10, 1));
    expect(second.recovered.skippedSnapshots).toEqual([{ file: newest, reason: 'checksum mismatch' }]);
    expect(second.store.metrics.snapshotsSkipped).toBe(1);
    expect(second.recovered.entries.map((item) => item.index)).toEqual(
      Array.from({ length: 20 }, (_, offset) => offset + 11),
    );
    await second.store.close();
  });

  it('recovers from the log alone when no snapshot is valid and the log starts at index 1', async () => {
    const first = await open(fixture.disk, fixture.directory);
    await first.store.append(entries(1, 12, 1));
    await first.store.saveSnapshot(snapshotAt(10, 1));
    await first.store.close();
    await flipBit(fixture.disk, pathOf('snapshot-00000000000000000010.snap'), 3, 0);

    const second = await open(fixture.disk, fixture.directory);
    expect(second.recovered.snapshot).toBeUndefined();
    expect(summary(second.recovered.entries)).toEqual(summary(entries(1, 12, 1)));
    await second.store.close();
  });

  it('fails with STORE_UNRECOVERABLE when no valid snapshot covers the compacted log', async () => {
    const options = { segmentSizeBytes: SMALL_SEGMENT_BYTES };
    const first = await open(fixture.disk, fixture.directory, options);
    for (let index = 1; index <= 40; index++) await first.store.append([entry(index, 1, 100)]);
    await first.store.saveSnapshot(snapshotAt(30, 1));
    await first.store.compact(30);
    await first.store.close();
    await flipBit(fixture.disk, pathOf('snapshot-00000000000000000030.snap'), 60, 2);

    const error = await openError(options);
    expect(isMeshError(error, 'STORE_UNRECOVERABLE')).toBe(true);
  });
});
