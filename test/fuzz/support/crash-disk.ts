/**
 * Crashes for the torn-write fuzzers: a disk that stops at a chosen sync (the power goes while an
 * append is in flight), and the damage a crash leaves in each file's unsynced tail (the bytes
 * written after the file's last sync): gone, cut at any byte, zero-filled from any byte (the size
 * reached the disk, the data did not), the final record garbled, or (beyond what a crash does)
 * a zeroed hole or flipped bytes anywhere in the tail.
 */
import fc from 'fast-check';
import type { Disk, DiskFile, MemoryDisk, OpenMode, OpenOptions } from '../../../src/lib/index.js';
import { type DirectoryImage, readImage, recordSpans } from './directory-image.js';

/**
 * Forwards to a `MemoryDisk` until its `haltAtSync`-th sync (file or directory, counted from 1):
 * that sync and every later one never completes and makes nothing durable, while writes still
 * land in the page cache, as on a machine whose power is about to go.
 */
export class HaltingDisk implements Disk {
  private syncs = 0;
  private haltedSignal!: () => void;
  /** Settles when the halting sync is reached. */
  readonly halted = new Promise<'halted'>((resolve) => {
    this.haltedSignal = () => resolve('halted');
  });

  constructor(
    readonly memory: MemoryDisk,
    private readonly haltAtSync: number,
  ) {}

  get isHalted(): boolean {
    return this.syncs >= this.haltAtSync;
  }

  /** Resolves once `work` settles, or with 'halted' when the disk stops first. */
  async race<T>(work: Promise<T>): Promise<{ done: true; value: T } | { done: false }> {
    const outcome = await Promise.race([work.then((value) => ({ done: true as const, value })), this.halted]);
    return outcome === 'halted' ? { done: false } : outcome;
  }

  private sync(): Promise<void> | undefined {
    this.syncs++;
    if (this.syncs < this.haltAtSync) return undefined;
    this.haltedSignal();
    return new Promise<void>(() => {});
  }

  async open(filePath: string, mode: OpenMode, _options?: OpenOptions): Promise<DiskFile> {
    const file = await this.memory.open(filePath, mode);
    const sync = () => this.sync() ?? file.datasync();
    return {
      path: file.path,
      append: (data) => file.append(data),
      writeAt: (data, offset) => file.writeAt(data, offset),
      readAt: (offset, length) => file.readAt(offset, length),
      size: () => file.size(),
      truncate: (size) => file.truncate(size),
      datasync: sync,
      close: () => file.close(),
    };
  }

  readFile(filePath: string): Promise<Uint8Array> {
    return this.memory.readFile(filePath);
  }
  rename(fromPath: string, toPath: string): Promise<void> {
    return this.memory.rename(fromPath, toPath);
  }
  fsyncDirectory(directoryPath: string): Promise<void> {
    return this.sync() ?? this.memory.fsyncDirectory(directoryPath);
  }
  list(directoryPath: string): Promise<string[]> {
    return this.memory.list(directoryPath);
  }
  remove(filePath: string): Promise<void> {
    return this.memory.remove(filePath);
  }
  makeDirectory(directoryPath: string): Promise<void> {
    return this.memory.makeDirectory(directoryPath);
  }
  exists(filePath: string): Promise<boolean> {
    return this.memory.exists(filePath);
  }
}

/** What a crash does to one file's unsynced tail; positions are taken modulo the tail's length. */
export type TailDamage =
  | { readonly kind: 'drop' }
  | { readonly kind: 'cut'; readonly keep: number }
  | { readonly kind: 'zero'; readonly keep: number; readonly from: number }
  | { readonly kind: 'garble-final'; readonly keep: number; readonly flips: readonly Flip[] }
  | { readonly kind: 'hole'; readonly keep: number; readonly from: number; readonly length: number }
  | { readonly kind: 'garble-any'; readonly keep: number; readonly flips: readonly Flip[] };

interface Flip {
  readonly at: number;
  readonly bit: number;
}

/** Damage a crash can do, which recovery must survive with every synced record. */
export const CRASH_KINDS: ReadonlySet<TailDamage['kind']> = new Set(['drop', 'cut', 'zero', 'garble-final']);

const flips = fc.array(fc.record({ at: fc.nat(), bit: fc.nat(7) }), { minLength: 1, maxLength: 3 });

export const tailDamageArbitrary: fc.Arbitrary<TailDamage> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('drop' as const) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('cut' as const), keep: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('zero' as const), keep: fc.nat(), from: fc.nat() }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('garble-final' as const), keep: fc.nat(), flips }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('hole' as const),
      keep: fc.nat(),
      from: fc.nat(),
      length: fc.integer({ min: 1, max: 512 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('garble-any' as const), keep: fc.nat(), flips }) },
);

/**
 * `synced` (the file as the crash left it durable) followed by the part of the unsynced tail
 * the damage keeps, damaged. `written` is the whole file before the crash; its record frames
 * locate the final record.
 */
export function damageTail(synced: Uint8Array, written: Uint8Array, damage: TailDamage): Uint8Array {
  const tail = written.subarray(synced.byteLength);
  if (damage.kind === 'drop' || tail.byteLength === 0) return synced;
  const keep = damage.keep % (tail.byteLength + 1);
  const out = written.slice(0, synced.byteLength + keep);
  const end = out.byteLength;
  const tailAt = (position: number) => synced.byteLength + (position % Math.max(1, keep));
  switch (damage.kind) {
    case 'cut':
      return out;
    case 'zero':
      out.fill(0, tailAt(damage.from), end);
      return out;
    case 'hole': {
      const from = tailAt(damage.from);
      out.fill(0, from, Math.min(end, from + damage.length));
      return out;
    }
    case 'garble-any':
      if (keep === 0) return out;
      for (const flip of damage.flips) out[tailAt(flip.at)]! ^= 1 << flip.bit;
      return out;
    case 'garble-final': {
      if (keep === 0) return out;
      // The frame the kept bytes end in (from the frames of the whole written file).
      const finalStart = recordSpans(written)
        .map((span) => span.start)
        .filter((start) => start < end)
        .reduce((latest, start) => Math.max(latest, start), 0);
      const regionStart = Math.max(synced.byteLength, finalStart);
      for (const flip of damage.flips) {
        out[regionStart + (flip.at % (end - regionStart))]! ^= 1 << flip.bit;
      }
      return out;
    }
  }
}

/** The directory as a crash leaves it, each file's unsynced tail damaged by one of `damages`. */
export async function crashImage(
  disk: HaltingDisk,
  directory: string,
  damages: readonly TailDamage[],
): Promise<{ image: DirectoryImage; crashOnly: boolean }> {
  const written = await readImage(disk.memory, directory);
  disk.memory.crash();
  const synced = await readImage(disk.memory, directory);
  let crashOnly = true;
  const image = synced.map((file, position) => {
    const before = written.find((candidate) => candidate.name === file.name);
    const damage = damages[position % Math.max(1, damages.length)] ?? { kind: 'drop' };
    if (before === undefined) return file;
    // A preallocated segment keeps its size: its unsynced tail is what follows its synced records.
    const syncedData = recordsOf(file.bytes);
    const writtenData = recordsOf(before.bytes);
    if (!startsWith(writtenData, syncedData)) return file;
    if (writtenData.byteLength > syncedData.byteLength && !CRASH_KINDS.has(damage.kind)) crashOnly = false;
    const damaged = damageTail(syncedData, writtenData, damage);
    if (damaged.byteLength >= file.bytes.byteLength) return { name: file.name, bytes: damaged };
    // The zeros of the preallocated rest stay behind the damaged records.
    const bytes = new Uint8Array(file.bytes.byteLength);
    bytes.set(damaged);
    return { name: file.name, bytes };
  });
  return { image, crashOnly };
}

/** The bytes up to the zeros that follow the records of a preallocated segment; all of any other file. */
function recordsOf(bytes: Uint8Array): Uint8Array {
  const end = recordSpans(bytes).at(-1)?.end ?? 0;
  for (let index = end; index < bytes.byteLength; index++) if (bytes[index] !== 0) return bytes;
  return bytes.subarray(0, end);
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (prefix.byteLength > bytes.byteLength) return false;
  for (let index = 0; index < prefix.byteLength; index++) if (bytes[index] !== prefix[index]) return false;
  return true;
}
