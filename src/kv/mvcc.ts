/**
 * Multi-version key store. Each key keeps its records (one per change) in revision order, packed
 * in a `KeyTable` (see key-table.ts), their values' bytes in a `ValueArena`; a deleted key ends with a tombstone
 * record. The change log lists every change since the compact revision in (revision,
 * sub-revision) order, which serves watches from the past without a scan over all keys. Writes
 * are grouped: `begin`, then puts and deletes at the next revision, then `commit` (the revision
 * advances once if anything changed) or `rollback`.
 */
import { assert } from '../lib/index.js';
import { ChangeLog } from './change-log.js';
import { CompactedError, FutureRevisionError } from './errors.js';
import { type KeyId, type KeyRecord, KeyTable, type RecordNumbers, TOMBSTONE_LENGTH } from './key-table.js';
import { EVACUATION_STEP_RECORDS, HELD_DROP_STEP_RECORDS } from './limits.js';
import type { OrderedIndex } from './ordered-index.js';
import type { KeyRange } from './validate.js';
import { type ValueAddress, ValueArena } from './value-arena.js';

export type { KeyId, KeyRecord } from './key-table.js';

/**
 * What one stored record counts for the space quota besides its key and value bytes: its revision
 * numbers, lease and index bookkeeping. A fixed figure, so replicas holding the same records count
 * the same total (memory use itself differs between processes).
 */
export const RECORD_OVERHEAD_BYTES = 64;

/** The bytes a record counts for the space quota. */
export function storedRecordBytes(record: Pick<KeyRecord, 'key' | 'value'>): number {
  return record.key.length + (record.value?.length ?? 0) + RECORD_OVERHEAD_BYTES;
}

/** The bytes record `position` of key `id` counts for the space quota. */
function storedBytesAt(keys: KeyTable, id: KeyId, position: number): number {
  return keys.keyLength(id) + Math.max(0, keys.valueLengthAt(id, position)) + RECORD_OVERHEAD_BYTES;
}

/** Whether the key of `id` is in `range` (as `rangeContains`), without making the key's string. */
function keyInRange(keys: KeyTable, id: KeyId, range: KeyRange): boolean {
  if (range.single) return keys.keyEquals(id, range.start);
  return keys.compareKey(id, range.start) >= 0 && (range.end === null || keys.compareKey(id, range.end) < 0);
}

/**
 * The store as of one revision, for a reader that runs across many applies (a snapshot encoded a
 * step at a time). Close it exactly once.
 */
export interface StoreView {
  readonly revision: number;
  readonly compactRevision: number;
  /** Keys in the view: every one has a record at or below `revision`. */
  readonly keyCount: number;
  /** The keys' records; read them in the step that scanned their ids. */
  readonly keys: KeyTable;
  /** Where the records' values are (see `KeyTable.valueAt`); read them in the same step. */
  readonly values: ValueArena;
  /**
   * Visits key ids with key >= start in key order until `visit` returns false. Keys may hold
   * records above `revision` and keys created after the view: the reader skips those.
   */
  scanFrom(start: string, visit: (id: KeyId) => boolean | undefined): void;
  close(): void;
}

/** What a change-log slot before the live part holds once its record was dropped. */
const COMPACTED_ID: KeyId = -1;

/** What the stored records count for the space quota (see `storedRecordBytes`). */
export interface StoredTotals {
  readonly storedBytes: number;
  readonly storedRecordCount: number;
}

/** What a store holds, all at once (a decoded snapshot's, to build a store from). */
export interface StoreContents {
  readonly keys: KeyTable;
  readonly values: ValueArena;
  readonly currentRevision: number;
  readonly compactRevision: number;
  readonly changeLog: ChangeLog;
  readonly totals: StoredTotals;
}

const EMPTY_STORE: () => StoreContents = () => ({
  keys: new KeyTable(),
  values: new ValueArena(),
  currentRevision: 1,
  compactRevision: 0,
  changeLog: new ChangeLog(),
  totals: { storedBytes: 0, storedRecordCount: 0 },
});

/** One change made by a write group: the new record and the live record it replaced, if any. */
export interface StoreChange {
  readonly record: KeyRecord;
  readonly previous: KeyRecord | undefined;
}

export class MvccStore {
  readonly keys: KeyTable;
  /** The records' values (node-local memory layout: never part of the replicated state). */
  readonly values: ValueArena;
  currentRevision: number;
  compactRevision: number;
  /**
   * Changes with modRevision >= compactRevision, in (modRevision, subRevision) order; positions
   * before `changeLogStart` are compacted away and wait to be cut off in one go.
   */
  private readonly changeLog: ChangeLog;
  private changeLogStart = 0;
  /** Sum of `storedRecordBytes` over every record kept (live, superseded and tombstones). */
  storedBytes = 0;
  /** Records kept, superseded ones and tombstones included. */
  storedRecordCount = 0;
  private writing = false;
  private pending: StoreChange[] = [];
  /** Views open (see `openView`); while any is, compaction drops nothing. */
  private openViews = 0;
  /**
   * History below this revision was dropped; behind `compactRevision` while views are open and
   * while held history is being dropped a step at a time (`dropHeldHistory`).
   */
  private droppedThrough: number;
  /** Change-log position the drop in progress has walked to. */
  private dropCursor = 0;
  /** The revision the drop in progress walked towards in its last step. */
  private dropTarget: number;
  /** Key the value evacuation in progress continues at; undefined while none runs. */
  private evacuationCursor: string | undefined;

  constructor(contents: StoreContents = EMPTY_STORE()) {
    const { changeLog, totals } = contents;
    this.keys = contents.keys;
    this.values = contents.values;
    this.currentRevision = contents.currentRevision;
    this.compactRevision = contents.compactRevision;
    this.changeLog = changeLog;
    this.droppedThrough = contents.compactRevision;
    this.dropTarget = contents.compactRevision;
    this.storedBytes = totals.storedBytes;
    this.storedRecordCount = totals.storedRecordCount;
  }

  /** The stored keys' ids in key order. */
  get index(): OrderedIndex {
    return this.keys.index;
  }

  /** Adds record `position` of `id` to the stored totals. */
  private count(id: KeyId, position: number): void {
    this.storedBytes += storedBytesAt(this.keys, id, position);
    this.storedRecordCount++;
  }

  /** Record `position` of `id` is no longer stored: out of the totals, its value released. */
  private forget(id: KeyId, position: number): void {
    this.storedBytes -= storedBytesAt(this.keys, id, position);
    this.storedRecordCount--;
    const length = this.keys.valueLengthAt(id, position);
    if (length !== TOMBSTONE_LENGTH) this.values.release(this.keys.valueAddressAt(id, position), length);
  }

  /** The live record of `key` as of now (including writes of the open group). */
  latest(key: string): KeyRecord | undefined {
    const id = this.keys.find(key);
    if (id === undefined) return undefined;
    const last = this.keys.recordCount(id) - 1;
    return this.keys.isTombstoneAt(id, last) ? undefined : this.keys.recordAt(id, last, this.values, key);
  }

  /** The revision a read sees: the open group's revision once it changed something. */
  private get visibleRevision(): number {
    return this.writing && this.pending.length > 0 ? this.currentRevision + 1 : this.currentRevision;
  }

  /** Checks a requested read revision (0: now) and returns the revision to read at. */
  readRevision(requested: number): number {
    const visible = this.visibleRevision;
    if (requested <= 0) return visible;
    if (requested > visible) throw new FutureRevisionError(visible);
    if (requested < this.compactRevision) throw new CompactedError(this.compactRevision);
    return requested;
  }

  /** The live record of `id` (whose key is `key`, when the caller has it) as of `revision`, if any. */
  private liveRecordAt(id: KeyId, revision: number, key?: string): KeyRecord | undefined {
    const position = this.keys.positionAtOrBelow(id, revision);
    return position < 0 || this.keys.isTombstoneAt(id, position)
      ? undefined
      : this.keys.recordAt(id, position, this.values, key);
  }

  /** Visits the live records in `range` at `revision`, in key order, until `visit` returns false. */
  scan(range: KeyRange, revision: number, visit: (record: KeyRecord) => boolean | undefined): void {
    if (range.single) {
      const id = this.keys.find(range.start);
      const record = id === undefined ? undefined : this.liveRecordAt(id, revision, range.start);
      if (record !== undefined) visit(record);
      return;
    }
    this.keys.index.scan(range.start, range.end, (id) => {
      const record = this.liveRecordAt(id, revision);
      return record === undefined ? true : visit(record);
    });
  }

  begin(): void {
    assert(!this.writing, 'mvcc: write group already open');
    this.writing = true;
    this.pending = [];
  }

  /**
   * Appends a record to `key` (added when `existing` is undefined) and to the change log, its
   * value at `address` (`length` `TOMBSTONE_LENGTH`: a tombstone); `previous` is the live record
   * it replaces.
   */
  private append(
    key: string,
    existing: KeyId | undefined,
    numbers: RecordNumbers,
    address: ValueAddress,
    length: number,
    previous: KeyRecord | undefined,
  ): StoreChange {
    const id = existing ?? this.keys.create(key);
    this.keys.append(id, numbers, address, length);
    this.changeLog.push(id, numbers.modRevision);
    const position = this.keys.recordCount(id) - 1;
    this.count(id, position);
    const change = { record: this.keys.recordAt(id, position, this.values, key), previous };
    this.pending.push(change);
    return change;
  }

  /** Puts `value` (copied in: the caller may reuse its buffer). */
  put(key: string, value: Uint8Array, lease: number): StoreChange {
    assert(this.writing, 'mvcc: put outside a write group');
    const revision = this.currentRevision + 1;
    const id = this.keys.find(key);
    const last = id === undefined ? -1 : this.keys.recordCount(id) - 1;
    assert(
      id === undefined || this.keys.modRevisionAt(id, last) < revision,
      'mvcc: key written twice in one group',
    );
    const previous =
      id === undefined || this.keys.isTombstoneAt(id, last)
        ? undefined
        : this.keys.recordAt(id, last, this.values, key);
    const numbers: RecordNumbers = {
      modRevision: revision,
      subRevision: this.pending.length,
      createRevision: previous === undefined ? revision : previous.createRevision,
      version: previous === undefined ? 1 : previous.version + 1,
      lease,
    };
    return this.append(key, id, numbers, this.values.store(value), value.byteLength, previous);
  }

  /** Deletes a live key; returns undefined if the key is not live. */
  delete(key: string): StoreChange | undefined {
    assert(this.writing, 'mvcc: delete outside a write group');
    const previous = this.latest(key);
    if (previous === undefined) return undefined;
    const numbers: RecordNumbers = {
      modRevision: this.currentRevision + 1,
      subRevision: this.pending.length,
      createRevision: 0,
      version: 0,
      lease: 0,
    };
    return this.append(key, this.keys.find(key), numbers, 0, TOMBSTONE_LENGTH, previous);
  }

  commit(): StoreChange[] {
    assert(this.writing, 'mvcc: commit without a write group');
    this.writing = false;
    const changes = this.pending;
    this.pending = [];
    if (changes.length > 0) {
      this.currentRevision++;
      this.evacuateSome(EVACUATION_STEP_RECORDS);
    }
    return changes;
  }

  rollback(): void {
    assert(this.writing, 'mvcc: rollback without a write group');
    for (let position = this.pending.length - 1; position >= 0; position--) {
      const key = (this.pending[position] as StoreChange).record.key;
      const id = this.keys.find(key) as KeyId;
      this.forget(id, this.keys.recordCount(id) - 1);
      this.keys.removeLast(id);
      this.changeLog.pop();
      if (this.keys.recordCount(id) === 0) this.keys.remove(id);
    }
    this.pending = [];
    this.writing = false;
  }

  /** First change-log position whose modRevision is >= revision. */
  private changeLogPosition(revision: number): number {
    let low = this.changeLogStart;
    let high = this.changeLog.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.changeLog.revisionAt(middle) < revision) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /**
   * Where a compaction towards `target` may stop so that it walks at most about `maxRecords`
   * change records (all records of the last revision it reaches are walked).
   */
  compactionStep(target: number, maxRecords: number): number {
    if (this.changeLogStart >= this.changeLog.length) return target;
    const revision = this.changeLog.revisionAt(
      Math.min(this.changeLogStart + maxRecords, this.changeLog.length - 1),
    );
    return Math.min(target, Math.max(revision, this.compactRevision + 1));
  }

  /**
   * A view of the store as of now. Writes go on under it: they only append records above its
   * revision and add keys, which its reader skips. Only compaction drops records and keys, so
   * while a view is open compaction moves `compactRevision` (reads and watches refuse below it at
   * once) and drops nothing; once the last view closes the held history is dropped a step at a
   * time (`dropHeldHistory`; `storedBytes`, a node-local quota figure, falls then). Whoever changes
   * how records are stored or dropped must keep that promise: records at or below an open view's
   * revision stay in their entry, and entries stay in the index. A view opened while held history
   * is still being dropped finishes the drop first, so a view never shows a half-dropped history
   * (the node finishes a drop long before its next snapshot).
   */
  openView(): StoreView {
    assert(!this.writing, 'mvcc: view opened inside a write group');
    if (this.openViews === 0) this.dropHeldHistory(Number.POSITIVE_INFINITY);
    this.openViews++;
    let open = true;
    return {
      revision: this.currentRevision,
      compactRevision: this.compactRevision,
      keyCount: this.keys.size,
      keys: this.keys,
      values: this.values,
      scanFrom: (start, visit) => {
        assert(open, 'mvcc: scan of a closed view');
        this.keys.index.scan(start, null, visit);
      },
      close: () => {
        assert(open, 'mvcc: view closed twice');
        open = false;
        this.openViews--;
      },
    };
  }

  /** True while a view is open (compaction then drops nothing). */
  get hasOpenViews(): boolean {
    return this.openViews > 0;
  }

  /** True while compacted history waits to be dropped (a view is open, or a stepped drop is unfinished). */
  get heldHistoryPending(): boolean {
    return this.droppedThrough < this.compactRevision;
  }

  /**
   * Compacts at `revision`: reads below it are refused; its history is dropped unless a view is
   * open. With held history still being dropped, this compaction joins that drop and adds one
   * bounded step to it (`HELD_DROP_STEP_RECORDS`) rather than finishing it in this call.
   */
  compact(revision: number): void {
    assert(revision > this.compactRevision && revision <= this.currentRevision, 'mvcc: bad compact revision');
    const held = this.heldHistoryPending;
    this.compactRevision = revision;
    if (this.openViews === 0) this.dropHeldHistory(held ? HELD_DROP_STEP_RECORDS : Number.POSITIVE_INFINITY);
    this.evacuateSome(EVACUATION_STEP_RECORDS);
  }

  /**
   * One step of moving values out of the value arena's emptiest slabs (see value-arena.ts): walks
   * keys from where the last step stopped until about `maxRecords` records were looked at. The
   * arena starts an evacuation when released values pin more than is live; writes and
   * compactions each take a step, so it keeps up with what they release.
   */
  private evacuateSome(maxRecords: number): void {
    if (this.evacuationCursor === undefined) {
      if (!this.values.startEvacuation()) return;
      this.evacuationCursor = '';
    }
    let looked = 0;
    let next: string | undefined;
    const keys = this.keys;
    keys.index.scan(this.evacuationCursor, null, (id) => {
      if (looked >= maxRecords) {
        next = keys.key(id);
        return false;
      }
      const count = keys.recordCount(id);
      looked += count;
      for (let position = 0; position < count; position++) {
        const address = keys.valueAddressAt(id, position);
        const length = keys.valueLengthAt(id, position);
        if (this.values.isVictim(address, length))
          keys.setValueAddressAt(id, position, this.values.move(address, length));
      }
      // The last victim went with its last value: nothing left to move.
      return this.values.evacuating;
    });
    if (this.values.evacuating && next !== undefined) {
      this.evacuationCursor = next;
      return;
    }
    this.values.finishEvacuation();
    this.evacuationCursor = undefined;
  }

  /**
   * One step of dropping history below `compactRevision`: walks at most `maxRecords` change-log
   * records. True once nothing is left to drop. Each key keeps its latest record at or below the
   * compact revision (unless that is a tombstone older than it) and everything after. Only keys
   * changed since the previous drop can hold droppable records, so the work is proportional to
   * those changes. Between steps the store answers as before: nothing below `compactRevision` is
   * read. Must not run while a view is open.
   */
  dropHeldHistory(maxRecords: number): boolean {
    assert(this.openViews === 0, 'mvcc: history dropped under an open view');
    assert(maxRecords > 0, 'mvcc: a drop step must walk something');
    if (!this.heldHistoryPending) return true;
    const target = this.compactRevision;
    if (target !== this.dropTarget) {
      // Compaction moved on mid-walk. A key walked at the earlier target whose record at exactly
      // that revision is a tombstone must go now: walk those changes again.
      this.dropCursor = Math.min(this.dropCursor, this.changeLogPosition(this.dropTarget));
      this.dropTarget = target;
    }
    const upTo = this.changeLogPosition(target + 1);
    const newStart = this.changeLogPosition(target);
    const stop = Math.min(upTo, this.dropCursor + maxRecords);
    for (let position = this.dropCursor; position < stop; position++) {
      const id = this.changeLog.keyIdAt(position);
      // Marked so a walk again from an earlier position skips it: its key may be gone.
      if (position < newStart) this.changeLog.setKeyIdAt(position, COMPACTED_ID);
      // An id whose key was removed earlier in this drop is free, or taken by a key added since,
      // whose records are all above `target`: `dropBefore` keeps them all.
      if (id !== COMPACTED_ID && this.keys.holds(id)) this.dropBefore(id, target);
    }
    this.dropCursor = stop;
    if (stop < upTo) return false;
    // Cutting the front off moves every later change, so it waits until the dead part is the
    // larger half: each change is moved a bounded number of times however often compaction runs.
    this.changeLogStart = newStart;
    if (this.changeLogStart * 2 >= this.changeLog.length) {
      this.changeLog.dropFront(this.changeLogStart);
      this.changeLogStart = 0;
    }
    this.dropCursor = this.changeLogStart;
    this.droppedThrough = target;
    return true;
  }

  /** Drops the records of key `id` that compaction at `revision` does not keep. */
  private dropBefore(id: KeyId, revision: number): void {
    const keys = this.keys;
    const count = keys.recordCount(id);
    // Already reduced (a key seen earlier in this pass, or never rewritten): nothing to drop.
    if (count === 1 && !keys.isTombstoneAt(id, 0)) return;
    let keepFrom = Math.max(0, keys.positionAtOrBelow(id, revision));
    if (keys.isTombstoneAt(id, keepFrom) && keys.modRevisionAt(id, keepFrom) < revision) keepFrom++;
    for (let index = 0; index < keepFrom; index++) this.forget(id, index);
    if (keepFrom >= count) keys.remove(id);
    else if (keepFrom > 0) keys.dropBefore(id, keepFrom);
  }

  /**
   * Changes in `range` from `fromRevision` on, in order, stopping at a revision boundary once
   * `maxEvents` are collected or `maxScanned` change-log records were looked at. `nextRevision` is
   * where the next call should continue.
   */
  history(
    range: KeyRange,
    fromRevision: number,
    maxEvents: number,
    maxScanned: number,
  ): { records: KeyRecord[]; nextRevision: number } {
    const records: KeyRecord[] = [];
    const changes = this.changeLog;
    let position = this.changeLogPosition(fromRevision);
    let scanned = 0;
    while (position < changes.length) {
      const revision = changes.revisionAt(position);
      if (records.length >= maxEvents || scanned >= maxScanned) return { records, nextRevision: revision };
      for (; position < changes.length && changes.revisionAt(position) === revision; position++, scanned++) {
        const id = changes.keyIdAt(position);
        if (id !== COMPACTED_ID && keyInRange(this.keys, id, range))
          records.push(this.keys.recordAt(id, this.keys.positionAtOrBelow(id, revision), this.values));
      }
    }
    return { records, nextRevision: this.currentRevision + 1 };
  }

  /** The live record a change-log record replaced (for a watch event's prevKv). */
  previousOf(record: KeyRecord): KeyRecord | undefined {
    const id = this.keys.find(record.key);
    if (id === undefined) return undefined;
    return this.liveRecordAt(id, record.modRevision - 1, record.key);
  }
}
