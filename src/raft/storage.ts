import { assert } from '../lib/index.js';
import { BOOTSTRAP_TERM, bootstrapEntries, EMPTY_CONFIG } from './config-change.js';
import { entrySizeBytes } from './entry-size.js';
import { LogCompactedError, LogUnavailableError, SnapshotOutOfDateError } from './errors.js';
import type { ClusterConfig, Entry, HardState, SnapshotInfo } from './types.js';

/**
 * What the core reads of durable state. Reads are synchronous; everything returned is durable.
 * Indexes below `firstIndex()` are compacted into `snapshot()`; `term(firstIndex() - 1)` is the
 * snapshot's term. Storage knows a snapshot's metadata and size only: its bytes are the host's.
 */
export interface RaftStorage {
  initialState(): { hardState: HardState; config: ClusterConfig };
  /** Entries in [lowIndex, highIndexExclusive), at least one when the range is not empty. */
  entries(lowIndex: number, highIndexExclusive: number, maxBytes?: number): readonly Entry[];
  term(index: number): number;
  firstIndex(): number;
  lastIndex(): number;
  snapshot(): SnapshotInfo;
}

export const EMPTY_HARD_STATE: HardState = { term: 0, vote: 0, commit: 0 };

/**
 * Entries appended together whose data is at most this large share one buffer. A small buffer of
 * its own costs about 360 bytes of memory besides its contents (V8's ArrayBuffer object and backing
 * store record, the allocator's overhead), more than a typical command; a log of 100,000 entries
 * holds that many. Larger entries keep their own buffer.
 */
export const MAX_SHARED_ENTRY_DATA_BYTES = 4096;

/**
 * `entries` with the data of the small ones copied into one buffer. The log drops entries from its
 * front (and replaces a suffix rarely), so a shared buffer lives about as long as its entries.
 */
export function withSharedData(entries: readonly Entry[]): readonly Entry[] {
  let sharedBytes = 0;
  let shared = 0;
  for (const entry of entries) {
    const length = entry.data.byteLength;
    if (length > 0 && length <= MAX_SHARED_ENTRY_DATA_BYTES) {
      sharedBytes += length;
      shared++;
    }
  }
  if (shared < 2) return entries;
  const buffer = new Uint8Array(sharedBytes);
  let offset = 0;
  return entries.map((entry) => {
    const length = entry.data.byteLength;
    if (length === 0 || length > MAX_SHARED_ENTRY_DATA_BYTES) return entry;
    buffer.set(entry.data, offset);
    const data = buffer.subarray(offset, offset + length);
    offset += length;
    return { term: entry.term, index: entry.index, kind: entry.kind, data };
  });
}

/**
 * The reference in-memory storage. `entries[0]` is a placeholder for the snapshot's last
 * entry, so index arithmetic needs no special case for an empty log.
 */
export class MemoryRaftStorage implements RaftStorage {
  private hardState: HardState = EMPTY_HARD_STATE;
  private currentSnapshot: SnapshotInfo;
  private log: Entry[];

  /**
   * Without `config`, an empty node that will join an existing cluster. With it, a founding
   * member: the log starts with the committed entries that set up `config` (see
   * `bootstrapEntries`), identical on every founder.
   */
  constructor(config: ClusterConfig = EMPTY_CONFIG) {
    this.currentSnapshot = { metadata: { index: 0, term: 0, config: EMPTY_CONFIG }, byteLength: 0 };
    this.log = [placeholder(0, 0)];
    const entries = bootstrapEntries(config);
    if (entries.length > 0) {
      this.log.push(...entries);
      this.hardState = { term: BOOTSTRAP_TERM, vote: 0, commit: entries.length };
    }
  }

  /** Storage that starts from `snapshot` (its configuration included) with an empty log after it. */
  static fromSnapshot(snapshot: SnapshotInfo): MemoryRaftStorage {
    const storage = new MemoryRaftStorage();
    storage.currentSnapshot = snapshot;
    storage.log = [placeholder(snapshot.metadata.index, snapshot.metadata.term)];
    storage.hardState = { term: snapshot.metadata.term, vote: 0, commit: snapshot.metadata.index };
    return storage;
  }

  initialState(): { hardState: HardState; config: ClusterConfig } {
    return { hardState: this.hardState, config: this.currentSnapshot.metadata.config };
  }

  hardStateNow(): HardState {
    return this.hardState;
  }

  setHardState(hardState: HardState): void {
    this.hardState = hardState;
  }

  firstIndex(): number {
    return this.log[0]!.index + 1;
  }

  lastIndex(): number {
    return this.log[0]!.index + this.log.length - 1;
  }

  term(index: number): number {
    const offset = this.log[0]!.index;
    if (index < offset) throw new LogCompactedError(index, offset + 1);
    const entry = this.log[index - offset];
    if (entry === undefined) throw new LogUnavailableError(index, this.lastIndex());
    return entry.term;
  }

  entries(
    lowIndex: number,
    highIndexExclusive: number,
    maxBytes = Number.POSITIVE_INFINITY,
  ): readonly Entry[] {
    const offset = this.log[0]!.index;
    if (lowIndex <= offset) throw new LogCompactedError(lowIndex, offset + 1);
    assert(
      highIndexExclusive <= this.lastIndex() + 1,
      () => `entries(${lowIndex}, ${highIndexExclusive}) past end`,
    );
    assert(lowIndex <= highIndexExclusive, 'entries range is inverted');
    if (maxBytes === Number.POSITIVE_INFINITY)
      return this.log.slice(lowIndex - offset, highIndexExclusive - offset);
    const result: Entry[] = [];
    let bytes = 0;
    for (let index = lowIndex; index < highIndexExclusive; index++) {
      const entry = this.log[index - offset]!;
      bytes += entrySizeBytes(entry);
      if (result.length > 0 && bytes > maxBytes) break;
      result.push(entry);
    }
    return result;
  }

  snapshot(): SnapshotInfo {
    return this.currentSnapshot;
  }

  /** Appends entries, first dropping any stored suffix they replace. */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = entries[0]!.index;
    const offset = this.log[0]!.index;
    if (first + entries.length - 1 <= offset) return;
    assert(first <= this.lastIndex() + 1, () => `append at ${first} leaves a gap after ${this.lastIndex()}`);
    let skip = 0;
    if (first <= offset) skip = offset + 1 - first;
    const position = first + skip - offset;
    if (position < this.log.length) this.log.length = position;
    const kept = withSharedData(skip === 0 ? entries : entries.slice(skip));
    for (const entry of kept) this.log.push(entry);
  }

  /** Replaces the whole log with a snapshot received from the leader. */
  applySnapshot(snapshot: SnapshotInfo): void {
    const current = this.currentSnapshot.metadata.index;
    if (snapshot.metadata.index <= current)
      throw new SnapshotOutOfDateError(snapshot.metadata.index, current);
    this.currentSnapshot = snapshot;
    this.log = [placeholder(snapshot.metadata.index, snapshot.metadata.term)];
    if (this.hardState.commit < snapshot.metadata.index) {
      this.hardState = { ...this.hardState, commit: snapshot.metadata.index };
    }
  }

  /**
   * Records a snapshot of the applied state at `index`, `byteLength` bytes that the host keeps;
   * the host then may `compact(index)`.
   */
  createSnapshot(index: number, config: ClusterConfig, byteLength: number): SnapshotInfo {
    const current = this.currentSnapshot.metadata.index;
    if (index <= current) throw new SnapshotOutOfDateError(index, current);
    assert(
      index <= this.lastIndex(),
      () => `snapshot index ${index} is past the last index ${this.lastIndex()}`,
    );
    this.currentSnapshot = { metadata: { index, term: this.term(index), config }, byteLength };
    return this.currentSnapshot;
  }

  /** Drops entries up to and including `index`, which must be covered by the snapshot. */
  compact(index: number): void {
    const offset = this.log[0]!.index;
    if (index <= offset) return;
    assert(index <= this.currentSnapshot.metadata.index, 'compact past the snapshot would lose entries');
    const kept = this.log.slice(index - offset);
    kept[0] = placeholder(index, kept[0]!.term);
    this.log = kept;
  }
}

function placeholder(index: number, term: number): Entry {
  return { index, term, kind: 'noop', data: new Uint8Array(0) };
}
