import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isMeshError } from '../../../src/lib/index.js';
import { BACKGROUND_SYNC_BYTES, EMPTY_HARD_STATE, type StoredSnapshot } from '../../../src/store/index.js';
import { type DiskFixture, entries, entry, memoryFixture, nodeFixture, open, summary } from './support.js';

const SMALL_SEGMENT_BYTES = 1024;

function snapshotAt(index: number, term: number): StoredSnapshot {
  return {
    index,
    term,
    config: new Uint8Array([1, 2, 3]),
    data: new TextEncoder().encode(`state through ${index}`),
  };
}

async function segmentNames(fixture: DiskFixture): Promise<string[]> {
  return (await fixture.disk.list(fixture.directory)).filter((name) => name.endsWith('.wal'));
}

async function snapshotNames(fixture: DiskFixture): Promise<string[]> {
  return (await fixture.disk.list(fixture.directory)).filter((name) => name.endsWith('.snap'));
}

describe.each([
  ['MemoryDisk', memoryFixture],
  ['NodeDisk', nodeFixture],
])('RaftLogStore on %s', (_name, makeFixture) => {
  let fixture: DiskFixture;
  beforeEach(async () => {
    fixture = await makeFixture();
  });
  afterEach(async () => {
    await fixture.cleanup();
  });

  it('starts empty in a new directory', async () => {
    const { store, recovered } = await open(fixture.disk, fixture.directory);
    expect(recovered.entries).toEqual([]);
    expect(recovered.snapshot).toBeUndefined();
    expect(recovered.hardState).toEqual(EMPTY_HARD_STATE);
    expect(store.lastIndex).toBe(0);
    await store.close();
  });

  it('recovers appended entries and the newest hard state after reopening', async () => {
    const first = await open(fixture.disk, fixture.directory);
    await first.store.append(entries(1, 5, 1), { term: 1, vote: 2, commit: 0 });
    await first.store.append(entries(6, 9, 2, 100), { term: 2, vote: 3, commit: 5 });
    await first.store.append([], { term: 2, vote: 3, commit: 9 });
    await first.store.close();

    const second = await open(fixture.disk, fixture.directory);
    expect(summary(second.recovered.entries)).toEqual(
      summary([...entries(1, 5, 1), ...entries(6, 9, 2, 100)]),
    );
    expect(second.recovered.hardState).toEqual({ term: 2, vote: 3, commit: 9 });
    expect(second.recovered.tornBytes).toBe(0);
    expect(second.store.lastIndex).toBe(9);
    await second.store.close();
  });

  it('honours truncateSuffix after a restart and keeps appending after the cut', async () => {
    const first = await open(fixture.disk, fixture.directory);
    await first.store.append(entries(1, 10, 1));
    await first.store.truncateSuffix(7);
    await first.store.append(entries(7, 8, 3));
    await first.store.close();

    const second = await open(fixture.disk, fixture.directory);
    expect(summary(second.recovered.entries)).toEqual(summary([...entries(1, 6, 1), ...entries(7, 8, 3)]));
    await second.store.close();
  });

  it('treats an append below the last index as replacing the conflicting tail', async () => {
    const first = await open(fixture.disk, fixture.directory);
    await first.store.append(entries(1, 6, 1));
    await first.store.append(entries(4, 5, 2));
    expect(first.store.lastIndex).toBe(5);
    await first.store.close();

    const second = await open(fixture.disk, fixture.directory);
    expect(summary(second.recovered.entries)).toEqual(summary([...entries(1, 3, 1), ...entries(4, 5, 2)]));
    await second.store.close();
  });

  it('rolls over to a new segment named by its first index when the segment is full', async () => {
    const first = await open(fixture.disk, fixture.directory, { segmentSizeBytes: SMALL_SEGMENT_BYTES });
    for (let index = 1; index <= 40; index++) await first.store.append([entry(index, 1, 100)]);
    const names = await segmentNames(fixture);
    expect(names.length).toBeGreaterThan(3);
    expect(first.store.metrics.segments).toBe(names.length);
    expect(names[0]).toBe('log-00000000000000000001.wal');
    const firstIndexes = names.map((name) => Number(name.slice(4, 24)));
    expect(firstIndexes).toEqual([...firstIndexes].sort((a, b) => a - b));
    await first.store.close();

    const second = await open(fixture.disk, fixture.directory, { segmentSizeBytes: SMALL_SEGMENT_BYTES });
    expect(summary(second.recovered.entries)).toEqual(summary(entries(1, 40, 1, 100)));
    await second.store.close();
  });

  it('truncates back across sealed segments durably', async () => {
    const options = { segmentSizeBytes: SMALL_SEGMENT_BYTES };
    const first = await open(fixture.disk, fixture.directory, options);
    for (let index = 1; index <= 40; index += 4) await first.store.append(entries(index, index + 3, 1, 100));
    await first.store.append([], { term: 4, vote: 1, commit: 3 });
    const before = (await segmentNames(fixture)).length;
    await first.store.truncateSuffix(5);
    expect((await segmentNames(fixture)).length).toBeLessThan(before);
    await first.store.close();

    // The hard state lived in a removed segment; it must survive the truncation.
    const second = await open(fixture.disk, fixture.directory, options);
    expect(summary(second.recovered.entries)).toEqual(summary(entries(1, 4, 1, 100)));
    expect(second.recovered.hardState).toEqual({ term: 4, vote: 1, commit: 3 });
    await second.store.append(entries(5, 6, 4));
    await second.store.append(entries(7, 30, 4, 100));
    await second.store.close();

    const third = await open(fixture.disk, fixture.directory, options);
    expect(third.recovered.entries.map((item) => item.index)).toEqual(
      Array.from({ length: 30 }, (_, offset) => offset + 1),
    );
    await third.store.close();
  });

  it('compacts whole segments below a snapshot but never the one still needed', async () => {
    const options = { segmentSizeBytes: SMALL_SEGMENT_BYTES };
    const first = await open(fixture.disk, fixture.directory, options);
    for (let index = 1; index <= 60; index++) await first.store.append([entry(index, 2, 100)]);
    await first.store.append([], { term: 2, vote: 1, commit: 60 });
    const before = await segmentNames(fixture);
    await first.store.saveSnapshot(snapshotAt(35, 2));
    await first.store.compact(35);
    const after = await segmentNames(fixture);
    expect(after.length).toBeLessThan(before.length);
    expect(first.store.metrics.segmentsCompacted).toBe(before.length - after.length);
    // The first remaining segment must still hold index 36.
    expect(Number(after[0]!.slice(4, 24))).toBeLessThanOrEqual(36);
    await first.store.close();

    const second = await open(fixture.disk, fixture.directory, options);
    expect(second.recovered.snapshot?.index).toBe(35);
    expect(second.recovered.entries.map((item) => item.index)).toEqual(
      Array.from({ length: 25 }, (_, offset) => offset + 36),
    );
    expect(second.recovered.hardState).toEqual({ term: 2, vote: 1, commit: 60 });
    await second.store.close();
  });

  it('keeps only the newest snapshots and returns the newest on recovery', async () => {
    const first = await open(fixture.disk, fixture.directory, { snapshotsRetained: 2 });
    await first.store.append(entries(1, 30, 1));
    for (const index of [10, 20, 30]) await first.store.saveSnapshot(snapshotAt(index, 1));
    expect(await snapshotNames(fixture)).toEqual([
      'snapshot-00000000000000000020.snap',
      'snapshot-00000000000000000030.snap',
    ]);
    await first.store.close();

    const second = await open(fixture.disk, fixture.directory);
    expect(second.recovered.snapshot).toEqual(snapshotAt(30, 1));
    expect(second.recovered.entries).toEqual([]);
    expect(second.store.lastIndex).toBe(30);
    await second.store.close();
  });

  it('saves a snapshot given in parts as one file, and reads any range of its data back from the file', async () => {
    const first = await open(fixture.disk, fixture.directory, { snapshotsRetained: 1 });
    await first.store.append(entries(1, 20, 1));
    const encoder = new TextEncoder();
    const parts = [encoder.encode('header|'), encoder.encode('keys, '.repeat(50)), encoder.encode('|tail')];
    const whole = new Uint8Array(Buffer.concat(parts));
    await first.store.saveSnapshot({ index: 10, term: 1, config: new Uint8Array([7, 7]), data: parts });
    expect(await first.store.readSnapshotData(10, 0, whole.byteLength)).toEqual(whole);
    expect(await first.store.readSnapshotData(10, 5, 64)).toEqual(whole.subarray(5, 69));
    expect(await first.store.readSnapshotData(10, whole.byteLength - 5, 5)).toEqual(encoder.encode('|tail'));
    await expect(first.store.readSnapshotData(10, whole.byteLength - 4, 5)).rejects.toSatisfy(
      (error) => isMeshError(error) && error.code === 'STORE_SNAPSHOT_READ',
    );
    // Retention removed its file once a newer snapshot was saved: nothing is kept to read from.
    await first.store.saveSnapshot(snapshotAt(20, 1));
    await expect(first.store.readSnapshotData(10, 0, 1)).rejects.toSatisfy(
      (error) => isMeshError(error) && error.code === 'FILE_NOT_FOUND',
    );
    await first.store.close();

    const second = await open(fixture.disk, fixture.directory);
    expect(second.recovered.snapshot?.data).toEqual(snapshotAt(20, 1).data);
    await second.store.close();
  });

  it('syncs a large snapshot as it writes it, saved or received, so no one sync has all of it to flush', async () => {
    const first = await open(fixture.disk, fixture.directory);
    // 10 MiB in 512 KiB parts: synced after each 4 MiB, then at the end.
    const part = new Uint8Array(512 * 1024).fill(9);
    const parts = Array.from({ length: 20 }, () => part);
    const whole = new Uint8Array(Buffer.concat(parts));
    const header = { index: 10, term: 1, config: new Uint8Array([7]) };
    const syncsBefore = first.store.metrics.fsyncs;
    await first.store.saveSnapshot({ ...header, data: parts });
    const savedSyncs = first.store.metrics.fsyncs - syncsBefore;
    expect(savedSyncs).toBeGreaterThanOrEqual(Math.floor(whole.byteLength / BACKGROUND_SYNC_BYTES) + 1);

    const reception = first.store.receiveSnapshot({ ...header, index: 20 }, whole.byteLength);
    const receivedBefore = first.store.metrics.fsyncs;
    for (const chunk of parts) await reception.write(chunk);
    // Synced along the way, before the reception is finished.
    expect(first.store.metrics.fsyncs - receivedBefore).toBe(
      Math.floor(whole.byteLength / BACKGROUND_SYNC_BYTES),
    );
    await first.store.installReceivedSnapshot(reception);
    // Compared as bytes: a deep equality of 10 MiB element by element takes minutes.
    const read = await first.store.readSnapshotData(20, 0, whole.byteLength);
    expect(Buffer.compare(read, whole)).toBe(0);
    await first.store.close();
  });

  it('writes a received snapshot chunk by chunk into the same file a save makes; an abandoned one leaves none', async () => {
    const first = await open(fixture.disk, fixture.directory);
    const encoder = new TextEncoder();
    const chunks = [
      encoder.encode('first chunk|'),
      encoder.encode('second, '.repeat(40)),
      encoder.encode('|last'),
    ];
    const whole = new Uint8Array(Buffer.concat(chunks));
    const header = { index: 30, term: 4, config: new Uint8Array([7, 7]) };
    const reception = first.store.receiveSnapshot(header, whole.byteLength);
    for (const chunk of chunks) {
      expect(reception.complete).toBe(false);
      await reception.write(chunk);
    }
    expect(reception.complete).toBe(true);
    // Nothing under a snapshot's name until it is installed.
    expect(await snapshotNames(fixture)).toEqual([]);
    await first.store.installReceivedSnapshot(reception);
    expect(await first.store.readSnapshotData(30, 0, whole.byteLength)).toEqual(whole);
    const received = await fixture.disk.readFile(`${fixture.directory}/${(await snapshotNames(fixture))[0]}`);

    const namesBefore = await fixture.disk.list(fixture.directory);
    const abandoned = first.store.receiveSnapshot({ ...header, index: 40 }, whole.byteLength);
    await abandoned.write(chunks[0] as Uint8Array);
    expect(await fixture.disk.list(fixture.directory)).not.toEqual(namesBefore);
    await abandoned.abort();
    expect(await fixture.disk.list(fixture.directory)).toEqual(namesBefore);
    await first.store.close();

    // The same bytes as a snapshot saved whole.
    const saved = await makeFixture();
    try {
      const other = await open(saved.disk, saved.directory);
      await other.store.saveSnapshot({ ...header, data: whole });
      await other.store.close();
      const name = (await snapshotNames(saved))[0];
      expect(await saved.disk.readFile(`${saved.directory}/${name}`)).toEqual(received);
    } finally {
      await saved.cleanup();
    }
    const second = await open(fixture.disk, fixture.directory);
    expect(second.recovered.snapshot?.index).toBe(30);
    expect(second.recovered.snapshot?.data).toEqual(whole);
    await second.store.close();
  });

  it('starts a fresh log after a snapshot the log does not match', async () => {
    const first = await open(fixture.disk, fixture.directory);
    await first.store.append(entries(1, 5, 1), { term: 3, vote: 0, commit: 2 });
    await first.store.saveSnapshot(snapshotAt(50, 3));
    await first.store.resetToSnapshot(50);
    await first.store.append(entries(51, 52, 3));
    await first.store.close();

    const second = await open(fixture.disk, fixture.directory);
    expect(second.recovered.snapshot?.index).toBe(50);
    expect(summary(second.recovered.entries)).toEqual(summary(entries(51, 52, 3)));
    expect(second.recovered.hardState).toEqual({ term: 3, vote: 0, commit: 2 });
    await second.store.close();
  });

  it('refuses writes after close with STORE_CLOSED', async () => {
    const { store } = await open(fixture.disk, fixture.directory);
    await store.close();
    await expect(store.append(entries(1, 1, 1))).rejects.toSatisfy((error) =>
      isMeshError(error, 'STORE_CLOSED'),
    );
  });
});
