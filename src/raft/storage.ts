import { assert } from '../lib/index.js';
import { BOOTSTRAP_TERM, bootstrapEntries, EMPTY_CONFIG } from './config-change.js';
import { EntryColumns } from './entry-columns.js';
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
 * The reference in-memory storage. The log after the snapshot (or after what was compacted) is
 * kept as columns (`EntryColumns`); `offsetIndex` and `offsetTerm` are the index and term of the
 * entry just before it, so index arithmetic needs no special case for an empty log.
 */
export class MemoryRaftStorage implements RaftStorage {
  private hardState: HardState = EMPTY_HARD_STATE;
  private currentSnapshot: SnapshotInfo;
  private offsetIndex = 0;
  private offsetTerm = 0;
  private columns = new EntryColumns();

  /**
   * Without `config`, an empty node that will join an existing cluster. With it, a founding
   * member: the log starts with the committed entries that set up `config` (see
   * `bootstrapEntries`), identical on every founder.
   */
  constructor(config: ClusterConfig = EMPTY_CONFIG) {
    this.currentSnapshot = { metadata: { index: 0, term: 0, config: EMPTY_CONFIG }, byteLength: 0 };
    const entries = bootstrapEntries(config);
    if (entries.length > 0) {
      this.columns.push(entries);
      this.hardState = { term: BOOTSTRAP_TERM, vote: 0, commit: entries.length };
    }
  }

  /** Storage that starts from `snapshot` (its configuration included) with an empty log after it. */
  static fromSnapshot(snapshot: SnapshotInfo): MemoryRaftStorage {
    const storage = new MemoryRaftStorage();
    storage.currentSnapshot = snapshot;
    storage.offsetIndex = snapshot.metadata.index;
    storage.offsetTerm = snapshot.metadata.term;
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
    return this.offsetIndex + 1;
  }

  lastIndex(): number {
    return this.offsetIndex + this.columns.length;
  }

  term(index: number): number {
    if (index < this.offsetIndex) throw new LogCompactedError(index, this.offsetIndex + 1);
    if (index === this.offsetIndex) return this.offsetTerm;
    if (index > this.lastIndex()) throw new LogUnavailableError(index, this.lastIndex());
    return this.columns.term(index - this.offsetIndex - 1);
  }

  entries(
    lowIndex: number,
    highIndexExclusive: number,
    maxBytes = Number.POSITIVE_INFINITY,
  ): readonly Entry[] {
    if (lowIndex <= this.offsetIndex) throw new LogCompactedError(lowIndex, this.offsetIndex + 1);
    assert(
      highIndexExclusive <= this.lastIndex() + 1,
      () => `entries(${lowIndex}, ${highIndexExclusive}) past end`,
    );
    assert(lowIndex <= highIndexExclusive, 'entries range is inverted');
    const result: Entry[] = [];
    let bytes = 0;
    for (let index = lowIndex; index < highIndexExclusive; index++) {
      const position = index - this.offsetIndex - 1;
      bytes += this.columns.sizeBytes(position);
      if (result.length > 0 && bytes > maxBytes) break;
      result.push(this.columns.entry(position, index));
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
    const offset = this.offsetIndex;
    if (first + entries.length - 1 <= offset) return;
    assert(first <= this.lastIndex() + 1, () => `append at ${first} leaves a gap after ${this.lastIndex()}`);
    let skip = 0;
    if (first <= offset) skip = offset + 1 - first;
    const position = first + skip - offset - 1;
    if (position < this.columns.length) this.columns.truncate(position);
    this.columns.push(skip === 0 ? entries : entries.slice(skip));
  }

  /** Replaces the whole log with a snapshot received from the leader. */
  applySnapshot(snapshot: SnapshotInfo): void {
    const current = this.currentSnapshot.metadata.index;
    if (snapshot.metadata.index <= current)
      throw new SnapshotOutOfDateError(snapshot.metadata.index, current);
    this.currentSnapshot = snapshot;
    this.offsetIndex = snapshot.metadata.index;
    this.offsetTerm = snapshot.metadata.term;
    this.columns = new EntryColumns();
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
    if (index <= this.offsetIndex) return;
    assert(index <= this.currentSnapshot.metadata.index, 'compact past the snapshot would lose entries');
    const term = this.term(index);
    this.columns.dropFront(index - this.offsetIndex);
    this.offsetIndex = index;
    this.offsetTerm = term;
  }
}
