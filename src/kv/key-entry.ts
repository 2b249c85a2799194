/**
 * One key's history, packed. A key keeps one record per change (a delete being a tombstone), and a
 * store keeps many: one object per record cost 80 bytes plus a list slot (64-bit V8), and one
 * string per value was one more object per record for every full garbage collection to mark. So
 * the records live as consecutive runs of `RECORD_SLOTS` small-integer slots in one array per key
 * (56 bytes per record), and the values' bytes in the store's `ValueArena`, found by address and
 * length. `KeyRecord` objects are made only for what a reader asks for.
 */
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

/** A record's numbers: everything but its key (the entry has it) and its value. */
export type RecordNumbers = Omit<KeyRecord, 'key' | 'value'>;

/** Slots per record, in this order: */
export const RECORD_SLOTS = 7;
const MOD_REVISION = 0;
const SUB_REVISION = 1;
const CREATE_REVISION = 2;
const VERSION = 3;
const LEASE = 4;
const VALUE_ADDRESS = 5;
/** The value's length in bytes; `TOMBSTONE_LENGTH` for a tombstone. */
const VALUE_LENGTH = 6;
/** The fields the snapshot writes as numbers, in its order (see snapshot.ts). */
export const NUMBER_SLOTS = 5;

/** The value length slot of a tombstone (a delete has no value). */
export const TOMBSTONE_LENGTH = -1;

export interface KeyEntry {
  readonly key: string;
  /**
   * The records in revision order, `RECORD_SLOTS` slots each. Replaced rather than grown while
   * short: V8 reserves 16 spare slots whenever an array grows.
   */
  slots: number[];
}

/** Records shorter than this many are copied to exact size on append instead of pushed to. */
const EXACT_RECORD_LIST_LENGTH = 8;

/** An entry of `key` with the given slots (`RECORD_SLOTS` per record, in revision order). */
export function newKeyEntry(key: string, slots: number[] = []): KeyEntry {
  return { key, slots };
}

/** Writes one record's slots at `at` of `slots`. */
export function writeRecordSlots(
  slots: number[],
  at: number,
  numbers: RecordNumbers,
  address: ValueAddress,
  length: number,
): void {
  slots[at + MOD_REVISION] = numbers.modRevision;
  slots[at + SUB_REVISION] = numbers.subRevision;
  slots[at + CREATE_REVISION] = numbers.createRevision;
  slots[at + VERSION] = numbers.version;
  slots[at + LEASE] = numbers.lease;
  slots[at + VALUE_ADDRESS] = address;
  slots[at + VALUE_LENGTH] = length;
}

export function recordCount(entry: KeyEntry): number {
  return entry.slots.length / RECORD_SLOTS;
}

export function modRevisionAt(entry: KeyEntry, position: number): number {
  return entry.slots[position * RECORD_SLOTS + MOD_REVISION] as number;
}

export function subRevisionAt(entry: KeyEntry, position: number): number {
  return entry.slots[position * RECORD_SLOTS + SUB_REVISION] as number;
}

export function isTombstoneAt(entry: KeyEntry, position: number): boolean {
  return (entry.slots[position * RECORD_SLOTS + VALUE_LENGTH] as number) === TOMBSTONE_LENGTH;
}

/** The value's length in bytes of record `position`; `TOMBSTONE_LENGTH` for a tombstone. */
export function valueLengthAt(entry: KeyEntry, position: number): number {
  return entry.slots[position * RECORD_SLOTS + VALUE_LENGTH] as number;
}

export function valueAddressAt(entry: KeyEntry, position: number): ValueAddress {
  return entry.slots[position * RECORD_SLOTS + VALUE_ADDRESS] as number;
}

/** Points record `position` at its value's new address (the arena moved it). */
export function setValueAddressAt(entry: KeyEntry, position: number, address: ValueAddress): void {
  entry.slots[position * RECORD_SLOTS + VALUE_ADDRESS] = address;
}

/** The value of record `position` as a view of `values`; null for a tombstone. */
export function valueAt(entry: KeyEntry, position: number, values: ValueArena): Uint8Array | null {
  const length = valueLengthAt(entry, position);
  return length === TOMBSTONE_LENGTH ? null : values.view(valueAddressAt(entry, position), length);
}

/** Record `position` of `entry` as an object, its value a view of `values`. */
export function recordAt(entry: KeyEntry, position: number, values: ValueArena): KeyRecord {
  const slots = entry.slots;
  const base = position * RECORD_SLOTS;
  return {
    key: entry.key,
    modRevision: slots[base + MOD_REVISION] as number,
    subRevision: slots[base + SUB_REVISION] as number,
    createRevision: slots[base + CREATE_REVISION] as number,
    version: slots[base + VERSION] as number,
    lease: slots[base + LEASE] as number,
    value: valueAt(entry, position, values),
  };
}

/** Position of the newest record at or below `revision`, or -1 when every record is newer. */
export function positionAtOrBelow(entry: KeyEntry, revision: number): number {
  const count = recordCount(entry);
  if (count > 0 && modRevisionAt(entry, count - 1) <= revision) return count - 1;
  let low = 0;
  let high = count;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (modRevisionAt(entry, middle) <= revision) low = middle + 1;
    else high = middle;
  }
  return low - 1;
}

/** Appends a record (its revision above every record's there) whose value is at `address`. */
export function appendRecord(
  entry: KeyEntry,
  numbers: RecordNumbers,
  address: ValueAddress,
  length: number,
): void {
  const at = entry.slots.length;
  if (at < EXACT_RECORD_LIST_LENGTH * RECORD_SLOTS) {
    // A fresh array of the exact size: growing one in place would reserve spare slots.
    const slots = new Array<number>(at + RECORD_SLOTS);
    for (let index = 0; index < at; index++) slots[index] = entry.slots[index] as number;
    writeRecordSlots(slots, at, numbers, address, length);
    entry.slots = slots;
  } else {
    entry.slots.push(0, 0, 0, 0, 0, 0, 0);
    writeRecordSlots(entry.slots, at, numbers, address, length);
  }
}

/** Removes the newest record. */
export function removeLastRecord(entry: KeyEntry): void {
  entry.slots.length -= RECORD_SLOTS;
}

/** Drops the records before `position` (leaving an exact-size array). */
export function dropRecordsBefore(entry: KeyEntry, position: number): void {
  entry.slots = entry.slots.slice(position * RECORD_SLOTS);
}
