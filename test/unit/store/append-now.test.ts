import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isMeshError, MemoryDisk } from '../../../src/lib/index.js';
import { INLINE_SYNC_SLOW_MS, type InlineIoPolicy, NodeDisk } from '../../../src/lib/node/index.js';
import { MAX_RECORD_PAYLOAD_BYTES, type RaftLogStore } from '../../../src/store/index.js';
import { withFileOverrides } from '../../support/file-overrides.js';
import { type DiskFixture, entries, entry, memoryFixture, nodeFixture, open, summary } from './support.js';

const SMALL_SEGMENT_BYTES = 1024;

/**
 * The log as a restart finds it: after a crash that loses every unsynced write on a memory disk
 * (`store` is abandoned), after closing `store` on a real one.
 */
async function recoveredEntries(fixture: DiskFixture, store: RaftLogStore, options = {}) {
  if (fixture.memory === undefined) await store.close();
  else fixture.memory.crash();
  const reopened = await open(fixture.disk, fixture.directory, options);
  const recovered = reopened.recovered;
  await reopened.store.close();
  return recovered;
}

describe.each([
  ['MemoryDisk that writes now', () => memoryFixture({ writesNow: true })],
  ['NodeDisk with inline writes', () => nodeFixture({ inlineWrites: true })],
])('RaftLogStore.appendNow on %s', (_name, makeFixture) => {
  let fixture: DiskFixture;
  beforeEach(async () => {
    fixture = await makeFixture();
  });
  afterEach(async () => {
    await fixture.cleanup();
  });

  it('makes an append durable before it returns, with no promise to wait for', async () => {
    const { store } = await open(fixture.disk, fixture.directory);
    const fsyncsBefore = store.metrics.fsyncs;
    // A real disk's sync may outlast the inline wait on a busy machine, and then it is a promise.
    const first = store.appendNow(entries(1, 3, 1), { term: 1, vote: 2, commit: 0 });
    if (fixture.memory !== undefined) expect(first).toBeUndefined();
    await first;
    expect(store.appendNow(entries(4, 5, 1, 40), { term: 1, vote: 2, commit: 3 })).toBeUndefined();
    expect(store.metrics.fsyncs).toBe(fsyncsBefore + 2);
    expect(store.lastIndex).toBe(5);
    const recovered = await recoveredEntries(fixture, store);
    expect(summary(recovered.entries)).toEqual(summary([...entries(1, 3, 1), ...entries(4, 5, 1, 40)]));
    expect(recovered.hardState).toEqual({ term: 1, vote: 2, commit: 3 });
  });

  it('replaces a conflicting tail within the active segment before it returns', async () => {
    const { store } = await open(fixture.disk, fixture.directory);
    await store.append(entries(1, 6, 1));
    await store.appendNow(entries(4, 5, 2));
    expect(store.lastIndex).toBe(5);
    expect(store.metrics.truncations).toBe(1);
    expect(summary((await recoveredEntries(fixture, store)).entries)).toEqual(
      summary([...entries(1, 3, 1), ...entries(4, 5, 2)]),
    );
  });

  it('queues behind a write in progress and keeps the order of both', async () => {
    const { store } = await open(fixture.disk, fixture.directory);
    const queued = store.append(entries(1, 2, 1));
    const behind = store.appendNow(entries(3, 4, 1));
    expect(behind).toBeInstanceOf(Promise);
    await Promise.all([queued, behind]);
    expect(summary((await recoveredEntries(fixture, store)).entries)).toEqual(summary(entries(1, 4, 1)));
  });

  it('leaves an append that rolls over to a new segment to the queue, and loses nothing', async () => {
    const options = { segmentSizeBytes: SMALL_SEGMENT_BYTES };
    const { store } = await open(fixture.disk, fixture.directory, options);
    let queuedWrites = 0;
    for (let index = 1; index <= 30; index++) {
      const written = store.appendNow([entry(index, 1, 100)]);
      if (written !== undefined) {
        queuedWrites++;
        await written;
      }
    }
    expect(store.metrics.segmentsCreated).toBeGreaterThan(2);
    // At least every roll-over went through the queue.
    expect(queuedWrites).toBeGreaterThanOrEqual(store.metrics.segmentsCreated - 1);
    expect(summary((await recoveredEntries(fixture, store, options)).entries)).toEqual(
      summary(entries(1, 30, 1, 100)),
    );
  });

  it('refuses as append does: after close, and an oversized entry queues nothing', async () => {
    const { store } = await open(fixture.disk, fixture.directory);
    const huge = { index: 1, term: 1, kind: 0, data: new Uint8Array(MAX_RECORD_PAYLOAD_BYTES) };
    await expect(store.appendNow([huge])).rejects.toSatisfy((error) =>
      isMeshError(error, 'STORE_RECORD_TOO_LARGE'),
    );
    expect(store.lastIndex).toBe(0);
    await store.close();
    await expect(store.appendNow(entries(1, 1, 1))).rejects.toMatchObject({ code: 'STORE_CLOSED' });
  });
});

describe('RaftLogStore.appendNow on a disk that cannot write now', () => {
  let root: string | undefined;
  afterEach(async () => {
    if (root !== undefined) await rm(root, { recursive: true, force: true });
    root = undefined;
  });

  it('returns a promise on a disk without inline writes, durable once it settles', async () => {
    const disk = new MemoryDisk();
    await disk.makeDirectory('/data');
    const { store } = await open(disk, '/data/raft');
    const written = store.appendNow(entries(1, 2, 1));
    expect(written).toBeInstanceOf(Promise);
    await written;
    disk.crash();
    const reopened = await open(disk, '/data/raft');
    expect(summary(reopened.recovered.entries)).toEqual(summary(entries(1, 2, 1)));
    await reopened.store.close();
  });

  it('writes through the thread pool after a slow sync, and the promise settles once durable', async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'meshos-store-'));
    const disk = new NodeDisk({ inlineWrites: true });
    const directory = path.join(root, 'raft');
    const { store } = await open(disk, directory);
    // As if the device's last sync had been slow: nothing runs on the calling thread now.
    (disk as unknown as { inlineIo: { policy: InlineIoPolicy } }).inlineIo.policy.synced(
      INLINE_SYNC_SLOW_MS + 20,
    );
    const written = store.appendNow(entries(1, 3, 1));
    expect(written).toBeInstanceOf(Promise);
    await written;
    await store.append(entries(4, 4, 1));
    await store.close();
    const reopened = await open(disk, directory);
    expect(summary(reopened.recovered.entries)).toEqual(summary(entries(1, 4, 1)));
    await reopened.store.close();
  });

  it('fails the store with STORE_FAILED when the write fails, and refuses every later write', async () => {
    const memory = new MemoryDisk({ writesNow: true });
    await memory.makeDirectory('/data');
    let failWrites = false;
    const disk = withFileOverrides(memory, (file) => ({
      writeAtNow: (data: Uint8Array, offset: number) => {
        if (failWrites) throw new Error('device gone');
        return file.writeAtNow?.(data, offset) === true;
      },
    }));
    const { store } = await open(disk, '/data/raft');
    expect(store.appendNow(entries(1, 1, 1))).toBeUndefined();
    failWrites = true;
    const failed = store.appendNow(entries(2, 2, 1));
    await expect(failed).rejects.toSatisfy((error) => isMeshError(error, 'STORE_FAILED'));
    await expect(store.append(entries(3, 3, 1))).rejects.toSatisfy((error) =>
      isMeshError(error, 'STORE_FAILED'),
    );
  });
});
