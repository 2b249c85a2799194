/**
 * Binary snapshot of the replicated state. Layout: magic "MKVS", format version, applied index,
 * revisions and the next automatic lease id; every key in key order with its records; every lease
 * in id order; the raised alarms (from version 2 on); then a CRC-32 of all preceding bytes. Lease
 * key sets and the change log are rebuilt from the records, so they cannot disagree with them.
 *
 * Both directions run a bounded step at a time (a million keys take seconds): the encoder reads a
 * `StoreView` that stays as of one revision while applies go on between its steps, and the decoder
 * builds the new state aside for the caller to swap in at the end. How the work is cut into steps
 * never changes the bytes.
 */
import {
  assert,
  BinaryReader,
  BinaryWriter,
  type FedTask,
  SteppedMergeSort,
  type SteppedTask,
} from '../lib/index.js';
import { crc32 } from './bytes.js';
import { ChangeLog } from './change-log.js';
import { KvCodecError, kvCodecError, SnapshotCorruptError } from './errors.js';
import {
  type KeyId,
  type KeyRecord,
  KeyTable,
  NUMBER_SLOTS,
  type RecordNumbers,
  TOMBSTONE_LENGTH,
} from './key-table.js';
import { SNAPSHOT_SORT_STEP_RECORDS, SNAPSHOT_STEP_BYTES, SNAPSHOT_STEP_KEYS } from './limits.js';
import { type StoreContents, type StoreView, storedRecordBytes } from './mvcc.js';
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

/** Records of key `id` at or below `revision` (a prefix: records are in revision order). */
function recordsThrough(keys: KeyTable, id: KeyId, revision: number): number {
  let count = keys.recordCount(id);
  while (count > 0 && keys.modRevisionAt(id, count - 1) > revision) count--;
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
    const { revision, keys, values } = this.source.view;
    const batch: KeyId[] = [];
    let capacityBytes = 0;
    this.nextKey = undefined;
    this.source.view.scanFrom(start, (id) => {
      if (batch.length >= this.limits.keys || capacityBytes >= this.limits.bytes) {
        this.nextKey = keys.key(id);
        return false;
      }
      batch.push(id);
      capacityBytes += MAX_ENTRY_FIXED_BYTES + keys.keyLength(id);
      for (let position = 0; position < keys.recordCount(id); position++) {
        capacityBytes += MAX_RECORD_FIXED_BYTES + 8 + Math.max(0, keys.valueLengthAt(id, position));
      }
      return true;
    });
    const writer = new BinaryWriter(capacityBytes);
    for (const id of batch) {
      // Keys created after the view have no record at or below its revision.
      const count = recordsThrough(keys, id, revision);
      if (count === 0) continue;
      this.keysWritten++;
      writer.binary(keys.key(id)).varuint(count);
      for (let position = 0; position < count; position++) {
        // The record's four numbers and lease, then its value (see key-table.ts).
        for (let field = 0; field < NUMBER_SLOTS; field++) writer.varuint(keys.fieldAt(id, position, field));
        const value = keys.valueAt(id, position, values);
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

type DecodePhase = 'header' | 'keys' | 'leases' | 'leaseKeys' | 'changeLog' | 'changeColumns' | 'done';

/** A change-log item while the decoder sorts them. */
interface Change {
  readonly id: KeyId;
  readonly modRevision: number;
  readonly subRevision: number;
}

const compareChanges = (left: Change, right: Change): number =>
  left.modRevision - right.modRevision || left.subRevision - right.subRevision;

const NO_BYTES = new Uint8Array(0);

/**
 * Decodes and checks a snapshot a step at a time, building the state aside: keys, leases, lease
 * key sets, then the change log sorted in revision order; the checksum is checked once every byte
 * is in, before the state can be swapped in. The snapshot's bytes come in parts (`push`), read
 * from a file a part at a time, so no copy of the whole snapshot need be held: a key cut by the
 * end of a part waits for the next (`wantsBytes`). Any problem is a `SnapshotCorruptError` from
 * the step that finds it.
 */
export class SnapshotDecoder implements FedTask<DecodedSnapshot> {
  private phase: DecodePhase = 'header';
  private readonly bodyBytes: number;
  /** Bytes pushed and not decoded yet, and a reader over them. */
  private window: Uint8Array = NO_BYTES;
  private reader: BinaryReader;
  /** Parts pushed and not yet joined to the window (see `wantsBytes`). */
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** Set when a read ran past the window; cleared once enough was pushed to read it again. */
  private starved = false;
  private pushed = 0;
  private checksum = 0;
  private readonly storedChecksum = new Uint8Array(CHECKSUM_BYTES);
  private version = 0;
  private alarms: AlarmMember[] = [];
  private appliedIndex = 0;
  private currentRevision = 0;
  private compactRevision = 0;
  private nextLeaseId = 0;
  private keysLeft = 0;
  private leasesLeft: number | undefined;
  private previousKey: string | undefined;
  private previousLeaseId = 0;
  private readonly keys = new KeyTable();
  private readonly values = new ValueArena();
  private readonly changes: Change[] = [];
  /** The sorted changes as the store's columns, filled a step at a time. */
  private readonly changeLog = new ChangeLog();
  private readonly leases = new Map<number, LeaseEntry>();
  private storedBytes = 0;
  private storedRecordCount = 0;
  /** Live records attached to a lease, whose keys join the lease's key set once leases are read. */
  private readonly leased: KeyRecord[] = [];
  private leasedAttached = 0;
  private sort: SteppedMergeSort<Change> | undefined;

  /** A decoder of a snapshot of `totalBytes`, to be pushed in parts. */
  constructor(
    private readonly totalBytes: number,
    private readonly limits = SNAPSHOT_STEP_LIMITS,
  ) {
    if (totalBytes < MAGIC.length + 1 + CHECKSUM_BYTES) throw new SnapshotCorruptError('too short');
    this.bodyBytes = totalBytes - CHECKSUM_BYTES;
    this.reader = new BinaryReader(this.window, 'snapshot', kvCodecError);
  }

  private get allPushed(): boolean {
    return this.pushed === this.totalBytes;
  }

  /**
   * True while the next step cannot go on without more bytes. A key cut by a part's end needs the
   * next part; one longer than a part waits until what is pushed doubles what is held, so a large
   * key is joined in a few copies rather than one per part.
   */
  get wantsBytes(): boolean {
    if (!this.starved || this.allPushed) return false;
    // The tail (leases, alarms) is read once every byte is in.
    if (this.phase === 'leases') return true;
    return this.pendingBytes === 0 || this.pendingBytes < this.reader.remaining;
  }

  push(part: Uint8Array): void {
    assert(this.pushed + part.byteLength <= this.totalBytes, 'snapshot: more bytes pushed than it holds');
    const bodyEnd = Math.max(0, Math.min(part.byteLength, this.bodyBytes - this.pushed));
    if (bodyEnd < part.byteLength) {
      this.storedChecksum.set(part.subarray(bodyEnd), this.pushed + bodyEnd - this.bodyBytes);
    }
    const body = part.subarray(0, bodyEnd);
    this.checksum = crc32(body, this.checksum);
    this.pushed += part.byteLength;
    if (body.byteLength === 0) return;
    this.pending.push(body);
    this.pendingBytes += body.byteLength;
    if (this.reader.remaining === 0 && this.pending.length === 1) this.joinPending();
  }

  /** Joins the pending parts to what is left of the window. */
  private joinPending(): void {
    const rest = this.window.subarray(this.reader.offset);
    const parts = rest.byteLength === 0 ? this.pending : [rest, ...this.pending];
    this.window = parts.length === 1 ? (parts[0] as Uint8Array) : concatParts(parts);
    this.reader = new BinaryReader(this.window, 'snapshot', kvCodecError);
    this.pending = [];
    this.pendingBytes = 0;
    this.starved = false;
  }

  /**
   * Runs `read` over the window and returns the bytes it read; when it ran past the window's end
   * with more bytes to come, undoes it (reads change nothing until they have read all they need),
   * waits for them and returns -1.
   */
  private readWhole(read: () => void): number {
    if (this.pendingBytes > 0) this.joinPending();
    const start = this.reader.offset;
    try {
      read();
      return this.reader.offset - start;
    } catch (error) {
      if (!(error instanceof KvCodecError) || this.allPushed) throw error;
      this.window = this.window.subarray(start);
      this.reader = new BinaryReader(this.window, 'snapshot', kvCodecError);
      this.starved = true;
      return -1;
    }
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
    assert(!this.wantsBytes, 'snapshot: stepped while waiting for bytes');
    switch (this.phase) {
      case 'header':
        this.readWhole(() => this.readHeader());
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
    // Counted against the whole snapshot: the window holds only part of it.
    const keys = reader.varuint();
    if (keys * 2 > this.bodyBytes) throw new SnapshotCorruptError(`key count ${keys} exceeds the snapshot`);
    this.keysLeft = keys;
    this.phase = 'keys';
  }

  private readKeys(): void {
    let bytesRead = 0;
    for (
      let read = 0;
      this.keysLeft > 0 && read < this.limits.keys && bytesRead < this.limits.bytes;
      read++
    ) {
      const consumed = this.readWhole(() => this.readKey());
      if (consumed < 0) return;
      bytesRead += consumed;
      this.keysLeft--;
    }
    if (this.keysLeft === 0) this.phase = 'leases';
  }

  /** Reads one key and its records; changes nothing unless the whole key was read. */
  private readKey(): void {
    const reader = this.reader;
    const key = reader.binary();
    const count = reader.count(MIN_RECORD_BYTES);
    if (count === 0) throw new SnapshotCorruptError('key without records');
    const records: RecordNumbers[] = new Array(count);
    const values: (Uint8Array | null)[] = new Array(count);
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
      records[position] = { modRevision, subRevision, createRevision, version, lease };
      values[position] = value;
    }
    if (this.previousKey !== undefined && key <= this.previousKey)
      throw new SnapshotCorruptError('keys out of order');
    // The whole key was read: from here on the decoded state changes.
    this.previousKey = key;
    const id = this.keys.create(key, true);
    for (let position = 0; position < count; position++) {
      const numbers = records[position] as RecordNumbers;
      const value = values[position] as Uint8Array | null;
      if (value === null) this.keys.append(id, numbers, 0, TOMBSTONE_LENGTH);
      else this.keys.append(id, numbers, this.values.store(value), value.length);
      this.storedBytes += storedRecordBytes({ key, value });
      this.storedRecordCount++;
      const { modRevision, subRevision } = numbers;
      if (modRevision >= this.compactRevision) this.changes.push({ id, modRevision, subRevision });
    }
    if (!this.keys.isTombstoneAt(id, count - 1)) {
      const latest = this.keys.recordAt(id, count - 1, this.values);
      if (latest.lease !== 0) this.leased.push(latest);
    }
  }

  /** Leases and alarms (the small tail), once every byte is in and the checksum checks out. */
  private readLeases(): void {
    if (!this.allPushed) {
      this.starved = true;
      return;
    }
    if (this.pendingBytes > 0) this.joinPending();
    const reader = this.reader;
    if (this.leasesLeft === undefined) {
      const stored = new BinaryReader(this.storedChecksum, 'snapshot', kvCodecError).uint32();
      if (this.checksum !== stored) throw new SnapshotCorruptError('checksum mismatch');
      this.leasesLeft = reader.count(2);
    }
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
    this.window = NO_BYTES;
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
    const changeLog = this.changeLog;
    const stop = Math.min(this.changes.length, changeLog.length + SNAPSHOT_SORT_STEP_RECORDS);
    for (let position = changeLog.length; position < stop; position++) {
      const change = this.changes[position] as Change;
      changeLog.push(change.id, change.modRevision);
    }
    if (changeLog.length < this.changes.length) return;
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
      keys: this.keys,
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

/** The parts joined into one buffer. */
function concatParts(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.byteLength;
  const joined = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.byteLength;
  }
  return joined;
}
