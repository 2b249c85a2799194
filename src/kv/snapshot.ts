/**
 * Binary snapshot of the replicated state. Layout: magic "MKVS", format version, applied index,
 * revisions and the next automatic lease id; every key in key order with its records; every lease
 * in id order; the raised alarms (from version 2 on); then a CRC-32 of all preceding bytes. Lease key sets and the change log are rebuilt
 * from the records, so they cannot disagree with them.
 *
 * Both directions run a bounded step at a time (a million keys take seconds): the encoder reads a
 * `StoreView` that stays as of one revision while applies go on between its steps, and the decoder
 * builds the new state aside for the caller to swap in at the end. How the work is cut into steps
 * never changes the bytes.
 */
import { assert, BinaryReader, BinaryWriter, SteppedMergeSort, type SteppedTask } from '../lib/index.js';
import { crc32 } from './bytes.js';
import { KvCodecError, kvCodecError, SnapshotCorruptError } from './errors.js';
import {
  isTombstoneAt,
  type KeyEntry,
  type KeyRecord,
  modRevisionAt,
  NUMBER_SLOTS,
  newKeyEntry,
  RECORD_SLOTS,
  recordAt,
  recordCount,
  subRevisionAt,
  TOMBSTONE_LENGTH,
  valueAt,
  valueLengthAt,
  writeRecordSlots,
} from './key-entry.js';
import {
  SNAPSHOT_CHECKSUM_STEP_BYTES,
  SNAPSHOT_SORT_STEP_RECORDS,
  SNAPSHOT_STEP_BYTES,
  SNAPSHOT_STEP_KEYS,
} from './limits.js';
import { type ChangeLog, type StoreContents, type StoreView, storedRecordBytes } from './mvcc.js';
import { OrderedIndex } from './ordered-index.js';
import type { AlarmMember, AlarmType, LeaseStatus } from './types.js';
import { ValueArena } from './value-arena.js';

const MAGIC = [0x4d, 0x4b, 0x56, 0x53];
export const KV_SNAPSHOT_VERSION = 2;
/** The version before alarms were kept; still read, as having no alarms. */
const KV_SNAPSHOT_VERSION_WITHOUT_ALARMS = 1;
/** Alarm types by their number in the snapshot. */
const ALARM_TYPES: readonly AlarmType[] = ['NOSPACE'];
const CHECKSUM_BYTES = 4;
/** Smallest encoding of one record: five varints and a flag byte. */
const MIN_RECORD_BYTES = 6;
/** Upper bound of one record's fixed fields: five varints of at most 8 bytes and a flag. */
const MAX_RECORD_FIXED_BYTES = 41;
/** Upper bound of a key's length prefix and record count. */
const MAX_ENTRY_FIXED_BYTES = 16;

/** How much one encode or decode step handles at most (tests take smaller steps). */
export interface SnapshotStepLimits {
  readonly keys: number;
  readonly bytes: number;
  /** Change records one step of dropping the history a snapshot held back walks (`HELD_DROP_STEP_RECORDS`). */
  readonly heldDropRecords?: number;
}

export const SNAPSHOT_STEP_LIMITS: SnapshotStepLimits = {
  keys: SNAPSHOT_STEP_KEYS,
  bytes: SNAPSHOT_STEP_BYTES,
};

export interface LeaseEntry {
  readonly id: number;
  readonly ttlSeconds: number;
  readonly keys: Set<string>;
}

/** What a snapshot holds besides the store view, taken at the same moment as the view. */
export interface SnapshotSource {
  readonly appliedIndex: number;
  readonly nextLeaseId: number;
  readonly leases: readonly LeaseStatus[];
  readonly alarms: readonly AlarmMember[];
  /** Closed by the encoder when it finishes or is cancelled. */
  readonly view: StoreView;
}

/** The store's contents (totalled while decoding: no second pass over a million keys) and the rest. */
export interface DecodedSnapshot extends StoreContents {
  readonly appliedIndex: number;
  readonly nextLeaseId: number;
  readonly leases: Map<number, LeaseEntry>;
  readonly alarms: readonly AlarmMember[];
}

/** Records of `entry` at or below `revision` (a prefix: records are in revision order). */
function recordsThrough(entry: KeyEntry, revision: number): number {
  let count = recordCount(entry);
  while (count > 0 && modRevisionAt(entry, count - 1) > revision) count--;
  return count;
}

/**
 * Encodes a snapshot a step at a time; the result is the snapshot as a list of chunks (one per
 * step), whose concatenation is the snapshot.
 */
export class SnapshotEncoder implements SteppedTask<Uint8Array[]> {
  private readonly chunks: Uint8Array[] = [];
  private checksum = 0;
  /** Key the next step starts at; undefined once every key is written. */
  private nextKey: string | undefined = '';
  private keysWritten = 0;
  private done = false;

  constructor(
    private readonly source: SnapshotSource,
    private readonly limits = SNAPSHOT_STEP_LIMITS,
  ) {
    const view = source.view;
    const header = new BinaryWriter(64);
    for (const byte of MAGIC) header.byte(byte);
    header
      .byte(KV_SNAPSHOT_VERSION)
      .varuint(source.appliedIndex)
      .varuint(view.revision)
      .varuint(view.compactRevision)
      .varuint(source.nextLeaseId)
      .varuint(view.keyCount);
    this.push(header.view());
  }

  private push(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.checksum = crc32(chunk, this.checksum);
  }

  step(): boolean {
    if (this.done) return true;
    const start = this.nextKey;
    if (start !== undefined) this.encodeKeys(start);
    else this.finish();
    return this.done;
  }

  /** Encodes up to the step's limit of keys (or bytes) from `start` on. */
  private encodeKeys(start: string): void {
    const revision = this.source.view.revision;
    const batch: KeyEntry[] = [];
    let capacityBytes = 0;
    this.nextKey = undefined;
    this.source.view.scanFrom(start, (entry) => {
      if (batch.length >= this.limits.keys || capacityBytes >= this.limits.bytes) {
        this.nextKey = entry.key;
        return false;
      }
      batch.push(entry);
      capacityBytes += MAX_ENTRY_FIXED_BYTES + entry.key.length;
      for (let position = 0; position < recordCount(entry); position++) {
        capacityBytes += MAX_RECORD_FIXED_BYTES + 8 + Math.max(0, valueLengthAt(entry, position));
      }
      return true;
    });
    const writer = new BinaryWriter(capacityBytes);
    const values = this.source.view.values;
    for (const entry of batch) {
      // Keys created after the view have no record at or below its revision.
      const count = recordsThrough(entry, revision);
      if (count === 0) continue;
      this.keysWritten++;
      writer.binary(entry.key).varuint(count);
      const slots = entry.slots;
      for (let position = 0; position < count; position++) {
        // The record's four numbers and lease, then its value (see key-entry.ts).
        const base = position * RECORD_SLOTS;
        for (let field = 0; field < NUMBER_SLOTS; field++) writer.varuint(slots[base + field] as number);
        const value = valueAt(entry, position, values);
        writer.byte(value === null ? 0 : 1);
        if (value !== null) writer.bytes(value);
      }
    }
    if (writer.size > 0) this.push(writer.view());
  }

  private finish(): void {
    assert(
      this.keysWritten === this.source.view.keyCount,
      () => `snapshot wrote ${this.keysWritten} keys of the ${this.source.view.keyCount} in its view`,
    );
    const { leases, alarms } = this.source;
    const tail = new BinaryWriter(32 + leases.length * 16 + alarms.length * 10);
    tail.varuint(leases.length);
    for (const lease of leases) tail.varuint(lease.id).varuint(lease.ttlSeconds);
    tail.varuint(alarms.length);
    for (const member of alarms) tail.varuint(member.memberId).byte(ALARM_TYPES.indexOf(member.alarm));
    this.push(tail.view());
    const checksum = new BinaryWriter(CHECKSUM_BYTES);
    this.chunks.push(checksum.uint32(this.checksum).view());
    this.close();
  }

  private close(): void {
    this.done = true;
    this.source.view.close();
  }

  result(): Uint8Array[] {
    assert(this.done && this.nextKey === undefined, 'snapshot read before it was encoded');
    return this.chunks;
  }

  cancel(): void {
    if (!this.done) this.close();
  }
}

type DecodePhase = 'checksum' | 'keys' | 'leases' | 'leaseKeys' | 'changeLog' | 'changeColumns' | 'done';

/** A change-log item while the decoder sorts them. */
interface Change {
  readonly entry: KeyEntry;
  readonly modRevision: number;
  readonly subRevision: number;
}

const compareChanges = (left: Change, right: Change): number =>
  left.modRevision - right.modRevision || left.subRevision - right.subRevision;

/**
 * Decodes and checks a snapshot a step at a time, building the state aside: checksum, keys,
 * leases, lease key sets, then the change log sorted in revision order. Any problem is a
 * `SnapshotCorruptError` from the step that finds it.
 */
export class SnapshotDecoder implements SteppedTask<DecodedSnapshot> {
  private phase: DecodePhase = 'checksum';
  private readonly body: Uint8Array;
  private readonly storedChecksum: number;
  private checksum = 0;
  private checksummed = 0;
  private readonly reader: BinaryReader;
  private version = 0;
  private alarms: AlarmMember[] = [];
  private appliedIndex = 0;
  private currentRevision = 0;
  private compactRevision = 0;
  private nextLeaseId = 0;
  private keysLeft = 0;
  private leasesLeft = 0;
  private previousKey: string | undefined;
  private previousLeaseId = 0;
  private readonly index = new OrderedIndex<KeyEntry>();
  private readonly values = new ValueArena();
  private readonly changes: Change[] = [];
  /** The sorted changes as the store's columns, filled a step at a time. */
  private readonly changeLog: ChangeLog = { entries: [], revisions: [] };
  private readonly leases = new Map<number, LeaseEntry>();
  private storedBytes = 0;
  private storedRecordCount = 0;
  /** Live records attached to a lease, whose keys join the lease's key set once leases are read. */
  private readonly leased: KeyRecord[] = [];
  private leasedAttached = 0;
  private sort: SteppedMergeSort<Change> | undefined;

  constructor(
    bytes: Uint8Array,
    private readonly limits = SNAPSHOT_STEP_LIMITS,
  ) {
    if (bytes.length < MAGIC.length + 1 + CHECKSUM_BYTES) throw new SnapshotCorruptError('too short');
    this.body = bytes.subarray(0, bytes.length - CHECKSUM_BYTES);
    this.storedChecksum = new BinaryReader(
      bytes.subarray(bytes.length - CHECKSUM_BYTES),
      'snapshot',
      kvCodecError,
    ).uint32();
    this.reader = new BinaryReader(this.body, 'snapshot', kvCodecError);
  }

  step(): boolean {
    try {
      this.advance();
    } catch (error) {
      this.phase = 'done';
      if (error instanceof KvCodecError) throw new SnapshotCorruptError(String(error.details.problem));
      throw error;
    }
    return this.phase === 'done';
  }

  private advance(): void {
    switch (this.phase) {
      case 'checksum':
        this.checkSome();
        break;
      case 'keys':
        this.readKeys();
        break;
      case 'leases':
        this.readLeases();
        break;
      case 'leaseKeys':
        this.attachLeaseKeys();
        break;
      case 'changeLog':
        if ((this.sort as SteppedMergeSort<Change>).step()) this.phase = 'changeColumns';
        break;
      case 'changeColumns':
        this.fillChangeColumns();
        break;
      case 'done':
        break;
    }
  }

  private checkSome(): void {
    const end = Math.min(this.body.length, this.checksummed + SNAPSHOT_CHECKSUM_STEP_BYTES);
    this.checksum = crc32(this.body.subarray(this.checksummed, end), this.checksum);
    this.checksummed = end;
    if (end < this.body.length) return;
    if (this.checksum !== this.storedChecksum) throw new SnapshotCorruptError('checksum mismatch');
    this.readHeader();
  }

  private readHeader(): void {
    const reader = this.reader;
    for (const expected of MAGIC) if (reader.byte() !== expected) throw new SnapshotCorruptError('bad magic');
    const version = reader.byte();
    if (version !== KV_SNAPSHOT_VERSION && version !== KV_SNAPSHOT_VERSION_WITHOUT_ALARMS)
      throw new SnapshotCorruptError(`unsupported version ${version}`);
    this.version = version;
    this.appliedIndex = reader.varuint();
    this.currentRevision = reader.varuint();
    this.compactRevision = reader.varuint();
    this.nextLeaseId = reader.varuint();
    if (this.currentRevision < 1 || this.compactRevision > this.currentRevision)
      throw new SnapshotCorruptError('bad revisions');
    this.keysLeft = reader.count(2);
    this.phase = 'keys';
  }

  private readKeys(): void {
    const reader = this.reader;
    const stopOffset = reader.offset + this.limits.bytes;
    for (let read = 0; this.keysLeft > 0 && read < this.limits.keys && reader.offset < stopOffset; read++) {
      this.readKey();
      this.keysLeft--;
    }
    if (this.keysLeft > 0) return;
    this.leasesLeft = reader.count(2);
    this.phase = 'leases';
  }

  private readKey(): void {
    const reader = this.reader;
    const key = reader.binary();
    if (this.previousKey !== undefined && key <= this.previousKey)
      throw new SnapshotCorruptError('keys out of order');
    this.previousKey = key;
    const count = reader.count(MIN_RECORD_BYTES);
    if (count === 0) throw new SnapshotCorruptError('key without records');
    const slots = new Array<number>(count * RECORD_SLOTS);
    let lastRevision = 0;
    for (let position = 0; position < count; position++) {
      const modRevision = reader.varuint();
      const subRevision = reader.varuint();
      const createRevision = reader.varuint();
      const version = reader.varuint();
      const lease = reader.varuint();
      const live = reader.byte();
      if (live > 1) throw new SnapshotCorruptError('bad record flag');
      const value = live === 1 ? reader.bytes() : null;
      if (modRevision > this.currentRevision || (position > 0 && modRevision <= lastRevision)) {
        throw new SnapshotCorruptError('record revisions out of order');
      }
      lastRevision = modRevision;
      const numbers = { modRevision, subRevision, createRevision, version, lease };
      if (value === null) writeRecordSlots(slots, position * RECORD_SLOTS, numbers, 0, TOMBSTONE_LENGTH);
      else writeRecordSlots(slots, position * RECORD_SLOTS, numbers, this.values.store(value), value.length);
      this.storedBytes += storedRecordBytes({ key, value });
      this.storedRecordCount++;
    }
    const entry = newKeyEntry(key, slots);
    for (let position = 0; position < count; position++) {
      const modRevision = modRevisionAt(entry, position);
      if (modRevision >= this.compactRevision)
        this.changes.push({ entry, modRevision, subRevision: subRevisionAt(entry, position) });
    }
    if (!isTombstoneAt(entry, count - 1)) {
      const latest = recordAt(entry, count - 1, this.values);
      if (latest.lease !== 0) this.leased.push(latest);
    }
    this.index.appendLast(entry);
  }

  private readLeases(): void {
    const reader = this.reader;
    for (let read = 0; this.leasesLeft > 0 && read < this.limits.keys; read++, this.leasesLeft--) {
      const id = reader.varuint();
      const ttlSeconds = reader.varuint();
      if (id <= this.previousLeaseId) throw new SnapshotCorruptError('leases out of order');
      this.previousLeaseId = id;
      this.leases.set(id, { id, ttlSeconds, keys: new Set() });
    }
    if (this.leasesLeft > 0) return;
    if (this.version !== KV_SNAPSHOT_VERSION_WITHOUT_ALARMS) this.readAlarms();
    reader.end();
    this.phase = 'leaseKeys';
  }

  private readAlarms(): void {
    const count = this.reader.count(2);
    for (let position = 0; position < count; position++) {
      const memberId = this.reader.varuint();
      const alarm = ALARM_TYPES[this.reader.byte()];
      if (alarm === undefined) throw new SnapshotCorruptError('unknown alarm type');
      this.alarms.push({ memberId, alarm });
    }
  }

  private attachLeaseKeys(): void {
    const stop = Math.min(this.leased.length, this.leasedAttached + this.limits.keys);
    for (; this.leasedAttached < stop; this.leasedAttached++) {
      const record = this.leased[this.leasedAttached] as KeyRecord;
      const lease = this.leases.get(record.lease);
      if (lease === undefined)
        throw new SnapshotCorruptError(`key attached to unknown lease ${record.lease}`);
      lease.keys.add(record.key);
    }
    if (this.leasedAttached < this.leased.length) return;
    this.leased.length = 0;
    this.sort = new SteppedMergeSort(this.changes, compareChanges, SNAPSHOT_SORT_STEP_RECORDS);
    this.phase = 'changeLog';
  }

  private fillChangeColumns(): void {
    const { entries, revisions } = this.changeLog;
    const stop = Math.min(this.changes.length, entries.length + SNAPSHOT_SORT_STEP_RECORDS);
    for (let position = entries.length; position < stop; position++) {
      const change = this.changes[position] as Change;
      entries.push(change.entry);
      revisions.push(change.modRevision);
    }
    if (entries.length < this.changes.length) return;
    this.changes.length = 0;
    this.phase = 'done';
  }

  result(): DecodedSnapshot {
    assert(this.phase === 'done' && this.sort !== undefined, 'snapshot read before it was decoded');
    return {
      appliedIndex: this.appliedIndex,
      currentRevision: this.currentRevision,
      compactRevision: this.compactRevision,
      nextLeaseId: this.nextLeaseId,
      index: this.index,
      values: this.values,
      changeLog: this.changeLog,
      leases: this.leases,
      alarms: this.alarms,
      totals: { storedBytes: this.storedBytes, storedRecordCount: this.storedRecordCount },
    };
  }

  cancel(): void {
    this.phase = 'done';
  }
}
