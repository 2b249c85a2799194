/**
 * One key's history, packed. A key keeps one record per change (a delete being a tombstone), and a
 * store keeps many: one object per record cost 80 bytes plus a list slot (64-bit V8), so the
 * records live as consecutive runs of `RECORD_SLOTS` slots in one array per key (48 bytes per
 * record). `KeyRecord` objects are made only for what a reader asks for.
 */

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

/** A record's fields as stored: the four numbers and the lease, then the value (null: tombstone). */
export type RecordSlot = number | string | null;

/** Slots per record, in this order: */
export const RECORD_SLOTS = 6;
const MOD_REVISION = 0;
const SUB_REVISION = 1;
const CREATE_REVISION = 2;
const VERSION = 3;
const LEASE = 4;
const VALUE = 5;

export interface KeyEntry {
  readonly key: string;
  /**
   * The records in revision order, `RECORD_SLOTS` slots each. Replaced rather than grown while
   * short: V8 reserves 16 spare slots whenever an array grows.
   */
  slots: RecordSlot[];
}

/** Records shorter than this many are copied to exact size on append instead of pushed to. */
const EXACT_RECORD_LIST_LENGTH = 8;

/** A record's fields without its key (the entry has it). */
export type RecordFields = Omit<KeyRecord, 'key'>;

function fieldSlots(fields: RecordFields): RecordSlot[] {
  return [
    fields.modRevision,
    fields.subRevision,
    fields.createRevision,
    fields.version,
    fields.lease,
    fields.value,
  ];
}

/** An entry holding exactly the given records, in revision order. */
export function newKeyEntry(key: string, records: readonly RecordFields[]): KeyEntry {
  const slots: RecordSlot[] = new Array(records.length * RECORD_SLOTS);
  let at = 0;
  for (const record of records) {
    slots[at++] = record.modRevision;
    slots[at++] = record.subRevision;
    slots[at++] = record.createRevision;
    slots[at++] = record.version;
    slots[at++] = record.lease;
    slots[at++] = record.value;
  }
  return { key, slots };
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

/** The value of record `position`; null for a tombstone. */
export function valueAt(entry: KeyEntry, position: number): string | null {
  return entry.slots[position * RECORD_SLOTS + VALUE] as string | null;
}

/** Record `position` of `entry` as an object. */
export function recordAt(entry: KeyEntry, position: number): KeyRecord {
  const slots = entry.slots;
  const base = position * RECORD_SLOTS;
  return {
    key: entry.key,
    modRevision: slots[base + MOD_REVISION] as number,
    subRevision: slots[base + SUB_REVISION] as number,
    createRevision: slots[base + CREATE_REVISION] as number,
    version: slots[base + VERSION] as number,
    lease: slots[base + LEASE] as number,
    value: slots[base + VALUE] as string | null,
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

/** Appends a record (its revision above every record's there). */
export function appendRecord(entry: KeyEntry, fields: RecordFields): void {
  const slots = fieldSlots(fields);
  if (entry.slots.length < EXACT_RECORD_LIST_LENGTH * RECORD_SLOTS) {
    entry.slots = entry.slots.concat(slots); // concat allocates the exact size
  } else {
    entry.slots.push(...slots);
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
