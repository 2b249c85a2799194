import { describe, expect, it } from 'vitest';
import { type Disk, isMeshError, ManualClock, MemoryDisk, MeshError } from '../../../src/lib/index.js';
import {
  FSYNC_LATENCY_BUCKET_BOUNDS_MS,
  MAX_PENDING_SNAPSHOT_SAVES,
  MAX_RECORD_PAYLOAD_BYTES,
  validateStoreOptions,
} from '../../../src/store/index.js';
import { withFileOverrides } from '../../support/file-overrides.js';
import { entry, open, summary } from './support.js';

/** A MemoryDisk whose file syncs wait on the test and can be made to fail. */
class GatedDisk {
  readonly memory = new MemoryDisk();
  private gate: { release: () => void; promise: Promise<void> } | undefined;
  syncsStarted = 0;
  failSyncs = false;

  constructor(
    private readonly clock?: ManualClock,
    private readonly syncLatencyMs = 0,
  ) {}

  hold(): void {
    let release = (): void => undefined;
    const promise = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.gate = { release, promise };
  }

  release(): void {
    const gate = this.gate;
    this.gate = undefined;
    gate?.release();
  }

  view(): Disk {
    return withFileOverrides(this.memory, (file) => ({
      datasync: async () => {
        this.syncsStarted++;
        if (this.gate !== undefined) await this.gate.promise;
        this.clock?.advance(this.syncLatencyMs);
        if (this.failSyncs) throw new MeshError('DISK_IO', 'injected fdatasync failure');
        await file.datasync();
      },
    }));
  }
}

describe('group commit', () => {
  it('makes many concurrent appends share far fewer fdatasyncs', async () => {
    const disk = new MemoryDisk();
    const { store } = await open(disk, '/raft');
    const syncsBefore = disk.syncCount;
    const appenders = 200;
    await Promise.all(Array.from({ length: appenders }, (_, offset) => store.append([entry(offset + 1, 1)])));
    const syncs = disk.syncCount - syncsBefore;
    expect(syncs).toBeGreaterThanOrEqual(1);
    expect(syncs).toBeLessThanOrEqual(2);
    expect(store.metrics.appends).toBe(appenders);
    await store.close();

    const reopened = await open(disk, '/raft');
    expect(reopened.recovered.entries.map((item) => item.index)).toEqual(
      Array.from({ length: appenders }, (_, offset) => offset + 1),
    );
    await reopened.store.close();
  });

  it('sends every append made while a sync is in flight out with the next single sync', async () => {
    const gated = new GatedDisk();
    const { store } = await open(gated.view(), '/raft');
    gated.hold();
    const settled: number[] = [];
    const first = store.append([entry(1, 1)]).then(() => settled.push(1));
    await new Promise((resolve) => setImmediate(resolve));
    const syncsWhileHeld = gated.syncsStarted;
    const waiting = Array.from({ length: 50 }, (_, offset) =>
      store.append([entry(offset + 2, 1)]).then(() => settled.push(offset + 2)),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(gated.syncsStarted).toBe(syncsWhileHeld);
    expect(settled).toEqual([]);
    gated.release();
    await Promise.all([first, ...waiting]);
    expect(gated.syncsStarted).toBe(syncsWhileHeld + 1);
    expect(settled).toEqual(Array.from({ length: 51 }, (_, offset) => offset + 1));
    await store.close();
  });

  it('records fsync latency from the injected clock in histogram buckets', async () => {
    const clock = new ManualClock();
    const gated = new GatedDisk(clock, 7);
    const { store } = await open(gated.view(), '/raft', { clock });
    const before = store.metrics.fsyncs;
    await store.append([entry(1, 1)]);
    await store.append([entry(2, 1)]);
    expect(store.metrics.fsyncs - before).toBe(2);
    const bucket = FSYNC_LATENCY_BUCKET_BOUNDS_MS.findIndex((boundMs) => boundMs >= 7);
    expect(store.metrics.fsyncLatencyBuckets[bucket]).toBe(store.metrics.fsyncs);
    expect(store.metrics.fsyncLatencyTotalMs).toBe(7 * store.metrics.fsyncs);
    expect(store.metrics.appendedEntries).toBe(2);
    expect(store.metrics.bytesWritten).toBeGreaterThan(0);
    await store.close();
  });

  it('fails the batch and every later write with STORE_FAILED after a sync error', async () => {
    const gated = new GatedDisk();
    const { store } = await open(gated.view(), '/raft');
    await store.append([entry(1, 1)]);
    gated.failSyncs = true;
    await expect(store.append([entry(2, 1)])).rejects.toSatisfy((error) =>
      isMeshError(error, 'STORE_FAILED'),
    );
    gated.failSyncs = false;
    await expect(store.append([entry(3, 1)])).rejects.toSatisfy((error) =>
      isMeshError(error, 'STORE_FAILED'),
    );
    await store.close();
    const reopened = await open(gated.memory, '/raft');
    expect(summary(reopened.recovered.entries.slice(0, 1))).toEqual(summary([entry(1, 1)]));
    await reopened.store.close();
  });

  it('reports every problem with the options at once', () => {
    expect(validateStoreOptions({ segmentSizeBytes: 10, snapshotsRetained: 0 })).toHaveLength(2);
    expect(validateStoreOptions({})).toEqual([]);
  });
});

describe('limits', () => {
  it('refuses an entry above the record size limit as a typed error and queues nothing', async () => {
    const { store } = await open(new MemoryDisk(), '/raft');
    const huge = { index: 1, term: 1, kind: 0, data: new Uint8Array(MAX_RECORD_PAYLOAD_BYTES) };
    await expect(store.append([huge])).rejects.toSatisfy((error) =>
      isMeshError(error, 'STORE_RECORD_TOO_LARGE'),
    );
    expect(store.lastIndex).toBe(0);
    await store.append([entry(1, 1)]);
    expect(store.lastIndex).toBe(1);
    await store.close();
  });
});

describe('snapshot save queue', () => {
  it('refuses snapshot saves beyond the queue bound with STORE_OVERLOADED', async () => {
    const { store } = await open(new MemoryDisk(), '/raft');
    await store.append([entry(1, 1)]);
    const snapshot = { index: 1, term: 1, config: new Uint8Array(), data: new Uint8Array(10) };
    const accepted = Array.from({ length: MAX_PENDING_SNAPSHOT_SAVES }, () => store.saveSnapshot(snapshot));
    await expect(store.saveSnapshot(snapshot)).rejects.toSatisfy((error) =>
      isMeshError(error, 'STORE_OVERLOADED'),
    );
    await Promise.all(accepted);
    expect(store.metrics.snapshotsSaved).toBe(MAX_PENDING_SNAPSHOT_SAVES);
    await store.saveSnapshot(snapshot);
    await store.close();
  });
});
