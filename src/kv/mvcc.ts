/**
 * Multi-version key store. Each key keeps its records (one per change) in revision order; a
 * deleted key ends with a tombstone record. The change log lists every record since the compact
 * revision in (revision, sub-revision) order, which serves watches from the past without a scan
 * over all keys. Writes are grouped: `begin`, then puts and deletes at the next revision, then
 * `commit` (the revision advances once if anything changed) or `rollback`.
 */
import { assert } from '../lib/index.js';
import { CompactedError, FutureRevisionError } from './errors.js';
import { OrderedIndex } from './ordered-index.js';
import { type KeyRange, rangeContains } from './validate.js';

export interface KeyRecord {
  readonly key: string;
  readonly modRevision: number;
  /** Position of the change inside its revision (a txn writes several keys at one revision). */
  readonly subRevision: number;
  /** 0 for a tombstone. */
  readonly createRevision: number;
  /** 0 for a tombstone. */
  readonly version: number;
  readonly lease: number;
  /** null marks a tombstone. */
  readonly value: string | null;
}

export interface KeyEntry {
  readonly key: string;
  /** Replaced rather than grown while short: V8 reserves 17 slots when a 1-element array grows. */
  records: KeyRecord[];
}

/** Record lists shorter than this are copied to exact size on append instead of pushed to. */
const EXACT_RECORD_LIST_LENGTH = 8;

/**
 * What one stored record counts for the space quota besides its key and value bytes: its revision
 * numbers, lease and index bookkeeping. A fixed figure, so replicas holding the same records count
 * the same total (memory use itself differs between processes).
 */
export const RECORD_OVERHEAD_BYTES = 64;

/** The bytes a record counts for the space quota. */
export function storedRecordBytes(record: KeyRecord): number {
  return record.key.length + (record.value?.length ?? 0) + RECORD_OVERHEAD_BYTES;
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
  /**
   * Visits entries with key >= start in key order until `visit` returns false. Entries may hold
   * records above `revision` and keys created after the view: the reader skips those.
   */
  scanFrom(start: string, visit: (entry: KeyEntry) => boolean | undefined): void;
  close(): void;
}

/** What a change-log slot before the live part holds once its record was dropped. */
const COMPACTED_SLOT: KeyRecord = Object.freeze({
  key: '',
  modRevision: 0,
  subRevision: 0,
  createRevision: 0,
  version: 0,
  lease: 0,
  value: null,
});

/** What the stored records count for the space quota (see `storedRecordBytes`). */
export interface StoredTotals {
  readonly storedBytes: number;
  readonly storedRecordCount: number;
}

/** One change made by a write group: the new record and the live record it replaced, if any. */
export interface StoreChange {
  readonly record: KeyRecord;
  readonly previous: KeyRecord | undefined;
}

export class MvccStore {
  readonly index: OrderedIndex<KeyEntry>;
  currentRevision: number;
  compactRevision: number;
  /** Records with modRevision >= compactRevision, in (modRevision, subRevision) order. */
  /** Records before `changeLogStart` are compacted away and wait to be cut off in one go. */
  private readonly changeLog: KeyRecord[];
  private changeLogStart = 0;
  /** Sum of `storedRecordBytes` over every record kept (live, superseded and tombstones). */
  storedBytes = 0;
  /** Records kept, superseded ones and tombstones included. */
  storedRecordCount = 0;
  private writing = false;
  private pending: StoreChange[] = [];
  /** Views open (see `openView`); while any is, compaction drops nothing. */
  private openViews = 0;
  /** History below this revision was dropped; behind `compactRevision` while views are open. */
  private droppedThrough: number;

  constructor(
    index = new OrderedIndex<KeyEntry>(),
    currentRevision = 1,
    compactRevision = 0,
    changeLog: KeyRecord[] = [],
    /** The stored totals of `index` when the caller already has them (a decoded snapshot). */
    totals?: StoredTotals,
  ) {
    this.index = index;
    this.currentRevision = currentRevision;
    this.compactRevision = compactRevision;
    this.changeLog = changeLog;
    this.droppedThrough = compactRevision;
    if (totals !== undefined) {
      this.storedBytes = totals.storedBytes;
      this.storedRecordCount = totals.storedRecordCount;
      return;
    }
    index.forEach((entry) => {
      for (const record of entry.records) this.count(record, 1);
    });
  }

  /** Adds (`sign` 1) or removes (-1) a record from the stored totals. */
  private count(record: KeyRecord, sign: 1 | -1): void {
    this.storedBytes += sign * storedRecordBytes(record);
    this.storedRecordCount += sign;
  }

  /** The live record of `key` as of now (including writes of the open group). */
  latest(key: string): KeyRecord | undefined {
    const record = this.index.get(key)?.records.at(-1);
    return record === undefined || record.value === null ? undefined : record;
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

  static recordAt(entry: KeyEntry, revision: number): KeyRecord | undefined {
    const records = entry.records;
    let found: KeyRecord | undefined;
    const last = records[records.length - 1];
    if (last !== undefined && last.modRevision <= revision) {
      found = last;
    } else {
      let low = 0;
      let high = records.length;
      while (low < high) {
        const middle = (low + high) >>> 1;
        if ((records[middle] as KeyRecord).modRevision <= revision) low = middle + 1;
        else high = middle;
      }
      found = low === 0 ? undefined : records[low - 1];
    }
    return found === undefined || found.value === null ? undefined : found;
  }

  /** Visits the live records in `range` at `revision`, in key order, until `visit` returns false. */
  scan(range: KeyRange, revision: number, visit: (record: KeyRecord) => boolean | undefined): void {
    if (range.single) {
      const entry = this.index.get(range.start);
      const record = entry === undefined ? undefined : MvccStore.recordAt(entry, revision);
      if (record !== undefined) visit(record);
      return;
    }
    this.index.scan(range.start, range.end, (entry) => {
      const record = MvccStore.recordAt(entry, revision);
      return record === undefined ? true : visit(record);
    });
  }

  begin(): void {
    assert(!this.writing, 'mvcc: write group already open');
    this.writing = true;
    this.pending = [];
  }

  private append(entry: KeyEntry, record: KeyRecord): void {
    if (entry.records.length < EXACT_RECORD_LIST_LENGTH) entry.records = [...entry.records, record];
    else entry.records.push(record);
    this.changeLog.push(record);
    this.count(record, 1);
  }

  put(key: string, value: string, lease: number): StoreChange {
    assert(this.writing, 'mvcc: put outside a write group');
    const revision = this.currentRevision + 1;
    const entry = this.index.get(key);
    const last = entry?.records[entry.records.length - 1];
    const previous = last === undefined || last.value === null ? undefined : last;
    assert(last === undefined || last.modRevision < revision, 'mvcc: key written twice in one group');
    const record: KeyRecord = {
      key: entry === undefined ? key : entry.key, // share the stored key string, not a fresh copy
      modRevision: revision,
      subRevision: this.pending.length,
      createRevision: previous === undefined ? revision : previous.createRevision,
      version: previous === undefined ? 1 : previous.version + 1,
      lease,
      value,
    };
    if (entry === undefined) {
      // A one-element literal: an array grown by push would reserve room for 17 records.
      this.index.insert({ key, records: [record] });
      this.changeLog.push(record);
      this.count(record, 1);
    } else {
      this.append(entry, record);
    }
    const change = { record, previous };
    this.pending.push(change);
    return change;
  }

  /** Deletes a live key; returns undefined if the key is not live. */
  delete(key: string): StoreChange | undefined {
    assert(this.writing, 'mvcc: delete outside a write group');
    const previous = this.latest(key);
    if (previous === undefined) return undefined;
    const record: KeyRecord = {
      key,
      modRevision: this.currentRevision + 1,
      subRevision: this.pending.length,
      createRevision: 0,
      version: 0,
      lease: 0,
      value: null,
    };
    this.append(this.index.get(key) as KeyEntry, record);
    const change = { record, previous };
    this.pending.push(change);
    return change;
  }

  commit(): StoreChange[] {
    assert(this.writing, 'mvcc: commit without a write group');
    this.writing = false;
    const changes = this.pending;
    this.pending = [];
    if (changes.length > 0) this.currentRevision++;
    return changes;
  }

  rollback(): void {
    assert(this.writing, 'mvcc: rollback without a write group');
    for (let position = this.pending.length - 1; position >= 0; position--) {
      const key = (this.pending[position] as StoreChange).record.key;
      const entry = this.index.get(key) as KeyEntry;
      this.count(entry.records.pop() as KeyRecord, -1);
      this.changeLog.pop();
      if (entry.records.length === 0) this.index.remove(key);
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
      if ((this.changeLog[middle] as KeyRecord).modRevision < revision) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /**
   * Where a compaction towards `target` may stop so that it walks at most about `maxRecords`
   * change records (all records of the last revision it reaches are walked).
   */
  compactionStep(target: number, maxRecords: number): number {
    const record = this.changeLog[Math.min(this.changeLogStart + maxRecords, this.changeLog.length - 1)];
    if (record === undefined) return target;
    return Math.min(target, Math.max(record.modRevision, this.compactRevision + 1));
  }

  /**
   * A view of the store as of now. Writes go on under it: they only append records above its
   * revision and add keys, which its reader skips. Only compaction drops records and keys, so
   * while a view is open compaction moves `compactRevision` (reads and watches refuse below it at
   * once) and drops the history when the last view closes (`storedBytes`, a node-local quota
   * figure, falls then too). Whoever changes how records are stored
   * or dropped must keep that promise: records at or below an open view's revision stay in their
   * entry's `records`, and entries stay in the index.
   */
  openView(): StoreView {
    assert(!this.writing, 'mvcc: view opened inside a write group');
    this.openViews++;
    let open = true;
    return {
      revision: this.currentRevision,
      compactRevision: this.compactRevision,
      keyCount: this.index.size,
      scanFrom: (start, visit) => {
        assert(open, 'mvcc: scan of a closed view');
        this.index.scan(start, null, visit);
      },
      close: () => {
        assert(open, 'mvcc: view closed twice');
        open = false;
        this.openViews--;
        if (this.openViews === 0 && this.droppedThrough < this.compactRevision) {
          this.dropHistory(this.compactRevision);
        }
      },
    };
  }

  /** Compacts at `revision`: reads below it are refused; its history is dropped unless a view is open. */
  compact(revision: number): void {
    assert(revision > this.compactRevision && revision <= this.currentRevision, 'mvcc: bad compact revision');
    this.compactRevision = revision;
    if (this.openViews === 0) this.dropHistory(revision);
  }

  /**
   * Drops history below `revision`: each key keeps its latest record at or below it (unless that is
   * a tombstone older than `revision`) and everything after. Only keys changed since the previous
   * compaction can hold droppable records, so the work is proportional to those changes. Dropping
   * once at a later revision leaves what dropping at each revision in turn would.
   */
  private dropHistory(revision: number): void {
    const upTo = this.changeLogPosition(revision + 1);
    const newStart = this.changeLogPosition(revision);
    for (let position = this.changeLogStart; position < upTo; position++) {
      const key = (this.changeLog[position] as KeyRecord).key;
      // A dead slot must not keep its dropped record alive until the front is cut off.
      if (position < newStart) this.changeLog[position] = COMPACTED_SLOT;
      const entry = this.index.get(key);
      if (entry === undefined) continue;
      const records = entry.records;
      // Already reduced (a key seen earlier in this pass, or never rewritten): nothing to drop.
      if (records.length === 1 && (records[0] as KeyRecord).value !== null) continue;
      let keepFrom = 0;
      for (let index = records.length - 1; index >= 0; index--) {
        if ((records[index] as KeyRecord).modRevision <= revision) {
          keepFrom = index;
          break;
        }
      }
      const base = records[keepFrom] as KeyRecord;
      if (base.value === null && base.modRevision < revision) keepFrom++;
      for (let index = 0; index < keepFrom; index++) this.count(records[index] as KeyRecord, -1);
      if (keepFrom >= records.length) this.index.remove(key);
      else if (keepFrom > 0) entry.records = records.slice(keepFrom);
    }
    // Cutting the front off moves every later record, so it waits until the dead part is the
    // larger half: each record is moved a bounded number of times however often compaction runs.
    this.changeLogStart = newStart;
    if (this.changeLogStart * 2 >= this.changeLog.length) {
      this.changeLog.splice(0, this.changeLogStart);
      this.changeLogStart = 0;
    }
    this.droppedThrough = revision;
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
    let position = this.changeLogPosition(fromRevision);
    let scanned = 0;
    while (position < this.changeLog.length) {
      const revision = (this.changeLog[position] as KeyRecord).modRevision;
      if (records.length >= maxEvents || scanned >= maxScanned) return { records, nextRevision: revision };
      for (; position < this.changeLog.length; position++, scanned++) {
        const record = this.changeLog[position] as KeyRecord;
        if (record.modRevision !== revision) break;
        if (rangeContains(range, record.key)) records.push(record);
      }
    }
    return { records, nextRevision: this.currentRevision + 1 };
  }

  /** The live record a change-log record replaced (for a watch event's prevKv). */
  previousOf(record: KeyRecord): KeyRecord | undefined {
    const entry = this.index.get(record.key);
    if (entry === undefined) return undefined;
    const records = entry.records;
    let low = 0;
    let high = records.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((records[middle] as KeyRecord).modRevision < record.modRevision) low = middle + 1;
      else high = middle;
    }
    const previous = records[low - 1];
    return previous === undefined || previous.value === null ? undefined : previous;
  }
}
