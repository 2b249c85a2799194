import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Disk, isMeshError, MemoryDisk } from '../../../src/lib/index.js';
import { SegmentPreallocationError } from '../../../src/store/index.js';
import { scanSegment } from '../../../src/store/record-frame.js';
import { encodeEntry } from '../../../src/store/records.js';
import { withFileOverrides } from '../../support/file-overrides.js';
import {
  CrashableDisk,
  type DiskFixture,
  entries,
  entry,
  memoryFixture,
  nodeFixture,
  open,
  summary,
} from './support.js';

const SEGMENT_BYTES = 64 * 1024;
const SMALL_SEGMENT_BYTES = 1024;
/** A segment opens with a header record (16 + 16 bytes) and a hard state record (16 + 24 bytes). */
const SEGMENT_OPENING_BYTES = 32 + 40;
/** An entry record with 8 data bytes: 16 header + 20 fixed fields + 8 data. */
const SMALL_ENTRY_RECORD_BYTES = 44;
const FIRST_SEGMENT = 'log-00000000000000000001.wal';

async function sizeOf(disk: Disk, filePath: string): Promise<number> {
  const file = await disk.open(filePath, 'read');
  const size = await file.size();
  await file.close();
  return size;
}

/** Where the records of the segment at `filePath` end, read the way recovery reads them. */
async function recordsEnd(disk: Disk, filePath: string): Promise<number> {
  const scan = scanSegment(await disk.readFile(filePath), filePath, true);
  expect(scan.zeroTail).toBe(true);
  return scan.validEndOffset;
}

async function segmentNames(disk: Disk, directory: string): Promise<string[]> {
  return (await disk.list(directory)).filter((name) => name.endsWith('.wal'));
}

describe.each([
  ['MemoryDisk', memoryFixture],
  ['NodeDisk', nodeFixture],
])('preallocated segments on %s', (_name, makeFixture) => {
  let fixture: DiskFixture;
  const pathOf = (name: string): string => `${fixture.directory}/${name}`;
  beforeEach(async () => {
    fixture = await makeFixture();
  });
  afterEach(async () => {
    await fixture.cleanup();
  });

  it('sizes a new segment to the segment size while its records end earlier, and cuts it to them on close', async () => {
    const options = { segmentSizeBytes: SEGMENT_BYTES };
    const { store } = await open(fixture.disk, fixture.directory, options);
    await store.append(entries(1, 5, 1));
    const end = SEGMENT_OPENING_BYTES + 5 * SMALL_ENTRY_RECORD_BYTES;
    expect(await sizeOf(fixture.disk, pathOf(FIRST_SEGMENT))).toBe(SEGMENT_BYTES);
    expect(await recordsEnd(fixture.disk, pathOf(FIRST_SEGMENT))).toBe(end);
    await store.close();
    expect(await sizeOf(fixture.disk, pathOf(FIRST_SEGMENT))).toBe(end);
  });

  it('preallocates the active segment again on reopening and appends right after its records', async () => {
    const options = { segmentSizeBytes: SEGMENT_BYTES };
    const first = await open(fixture.disk, fixture.directory, options);
    await first.store.append(entries(1, 3, 1));
    await first.store.close();
    const second = await open(fixture.disk, fixture.directory, options);
    expect(await sizeOf(fixture.disk, pathOf(FIRST_SEGMENT))).toBe(SEGMENT_BYTES);
    await second.store.append(entries(4, 6, 1));
    expect(await recordsEnd(fixture.disk, pathOf(FIRST_SEGMENT))).toBe(
      SEGMENT_OPENING_BYTES + 6 * SMALL_ENTRY_RECORD_BYTES,
    );
    await second.store.close();
    const third = await open(fixture.disk, fixture.directory, options);
    expect(summary(third.recovered.entries)).toEqual(summary(entries(1, 6, 1)));
    await third.store.close();
  });

  it('a copy of the directory taken while the store runs (a file-level backup) opens with every entry and carries on after them', async () => {
    const options = { segmentSizeBytes: SEGMENT_BYTES };
    const running = await open(fixture.disk, fixture.directory, options);
    await running.store.append(entries(1, 6, 1), { term: 1, vote: 1, commit: 4 });
    const backup = `${fixture.directory}-backup`;
    await fixture.disk.makeDirectory(backup);
    for (const name of await fixture.disk.list(fixture.directory)) {
      const copy = await fixture.disk.open(`${backup}/${name}`, 'create');
      await copy.append(await fixture.disk.readFile(pathOf(name)));
      await copy.datasync();
      await copy.close();
    }
    await running.store.close();

    const restored = await open(fixture.disk, backup, options);
    expect(summary(restored.recovered.entries)).toEqual(summary(entries(1, 6, 1)));
    expect(restored.recovered.hardState).toEqual({ term: 1, vote: 1, commit: 4 });
    expect(restored.recovered.tornBytes).toBe(0);
    await restored.store.append(entries(7, 8, 2));
    await restored.store.close();
    const again = await open(fixture.disk, backup, options);
    expect(summary(again.recovered.entries)).toEqual(summary([...entries(1, 6, 1), ...entries(7, 8, 2)]));
    await again.store.close();
  });
});

describe('crashes in preallocated segments on MemoryDisk', () => {
  const DIRECTORY = '/raft';
  const segment = `${DIRECTORY}/${FIRST_SEGMENT}`;
  const options = { segmentSizeBytes: SEGMENT_BYTES };

  it('recovers after a crash in the middle of a segment (zeros after its records) and appends at their end', async () => {
    const crashable = new CrashableDisk();
    const first = await open(crashable.view(), DIRECTORY, options);
    await first.store.append(entries(1, 5, 1), { term: 1, vote: 1, commit: 3 });
    crashable.crash();

    const second = await open(crashable.view(), DIRECTORY, options);
    expect(summary(second.recovered.entries)).toEqual(summary(entries(1, 5, 1)));
    expect(second.recovered.hardState).toEqual({ term: 1, vote: 1, commit: 3 });
    expect(second.recovered.tornBytes).toBe(0);
    expect(await sizeOf(crashable.memory, segment)).toBe(SEGMENT_BYTES);
    await second.store.append(entries(6, 7, 2));
    crashable.crash();

    const third = await open(crashable.view(), DIRECTORY, options);
    expect(summary(third.recovered.entries)).toEqual(summary([...entries(1, 5, 1), ...entries(6, 7, 2)]));
    await third.store.close();
  });

  it('cuts a torn record followed by zeros, counting its frame and not the zeros, and appends in its place', async () => {
    const crashable = new CrashableDisk();
    const first = await open(crashable.view(), DIRECTORY, options);
    await first.store.append(entries(1, 4, 1));
    // The start of entry 5's record reached the disk; the rest of the file is still zeros.
    const partial = encodeEntry(entry(5, 1)).slice(0, 30);
    const file = await crashable.memory.open(segment, 'append');
    await file.writeAt(partial, SEGMENT_OPENING_BYTES + 4 * SMALL_ENTRY_RECORD_BYTES);
    await file.datasync();
    crashable.crash();

    const second = await open(crashable.view(), DIRECTORY, options);
    expect(summary(second.recovered.entries)).toEqual(summary(entries(1, 4, 1)));
    // The header (whole) gives the record's length: 44 bytes, of which 30 were written.
    expect(second.recovered.tornBytes).toBe(SMALL_ENTRY_RECORD_BYTES);
    await second.store.append(entries(5, 6, 2));
    crashable.crash();

    const third = await open(crashable.view(), DIRECTORY, options);
    expect(summary(third.recovered.entries)).toEqual(summary([...entries(1, 4, 1), ...entries(5, 6, 2)]));
    expect(third.recovered.tornBytes).toBe(0);
    await third.store.close();
  });

  it('refuses a damaged record followed by valid ones, zeros after them or not', async () => {
    const crashable = new CrashableDisk();
    const first = await open(crashable.view(), DIRECTORY, options);
    await first.store.append(entries(1, 6, 1));
    crashable.crash();
    const secondRecord = SEGMENT_OPENING_BYTES + SMALL_ENTRY_RECORD_BYTES;
    crashable.memory.flipBit(segment, secondRecord + 16 + 25, 6);

    const error = await open(crashable.view(), DIRECTORY, options).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(isMeshError(error, 'STORE_CORRUPT')).toBe(true);
    expect(error).toMatchObject({ file: segment, offset: secondRecord });
  });

  it('after roll-overs only the newest segment ends in zeros, and a crash keeps every entry', async () => {
    const crashable = new CrashableDisk();
    const small = { segmentSizeBytes: SMALL_SEGMENT_BYTES };
    const first = await open(crashable.view(), DIRECTORY, small);
    for (let index = 1; index <= 30; index++) await first.store.append([entry(index, 1, 100)]);
    crashable.crash();

    const names = await segmentNames(crashable.memory, DIRECTORY);
    expect(names.length).toBeGreaterThan(2);
    for (const name of names.slice(0, -1)) {
      const filePath = `${DIRECTORY}/${name}`;
      expect(await sizeOf(crashable.memory, filePath)).toBe(await recordsEnd(crashable.memory, filePath));
    }
    expect(await sizeOf(crashable.memory, `${DIRECTORY}/${names.at(-1)}`)).toBe(SMALL_SEGMENT_BYTES);
    const all = Array.from({ length: 30 }, (_, position) => entry(position + 1, 1, 100));
    const second = await open(crashable.view(), DIRECTORY, small);
    expect(summary(second.recovered.entries)).toEqual(summary(all));
    await second.store.append([entry(31, 2, 100)]);
    crashable.crash();
    const third = await open(crashable.view(), DIRECTORY, small);
    expect(summary(third.recovered.entries)).toEqual(summary([...all, entry(31, 2, 100)]));
    await third.store.close();
  });

  it('fails with a typed disk-full error when a new segment cannot be sized, losing no acknowledged entry', async () => {
    const memory = new MemoryDisk();
    await memory.makeDirectory('/data');
    let full = false;
    const disk = diskFullWhen(memory, () => full);
    const small = { segmentSizeBytes: SMALL_SEGMENT_BYTES };
    const first = await open(disk, '/data/raft', small);
    full = true;
    let acknowledged = 0;
    let failure: unknown;
    for (let index = 1; index <= 30 && failure === undefined; index++) {
      await first.store.append([entry(index, 1, 100)]).then(
        () => {
          acknowledged = index;
        },
        (caught: unknown) => {
          failure = caught;
        },
      );
    }
    expect(isMeshError(failure, 'STORE_FAILED')).toBe(true);
    const cause = (failure as Error).cause;
    expect(cause).toBeInstanceOf(SegmentPreallocationError);
    expect(cause).toMatchObject({ code: 'STORE_PREALLOCATE', diskFull: true });
    expect((cause as Error).message).toContain('the disk is full');
    await first.store.close();

    const reopened = await open(memory, '/data/raft', small);
    const kept = Array.from({ length: acknowledged }, (_, position) => entry(position + 1, 1, 100));
    expect(acknowledged).toBeGreaterThan(0);
    expect(summary(reopened.recovered.entries)).toEqual(summary(kept));
    await reopened.store.close();
  });
});

/** `memory`, except that growing a file with `truncate` fails with ENOSPC while `isFull()`. */
function diskFullWhen(memory: MemoryDisk, isFull: () => boolean): Disk {
  return withFileOverrides(memory, (file) => ({
    truncate: async (size: number) => {
      if (isFull() && size > (await file.size())) {
        throw Object.assign(new Error('ENOSPC: no space left on device, ftruncate'), { code: 'ENOSPC' });
      }
      return file.truncate(size);
    },
  }));
}
