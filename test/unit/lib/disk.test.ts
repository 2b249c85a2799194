import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Disk,
  FileNotFoundError,
  MemoryDisk,
  SeededRandom,
  type StepSource,
} from '../../../src/lib/index.js';
import {
  INLINE_MAX_BATCH_BYTES,
  INLINE_SYNC_SLOW_MS,
  InlineIoPolicy,
  NodeDisk,
} from '../../../src/lib/node/index.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);

async function roundTrip(disk: Disk, directory: string): Promise<void> {
  await disk.makeDirectory(directory);
  const filePath = path.join(directory, 'log');
  const file = await disk.open(filePath, 'append');
  await file.append(bytes('hello '));
  await file.append(bytes('world'));
  await file.datasync();
  expect(await file.size()).toBe(11);
  expect(text(await file.readAt(6, 5))).toBe('world');
  expect(text(await file.readAt(6, 100))).toBe('world');
  await file.writeAt(bytes('W'), 6);
  await file.truncate(8);
  await file.datasync();
  await file.close();
  expect(text(await disk.readFile(filePath))).toBe('hello Wo');

  const reopened = await disk.open(filePath, 'append');
  await reopened.append(bytes('!'));
  await reopened.close();
  expect(text(await disk.readFile(filePath))).toBe('hello Wo!');

  const temporary = path.join(directory, 'state.tmp');
  const created = await disk.open(temporary, 'create');
  await created.append(bytes('v2'));
  await created.datasync();
  await created.close();
  await disk.rename(temporary, path.join(directory, 'state'));
  await disk.fsyncDirectory(directory);
  expect(await disk.list(directory)).toEqual(['log', 'state']);
  expect(await disk.exists(path.join(directory, 'state'))).toBe(true);
  await disk.remove(path.join(directory, 'log'));
  expect(await disk.list(directory)).toEqual(['state']);
  await expect(disk.readFile(path.join(directory, 'missing'))).rejects.toBeInstanceOf(FileNotFoundError);
  await expect(disk.open(path.join(directory, 'missing'), 'read')).rejects.toBeInstanceOf(FileNotFoundError);
}

describe('NodeDisk', () => {
  let directory: string | undefined;
  afterEach(async () => {
    if (directory !== undefined) await rm(directory, { recursive: true, force: true });
  });

  it('round-trips files with fdatasync, rename and directory fsync on real files', async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'meshos-disk-'));
    await roundTrip(new NodeDisk(), path.join(directory, 'data'));
  });

  it('round-trips the same with writes and fdatasync inline on the calling thread', async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'meshos-disk-'));
    await roundTrip(new NodeDisk({ inlineWrites: true }), path.join(directory, 'data'));
  });

  it('reports an inline write to a closed file as a typed disk error', async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'meshos-disk-'));
    const disk = new NodeDisk({ inlineWrites: true });
    const file = await disk.open(path.join(directory, 'closed'), 'create');
    await file.close();
    await expect(file.append(new Uint8Array([1]))).rejects.toMatchObject({ code: 'DISK_IO' });
  });

  it('finds where a file sized up by truncate stops holding anything but zeros', async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'meshos-disk-'));
    const disk = new NodeDisk();
    const file = await disk.open(path.join(directory, 'sparse'), 'create');
    expect(await file.dataEnd?.()).toBe(0);
    await file.truncate(3 * 1024 * 1024 + 5);
    expect(await file.dataEnd?.()).toBe(0);
    // At a 1 MiB read's edge, inside a 64 KiB comparison, and with zeros written after data.
    for (const lastByte of [1024 * 1024 + 4, 2 * 1024 * 1024 + 4, 2 * 1024 * 1024 + 70_000]) {
      await file.writeAt(Uint8Array.of(9, 0, 0), lastByte);
      expect(await file.dataEnd?.()).toBe(lastByte + 1);
    }
    expect(await file.size()).toBe(3 * 1024 * 1024 + 5);
    await file.close();
  });
});

describe('InlineIoPolicy', () => {
  it('keeps small writes and syncs on the event loop while syncs are quick', () => {
    const policy = new InlineIoPolicy();
    expect(policy.inline(4_096)).toBe(true);
    policy.synced(INLINE_SYNC_SLOW_MS);
    expect(policy.inline(INLINE_MAX_BATCH_BYTES)).toBe(true);
  });

  it('sends a batch larger than INLINE_MAX_BATCH_BYTES to the thread pool', () => {
    expect(new InlineIoPolicy().inline(INLINE_MAX_BATCH_BYTES + 1)).toBe(false);
  });

  it('after a slow sync sends everything to the pool until a sync is quick again', () => {
    const policy = new InlineIoPolicy();
    policy.synced(INLINE_SYNC_SLOW_MS + 20);
    expect([policy.quick, policy.inline(1)]).toEqual([false, false]);
    policy.synced(INLINE_SYNC_SLOW_MS * 2);
    expect(policy.inline(1)).toBe(false);
    policy.synced(1);
    expect(policy.inline(1)).toBe(true);
  });
});

/** A disk that writes inline and records its inline steps, and the moment before each inline sync. */
function recordingInlineDisk(): { disk: NodeDisk; events: string[] } {
  const events: string[] = [];
  const disk = new NodeDisk({
    inlineWrites: true,
    onStep: (source) => events.push(source),
    beforeInlineSync: () => events.push('before-inline-sync'),
  });
  return { disk, events };
}

describe('NodeDisk with inline writes', () => {
  let directory: string | undefined;
  afterEach(async () => {
    if (directory !== undefined) await rm(directory, { recursive: true, force: true });
  });

  it('writes a small batch on the event loop and a large one through the pool, durable either way', async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'meshos-disk-'));
    const inlineSteps: StepSource[] = [];
    const disk = new NodeDisk({ inlineWrites: true, onStep: (source) => inlineSteps.push(source) });
    const filePath = path.join(directory, 'wal');
    const file = await disk.open(filePath, 'create');
    const small = new Uint8Array(100).fill(1);
    await file.append(small);
    await file.datasync();
    const onTheLoop = [...inlineSteps];
    const large = new Uint8Array(INLINE_MAX_BATCH_BYTES + 1).fill(2);
    await file.append(large);
    await file.datasync();
    await file.close();
    // The small write and its sync ran inline (unless this machine's disk was slow to sync,
    // which sends the sync to the pool); the large write and its sync did not.
    expect(onTheLoop[0]).toBe('inline-write');
    expect(inlineSteps.slice(onTheLoop.length)).toEqual([]);
    const stored = await disk.readFile(filePath);
    expect(stored.byteLength).toBe(small.byteLength + large.byteLength);
    expect(stored[0]).toBe(1);
    expect(stored[small.byteLength]).toBe(2);
    expect(stored.at(-1)).toBe(2);
  });
  it('tells beforeInlineSync right before an fdatasync blocks the event loop', async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'meshos-disk-'));
    const { disk, events } = recordingInlineDisk();
    const file = await disk.open(path.join(directory, 'wal'), 'create');
    await file.append(new Uint8Array(100).fill(1));
    // A new disk's first sync is inline (no slow sync seen yet).
    await file.datasync();
    await file.close();
    expect(events).toEqual(['inline-write', 'before-inline-sync', 'inline-sync']);
  });

  it('writes and syncs before returning with writeAtNow and datasyncNow, and declines to after a slow sync', async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'meshos-disk-'));
    const { disk, events } = recordingInlineDisk();
    const filePath = path.join(directory, 'wal');
    const file = await disk.open(filePath, 'create');
    expect(file.writeAtNow?.(bytes('abc'), 0)).toBe(true);
    // A busy machine's sync may outlast the inline wait: then it is a promise.
    await file.datasyncNow?.();
    expect(events).toEqual(['inline-write', 'before-inline-sync', 'inline-sync']);
    expect(await file.size()).toBe(3);
    (disk as unknown as { inlineIo: { policy: InlineIoPolicy } }).inlineIo.policy.synced(
      INLINE_SYNC_SLOW_MS + 20,
    );
    expect(file.writeAtNow?.(bytes('def'), 3)).toBe(false);
    expect(await file.size()).toBe(3);
    const pooled = file.datasyncNow?.();
    expect(pooled).toBeInstanceOf(Promise);
    await pooled;
    expect(events).toHaveLength(3);
    await file.close();
    expect(text(await disk.readFile(filePath))).toBe('abc');
  });

  it('throws a typed disk error from writeAtNow on a closed file', async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'meshos-disk-'));
    const file = await new NodeDisk({ inlineWrites: true }).open(path.join(directory, 'closed'), 'create');
    await file.close();
    expect(() => file.writeAtNow?.(new Uint8Array([1]), 0)).toThrow(
      expect.objectContaining({ code: 'DISK_IO' }),
    );
  });

  it('syncs a file opened with syncOffThread through the pool, its small writes still inline', async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'meshos-disk-'));
    const { disk, events } = recordingInlineDisk();
    const filePath = path.join(directory, 'segment');
    const file = await disk.open(filePath, 'create', { syncOffThread: true });
    const record = new Uint8Array(100).fill(3);
    await file.append(record);
    // A new disk's first sync would be inline on any other file (the test above).
    await file.datasync();
    await file.append(record);
    await file.datasync();
    await file.close();
    expect(events).toEqual(['inline-write', 'inline-write']);
    expect((await disk.readFile(filePath)).byteLength).toBe(2 * record.byteLength);
    // The device's policy heard nothing from those syncs: another file's first sync is inline.
    const other = await disk.open(path.join(directory, 'wal'), 'create');
    await other.append(record);
    await other.datasync();
    await other.close();
    expect(events.slice(2)).toEqual(['inline-write', 'before-inline-sync', 'inline-sync']);
  });

  it('writes a file opened with writeInline on the event loop after a slow sync, other files through the pool', async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'meshos-disk-'));
    const { disk, events } = recordingInlineDisk();
    // As if the device's last sync had been slow (any file's): writes now go through the pool.
    (disk as unknown as { inlineIo: { policy: InlineIoPolicy } }).inlineIo.policy.synced(
      INLINE_SYNC_SLOW_MS + 20,
    );
    const record = new Uint8Array(100).fill(4);
    const segment = await disk.open(path.join(directory, 'segment'), 'create', {
      syncOffThread: true,
      writeInline: true,
    });
    await segment.append(record);
    const wal = await disk.open(path.join(directory, 'wal'), 'create');
    await wal.append(record);
    await segment.append(new Uint8Array(INLINE_MAX_BATCH_BYTES + 1));
    await segment.close();
    await wal.close();
    expect(events).toEqual(['inline-write']);
    expect((await disk.readFile(path.join(directory, 'wal'))).byteLength).toBe(record.byteLength);
  });
});

describe('MemoryDisk', () => {
  it('passes the same round trip as the real disk', async () => {
    await roundTrip(new MemoryDisk(), '/data');
  });

  it('offers writeAtNow and datasyncNow only when made to write now, and they are durable on return', async () => {
    const plain = await new MemoryDisk().open('/f', 'create');
    expect([plain.writeAtNow, plain.datasyncNow]).toEqual([undefined, undefined]);
    const disk = new MemoryDisk({ writesNow: true });
    await disk.makeDirectory('/d');
    const file = await disk.open('/d/wal', 'create');
    await disk.fsyncDirectory('/d');
    expect(file.writeAtNow?.(bytes('kept'), 0)).toBe(true);
    expect(file.datasyncNow?.()).toBeUndefined();
    expect(file.writeAtNow?.(bytes('-lost'), 4)).toBe(true);
    disk.crash();
    expect(text(await disk.readFile('/d/wal'))).toBe('kept');
  });

  it('loses unsynced writes and unsynced directory entries on crash', async () => {
    const disk = new MemoryDisk();
    await disk.makeDirectory('/d');
    const file = await disk.open('/d/wal', 'append');
    await file.append(bytes('durable'));
    await file.datasync();
    await disk.fsyncDirectory('/d');
    await file.append(bytes('-lost'));
    const orphan = await disk.open('/d/orphan', 'create');
    await orphan.append(bytes('x'));
    await orphan.datasync();
    disk.crash();
    expect(text(await disk.readFile('/d/wal'))).toBe('durable');
    expect(await disk.exists('/d/orphan')).toBe(false);
  });

  it('undoes a rename that was not followed by a directory fsync', async () => {
    const disk = new MemoryDisk();
    await disk.makeDirectory('/d');
    const file = await disk.open('/d/a', 'create');
    await file.append(bytes('a'));
    await file.datasync();
    await disk.fsyncDirectory('/d');
    await disk.rename('/d/a', '/d/b');
    disk.crash();
    expect(await disk.list('/d')).toEqual(['a']);
  });

  it('can tear an unsynced tail, keeping a prefix of it', async () => {
    const lengths = new Set<number>();
    for (let seed = 0; seed < 30; seed++) {
      const disk = new MemoryDisk();
      await disk.makeDirectory('/d');
      const file = await disk.open('/d/wal', 'append');
      await file.append(bytes('base'));
      await file.datasync();
      await disk.fsyncDirectory('/d');
      await file.append(bytes('0123456789'));
      disk.crash({ random: new SeededRandom(seed), tornWriteProbability: 1 });
      const survived = text(await disk.readFile('/d/wal'));
      expect('base0123456789'.startsWith(survived)).toBe(true);
      expect(survived.startsWith('base')).toBe(true);
      lengths.add(survived.length);
    }
    expect(lengths.size).toBeGreaterThan(3);
  });

  it('keeps a file sized up by truncate sparse: zeros read back, a torn write inside it keeps a prefix of what was written', async () => {
    const sizes = new Set<number>();
    for (let seed = 0; seed < 30; seed++) {
      const disk = new MemoryDisk();
      await disk.makeDirectory('/d');
      const file = await disk.open('/d/wal', 'create');
      await file.truncate(1 << 20);
      await file.writeAt(bytes('base'), 0);
      await file.datasync();
      await disk.fsyncDirectory('/d');
      expect(await file.size()).toBe(1 << 20);
      expect(await file.dataEnd?.()).toBe(4);
      expect(text(await file.readAt(2, 4))).toBe('se\0\0');
      await file.writeAt(bytes('0123456789'), 4);
      disk.crash({ random: new SeededRandom(seed), tornWriteProbability: 1 });
      const stored = await disk.readStored('/d/wal');
      expect(stored.size).toBe(1 << 20);
      const survived = text(stored.bytes).replace(/\0+$/, '');
      expect('base0123456789'.startsWith(survived)).toBe(true);
      expect(survived.startsWith('base')).toBe(true);
      sizes.add(survived.length);
      const whole = await disk.readFile('/d/wal');
      expect(whole.byteLength).toBe(1 << 20);
      expect(whole.subarray(14).every((byte) => byte === 0)).toBe(true);
    }
    expect(sizes.size).toBeGreaterThan(3);
  });

  it('reads zeros where a file was cut and grown again', async () => {
    const disk = new MemoryDisk();
    await disk.makeDirectory('/d');
    const file = await disk.open('/d/f', 'create');
    await file.append(bytes('abcdef'));
    await file.truncate(2);
    await file.truncate(6);
    expect([...(await disk.readFile('/d/f'))]).toEqual([97, 98, 0, 0, 0, 0]);
  });

  it('flips bits in stored data, durable copy included', async () => {
    const disk = new MemoryDisk();
    await disk.makeDirectory('/d');
    const file = await disk.open('/d/f', 'create');
    await file.append(new Uint8Array([0, 0, 0]));
    await file.datasync();
    await disk.fsyncDirectory('/d');
    disk.flipBit('/d/f', 1, 3);
    expect([...(await disk.readFile('/d/f'))]).toEqual([0, 8, 0]);
    disk.crash();
    expect([...(await disk.readFile('/d/f'))]).toEqual([0, 8, 0]);
  });
});
