import { assert, isMeshError } from '../lib/index.js';
import { entrySizeBytes } from './entry-size.js';
import type { RaftStorage } from './storage.js';
import type { Entry, SnapshotInfo } from './types.js';

/** Term returned for an index the log cannot answer (compacted away or not there yet). */
export const UNKNOWN_TERM = -1;

/** The list of no entries, shared: nothing is ever added to it. */
const NO_ENTRIES: readonly Entry[] = [];

/**
 * The Raft log: what storage holds durably plus an unstable tail (entries and possibly a
 * snapshot) that the host has not persisted yet. Entries at or after `unstableOffset` shadow
 * whatever storage still holds at those indexes.
 */
export class RaftLog {
  private unstable: Entry[] = [];
  private unstableOffset: number;
  /**
   * Last unstable index already handed to the host for writing (pipelined persistence): those
   * entries are not offered again, but count as durable only once `stableTo` says so.
   */
  private inProgressThrough: number;
  unstableSnapshot: SnapshotInfo | undefined = undefined;
  committed: number;
  /** Highest index handed to the host to apply (possibly not yet confirmed by `advance`). */
  applying: number;
  /** Highest index the host confirmed applied. */
  applied: number;
  /** Bytes (as counted for limits) of what the last size-limited `entries()` call returned. */
  lastEntriesBytes = 0;

  constructor(
    readonly storage: RaftStorage,
    committed: number,
    applied: number,
  ) {
    this.unstableOffset = storage.lastIndex() + 1;
    this.inProgressThrough = this.unstableOffset - 1;
    const snapshotIndex = storage.firstIndex() - 1;
    this.committed = Math.max(committed, snapshotIndex);
    this.applied = Math.min(this.committed, Math.max(applied, snapshotIndex));
    this.applying = this.applied;
  }

  firstIndex(): number {
    if (this.unstableSnapshot !== undefined) return this.unstableSnapshot.metadata.index + 1;
    return this.storage.firstIndex();
  }

  lastIndex(): number {
    if (this.unstable.length > 0) return this.unstableOffset + this.unstable.length - 1;
    if (this.unstableSnapshot !== undefined) return this.unstableSnapshot.metadata.index;
    return this.storage.lastIndex();
  }

  /** The last index that is durable (entries below the unstable tail). */
  lastStableIndex(): number {
    if (this.unstableSnapshot !== undefined) return this.unstableSnapshot.metadata.index - 1;
    return this.unstableOffset - 1;
  }

  lastTerm(): number {
    return this.term(this.lastIndex());
  }

  /** The term at `index`, or UNKNOWN_TERM when compacted or beyond the end. */
  term(index: number): number {
    if (index >= this.unstableOffset) {
      const entry = this.unstable[index - this.unstableOffset];
      return entry === undefined ? UNKNOWN_TERM : entry.term;
    }
    const snapshot = this.unstableSnapshot;
    if (snapshot !== undefined) {
      return index === snapshot.metadata.index ? snapshot.metadata.term : UNKNOWN_TERM;
    }
    if (index < this.storage.firstIndex() - 1 || index > this.storage.lastIndex()) return UNKNOWN_TERM;
    return this.storage.term(index);
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** Raft's "at least as up to date" comparison (section 5.4.1). */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Entries in [lowIndex, highIndexExclusive) limited by `maxBytes` (always at least one), or
   * undefined when part of the range is compacted.
   */
  entries(lowIndex: number, highIndexExclusive: number, maxBytes: number): Entry[] | undefined {
    this.lastEntriesBytes = 0;
    if (lowIndex >= highIndexExclusive) return [];
    if (lowIndex < this.firstIndex()) return undefined;
    const sizeLimited = maxBytes !== Number.POSITIVE_INFINITY;
    let result: Entry[];
    let bytes = 0;
    if (lowIndex < this.unstableOffset) {
      const storedEnd = Math.min(highIndexExclusive, this.unstableOffset);
      let stored: readonly Entry[];
      try {
        stored = this.storage.entries(lowIndex, storedEnd, maxBytes);
      } catch (error) {
        if (isMeshError(error, 'LOG_COMPACTED')) return undefined;
        throw error;
      }
      result = stored as Entry[];
      if (sizeLimited) for (const entry of result) bytes += entrySizeBytes(entry);
      if (result.length < storedEnd - lowIndex) {
        this.lastEntriesBytes = bytes;
        return result;
      }
      lowIndex = this.unstableOffset;
    } else {
      result = [];
    }
    const offset = this.unstableOffset;
    const end = Math.min(highIndexExclusive, offset + this.unstable.length);
    for (let index = lowIndex; index < end; index++) {
      const entry = this.unstable[index - offset]!;
      if (sizeLimited) {
        bytes += entrySizeBytes(entry);
        if (result.length > 0 && bytes > maxBytes) {
          bytes -= entrySizeBytes(entry);
          break;
        }
      }
      result.push(entry);
    }
    this.lastEntriesBytes = bytes;
    return result;
  }

  /** Appends entries, replacing any suffix from `entries[0].index` on. */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const after = entries[0]!.index;
    assert(after > this.committed, () => `append at ${after} would overwrite committed ${this.committed}`);
    const end = this.unstableOffset + this.unstable.length;
    // Entries being written that this append replaces are offered again from `after` on; the
    // host's store applies its writes in order, so the newer write wins.
    if (after <= this.inProgressThrough) this.inProgressThrough = after - 1;
    if (after === end) {
      for (const entry of entries) this.unstable.push(entry);
    } else if (after <= this.unstableOffset) {
      // Replaces stored entries too; the host's storage drops them when it persists these.
      this.unstableOffset = after;
      this.unstable = entries.slice();
    } else {
      this.unstable.length = after - this.unstableOffset;
      for (const entry of entries) this.unstable.push(entry);
    }
  }

  /** Appends one entry at the end (the leader's hot path). */
  appendOne(entry: Entry): void {
    this.unstable.push(entry);
  }

  /** Index of the first entry whose term differs from the log's, or 0 when all match. */
  findConflict(entries: readonly Entry[]): number {
    for (const entry of entries) {
      if (this.term(entry.index) !== entry.term) return entry.index;
    }
    return 0;
  }

  /**
   * The first index of the term at `index`, scanning back no further than the committed index
   * (all entries before a committed one match the leader's by the log matching property).
   */
  firstIndexOfTermAt(index: number): number {
    const term = this.term(index);
    const floor = Math.max(this.committed, this.firstIndex());
    let first = index;
    while (first - 1 > floor && this.term(first - 1) === term) first--;
    return first;
  }

  /** The last index at or below `index` whose term is at most `term`. */
  lastIndexWithTermAtMost(index: number, term: number): { index: number; term: number } {
    let at = Math.min(index, this.lastIndex());
    for (;;) {
      const atTerm = this.term(at);
      if (atTerm <= term || atTerm === UNKNOWN_TERM) return { index: at, term: atTerm };
      at--;
    }
  }

  commitTo(index: number): void {
    if (index > this.committed) {
      assert(index <= this.lastIndex(), () => `commit ${index} is past the last index ${this.lastIndex()}`);
      this.committed = index;
    }
  }

  hasNextCommittedEntries(): boolean {
    return this.committed > this.applying && this.unstableSnapshot === undefined;
  }

  /** Committed entries not yet handed out, at most `maxCount` of them (none: one shared empty list). */
  nextCommittedEntries(maxCount: number): readonly Entry[] {
    if (!this.hasNextCommittedEntries()) return NO_ENTRIES;
    const end = Math.min(this.committed + 1, this.applying + 1 + maxCount);
    return this.entries(this.applying + 1, end, Number.POSITIVE_INFINITY) ?? NO_ENTRIES;
  }

  /** Unstable entries not yet handed to the host for writing. */
  unstableEntries(): readonly Entry[] {
    const start = Math.max(0, this.inProgressThrough + 1 - this.unstableOffset);
    return start === 0 ? this.unstable : this.unstable.slice(start);
  }

  /** The host took the unstable entries through `index` to write; do not offer them again. */
  inProgressTo(index: number): void {
    if (index > this.inProgressThrough) this.inProgressThrough = index;
  }

  /** The host persisted entries through `index` (written at `term`). */
  stableTo(index: number, term: number): void {
    if (index < this.unstableOffset) return;
    if (this.term(index) !== term) return;
    const count = index + 1 - this.unstableOffset;
    this.unstable = count >= this.unstable.length ? [] : this.unstable.slice(count);
    this.unstableOffset = index + 1;
    if (this.inProgressThrough < index) this.inProgressThrough = index;
  }

  stableSnapshotTo(index: number): void {
    if (this.unstableSnapshot !== undefined && this.unstableSnapshot.metadata.index === index) {
      this.unstableSnapshot = undefined;
    }
  }

  appliedTo(index: number): void {
    if (index > this.applied) this.applied = index;
    if (index > this.applying) this.applying = index;
  }

  /** Replaces the log with a snapshot; entries after it are discarded. */
  restore(snapshot: SnapshotInfo): void {
    const index = snapshot.metadata.index;
    this.unstableSnapshot = snapshot;
    this.unstable = [];
    this.unstableOffset = index + 1;
    this.inProgressThrough = index;
    this.committed = index;
    this.applying = Math.max(this.applying, index);
  }
}
