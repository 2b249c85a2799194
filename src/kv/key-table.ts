/**
 * Every stored key and its history, packed. A key keeps one record per change (a delete being a
 * tombstone), and a store keeps many keys: an object, a record array and its backing store per key
 * were three heap objects per key besides the key's string for every full garbage collection to
 * mark (about a million at 256,000 keys). So a key is a small integer id: its bytes in the
 * `KeyBytes` chunks (off the V8 heap: a string is made only for a caller that asks), its place
 * there, its records' place and its record count in typed-array columns, and the records
 * themselves as consecutive runs of `RECORD_SLOTS` float slots in the `RecordPool`'s chunks; the
 * values' bytes are in the store's `ValueArena`, found by address and length. `KeyRecord` objects
 * are made only for what a reader asks for. A stored key costs the V8 heap no object at all.
 *
 * A removed key's id is reused by a later new key, so whoever keeps ids beyond the key's life
 * (the change log) must not look a dead position up (see mvcc.ts).
 */
import { assert } from '../lib/index.js';
import { KeyBytes } from './key-bytes.js';
import { type KeyOrder, OrderedIndex } from './ordered-index.js';
import { chunkOf, classFor, extentAt, firstSlotOf, RECORD_SLOTS, RecordPool } from './record-pool.js';
import type { ValueAddress, ValueArena } from './value-arena.js';

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
  /**
   * null marks a tombstone. Inside the store, a view of the value arena's memory: read it, never
   * write it (`recordToKeyValue` copies it for callers outside).
   */
  readonly value: Uint8Array | null;
}

/** A record's numbers: everything but its key (the table has it) and its value. */
export type RecordNumbers = Omit<KeyRecord, 'key' | 'value'>;

/** A stored key, as the table numbers it while it lives. */
export type KeyId = number;

/** A record's slots, in this order: */
const MOD_REVISION = 0;
const SUB_REVISION = 1;
const CREATE_REVISION = 2;
const VERSION = 3;
const LEASE = 4;
const VALUE_ADDRESS = 5;
/** The value's length in bytes; `TOMBSTONE_LENGTH` for a tombstone. */
const VALUE_LENGTH = 6;
/** The fields the snapshot writes as numbers, in its order (see snapshot.ts): the first five. */
export const NUMBER_SLOTS = 5;

/** The value length slot of a tombstone (a delete has no value). */
export const TOMBSTONE_LENGTH = -1;

const INITIAL_KEY_CAPACITY = 1024;

/** The key length column's entry for a free id. */
const FREE_ID = -1;

export class KeyTable implements KeyOrder {
  /** The live keys' ids in key order. */
  readonly index: OrderedIndex;
  private readonly pool = new RecordPool();
  private readonly keyBytes = new KeyBytes();
  /** Ids in use or freed: the next new id when none is free. */
  private idCount = 0;
  /**
   * Per id: its key's address in `keyBytes` and length (`FREE_ID` while the id is free), its
   * extent's chunk, first slot, class, record count.
   */
  private keyAddressColumn = new Float64Array(INITIAL_KEY_CAPACITY);
  private keyLengthColumn = new Int32Array(INITIAL_KEY_CAPACITY);
  private chunkColumn = new Int32Array(INITIAL_KEY_CAPACITY);
  private firstSlotColumn = new Int32Array(INITIAL_KEY_CAPACITY);
  private classColumn = new Uint8Array(INITIAL_KEY_CAPACITY);
  private countColumn = new Int32Array(INITIAL_KEY_CAPACITY);
  private readonly freeIds: KeyId[] = [];

  constructor() {
    this.index = new OrderedIndex(this);
  }

  /** Keys stored. */
  get size(): number {
    return this.index.size;
  }

  /** Bytes of the record chunks (node-local memory, not what the quota counts). */
  get recordBytes(): number {
    return this.pool.chunkBytes;
  }

  /** Bytes of `recordBytes` in free extents (spare chunks included). */
  get freeRecordBytes(): number {
    return this.pool.freeBytes;
  }

  /** Bytes of the key chunks (node-local memory, not what the quota counts). */
  get keyChunkBytes(): number {
    return this.keyBytes.chunkBytes;
  }

  find(key: string): KeyId | undefined {
    return this.index.get(key);
  }

  /** The key of `id`, as a new string (keep `keyLength` and `compareKey` for what needs no string). */
  key(id: KeyId): string {
    return this.keyBytes.read(this.keyAddressColumn[id] as number, this.keyLengthColumn[id] as number);
  }

  /** The length in bytes of the key of `id`. */
  keyLength(id: KeyId): number {
    return this.keyLengthColumn[id] as number;
  }

  compareKey(id: KeyId, key: string): number {
    return this.keyBytes.compare(
      this.keyAddressColumn[id] as number,
      this.keyLengthColumn[id] as number,
      key,
    );
  }

  keyEquals(id: KeyId, key: string): boolean {
    return this.keyBytes.equals(this.keyAddressColumn[id] as number, this.keyLengthColumn[id] as number, key);
  }

  /**
   * Adds `key` (not present) without records; `last` when it is greater than every key present (a
   * snapshot being decoded builds its table this way).
   */
  create(key: string, last = false): KeyId {
    const id = this.freeIds.pop() ?? this.idCount;
    if (id === this.idCount) {
      this.idCount++;
      if (id === this.countColumn.length) this.growColumns();
    }
    this.keyAddressColumn[id] = this.keyBytes.store(key);
    this.keyLengthColumn[id] = key.length;
    this.placeRecords(id, 0);
    this.countColumn[id] = 0;
    if (last) this.index.appendLast(id, key);
    else this.index.insert(id, key);
    return id;
  }

  /** Removes a key and its records; its id is free for reuse. */
  remove(id: KeyId): void {
    assert(this.holds(id), 'key table: removed a free id');
    const removed = this.index.remove(this.key(id));
    assert(removed === id, 'key table: the index held another id for the key');
    this.freeRecords(id);
    this.keyBytes.release(this.keyAddressColumn[id] as number, this.keyLengthColumn[id] as number);
    this.keyLengthColumn[id] = FREE_ID;
    this.freeIds.push(id);
  }

  /** True while `id` is a stored key (not freed since). */
  holds(id: KeyId): boolean {
    return id >= 0 && id < this.idCount && this.keyLengthColumn[id] !== FREE_ID;
  }

  private growColumns(): void {
    const capacity = this.countColumn.length * 2;
    const grown = <T extends Float64Array | Int32Array | Uint8Array>(
      column: T,
      make: (length: number) => T,
    ): T => {
      const larger = make(capacity);
      larger.set(column);
      return larger;
    };
    this.keyAddressColumn = grown(this.keyAddressColumn, (length) => new Float64Array(length));
    this.keyLengthColumn = grown(this.keyLengthColumn, (length) => new Int32Array(length));
    this.chunkColumn = grown(this.chunkColumn, (length) => new Int32Array(length));
    this.firstSlotColumn = grown(this.firstSlotColumn, (length) => new Int32Array(length));
    this.classColumn = grown(this.classColumn, (length) => new Uint8Array(length));
    this.countColumn = grown(this.countColumn, (length) => new Int32Array(length));
  }

  /** Gives `id` a fresh extent of `recordClass` (its records, if any, copied by the caller). */
  private placeRecords(id: KeyId, recordClass: number): void {
    const extent = this.pool.allocate(recordClass);
    this.chunkColumn[id] = chunkOf(extent);
    this.firstSlotColumn[id] = firstSlotOf(extent);
    this.classColumn[id] = recordClass;
  }

  private freeRecords(id: KeyId): void {
    const extent = extentAt(this.chunkColumn[id] as number, this.firstSlotColumn[id] as number);
    this.pool.free(extent, this.classColumn[id] as number);
  }

  /** Moves `count` records of `id` from position `from` on to a fresh extent of `recordClass`. */
  private moveRecords(id: KeyId, from: number, count: number, recordClass: number): void {
    const oldChunk = this.chunkColumn[id] as number;
    const oldFirstSlot = this.firstSlotColumn[id] as number;
    const oldClass = this.classColumn[id] as number;
    const source = this.pool.chunks[oldChunk] as Float64Array;
    const sourceSlot = oldFirstSlot + from * RECORD_SLOTS;
    this.placeRecords(id, recordClass);
    const target = this.pool.chunks[this.chunkColumn[id] as number] as Float64Array;
    target.set(source.subarray(sourceSlot, sourceSlot + count * RECORD_SLOTS), this.firstSlotColumn[id]);
    // Freed only now: a free extent's first slots link it into the pool's free lists.
    this.pool.free(extentAt(oldChunk, oldFirstSlot), oldClass);
  }

  recordCount(id: KeyId): number {
    return this.countColumn[id] as number;
  }

  /** Field `field` (0..`NUMBER_SLOTS`-1: mod, sub, create revision, version, lease) of a record. */
  fieldAt(id: KeyId, position: number, field: number): number {
    const chunk = this.pool.chunks[this.chunkColumn[id] as number] as Float64Array;
    return chunk[(this.firstSlotColumn[id] as number) + position * RECORD_SLOTS + field] as number;
  }

  private setFieldAt(id: KeyId, position: number, field: number, value: number): void {
    const chunk = this.pool.chunks[this.chunkColumn[id] as number] as Float64Array;
    chunk[(this.firstSlotColumn[id] as number) + position * RECORD_SLOTS + field] = value;
  }

  modRevisionAt(id: KeyId, position: number): number {
    return this.fieldAt(id, position, MOD_REVISION);
  }

  subRevisionAt(id: KeyId, position: number): number {
    return this.fieldAt(id, position, SUB_REVISION);
  }

  isTombstoneAt(id: KeyId, position: number): boolean {
    return this.fieldAt(id, position, VALUE_LENGTH) === TOMBSTONE_LENGTH;
  }

  /** The value's length in bytes of record `position`; `TOMBSTONE_LENGTH` for a tombstone. */
  valueLengthAt(id: KeyId, position: number): number {
    return this.fieldAt(id, position, VALUE_LENGTH);
  }

  valueAddressAt(id: KeyId, position: number): ValueAddress {
    return this.fieldAt(id, position, VALUE_ADDRESS);
  }

  /** Points record `position` at its value's new address (the arena moved it). */
  setValueAddressAt(id: KeyId, position: number, address: ValueAddress): void {
    this.setFieldAt(id, position, VALUE_ADDRESS, address);
  }

  /** The value of record `position` as a view of `values`; null for a tombstone. */
  valueAt(id: KeyId, position: number, values: ValueArena): Uint8Array | null {
    const length = this.valueLengthAt(id, position);
    return length === TOMBSTONE_LENGTH ? null : values.view(this.valueAddressAt(id, position), length);
  }

  /**
   * Record `position` of `id` as an object, its value a view of `values`; `key` is the key of
   * `id` when the caller has it as a string already (else one is made).
   */
  recordAt(id: KeyId, position: number, values: ValueArena, key: string = this.key(id)): KeyRecord {
    const chunk = this.pool.chunks[this.chunkColumn[id] as number] as Float64Array;
    const base = (this.firstSlotColumn[id] as number) + position * RECORD_SLOTS;
    const length = chunk[base + VALUE_LENGTH] as number;
    return {
      key,
      modRevision: chunk[base + MOD_REVISION] as number,
      subRevision: chunk[base + SUB_REVISION] as number,
      createRevision: chunk[base + CREATE_REVISION] as number,
      version: chunk[base + VERSION] as number,
      lease: chunk[base + LEASE] as number,
      value: length === TOMBSTONE_LENGTH ? null : values.view(chunk[base + VALUE_ADDRESS] as number, length),
    };
  }

  /** Position of the newest record at or below `revision`, or -1 when every record is newer. */
  positionAtOrBelow(id: KeyId, revision: number): number {
    const count = this.recordCount(id);
    if (count > 0 && this.modRevisionAt(id, count - 1) <= revision) return count - 1;
    let low = 0;
    let high = count;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.modRevisionAt(id, middle) <= revision) low = middle + 1;
      else high = middle;
    }
    return low - 1;
  }

  /** Appends a record (its revision above every record's there) whose value is at `address`. */
  append(id: KeyId, numbers: RecordNumbers, address: ValueAddress, length: number): void {
    const count = this.recordCount(id);
    const recordClass = this.classColumn[id] as number;
    if (count === 2 ** recordClass) this.moveRecords(id, 0, count, recordClass + 1);
    const chunk = this.pool.chunks[this.chunkColumn[id] as number] as Float64Array;
    const base = (this.firstSlotColumn[id] as number) + count * RECORD_SLOTS;
    chunk[base + MOD_REVISION] = numbers.modRevision;
    chunk[base + SUB_REVISION] = numbers.subRevision;
    chunk[base + CREATE_REVISION] = numbers.createRevision;
    chunk[base + VERSION] = numbers.version;
    chunk[base + LEASE] = numbers.lease;
    chunk[base + VALUE_ADDRESS] = address;
    chunk[base + VALUE_LENGTH] = length;
    this.countColumn[id] = count + 1;
  }

  /** Removes the newest record. */
  removeLast(id: KeyId): void {
    assert(this.recordCount(id) > 0, 'key table: no record to remove');
    this.countColumn[id] = this.recordCount(id) - 1;
  }

  /** Drops the records before `position`, moving the rest to the smallest extent that holds them. */
  dropBefore(id: KeyId, position: number): void {
    const kept = this.recordCount(id) - position;
    assert(position > 0 && kept > 0, 'key table: bad drop');
    const recordClass = classFor(kept);
    if (recordClass < (this.classColumn[id] as number)) this.moveRecords(id, position, kept, recordClass);
    else {
      const chunk = this.pool.chunks[this.chunkColumn[id] as number] as Float64Array;
      const first = this.firstSlotColumn[id] as number;
      chunk.copyWithin(first, first + position * RECORD_SLOTS, first + (position + kept) * RECORD_SLOTS);
    }
    this.countColumn[id] = kept;
  }
}
