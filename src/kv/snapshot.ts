/**
 * Binary snapshot of the replicated state. Layout: magic "MKVS", format version, applied index,
 * revisions and the next automatic lease id; every key in key order with its records; every lease
 * in id order; the raised alarms (from version 2 on); then a CRC-32 of all preceding bytes. Lease key sets and the change log are rebuilt
 * from the records, so they cannot disagree with them.
 */
import { BinaryReader, BinaryWriter } from '../lib/index.js';
import { crc32 } from './bytes.js';
import { KvCodecError, kvCodecError, SnapshotCorruptError } from './errors.js';
import type { KeyEntry, KeyRecord } from './mvcc.js';
import { OrderedIndex } from './ordered-index.js';
import type { AlarmMember, AlarmType, LeaseStatus } from './types.js';

const MAGIC = [0x4d, 0x4b, 0x56, 0x53];
export const KV_SNAPSHOT_VERSION = 2;
/** The version before alarms were kept; still read, as having no alarms. */
const KV_SNAPSHOT_VERSION_WITHOUT_ALARMS = 1;
/** Alarm types by their number in the snapshot. */
const ALARM_TYPES: readonly AlarmType[] = ['NOSPACE'];
const CHECKSUM_BYTES = 4;
/** Smallest encoding of one record: five varints and a flag byte. */
const MIN_RECORD_BYTES = 6;

export interface LeaseEntry {
  readonly id: number;
  readonly ttlSeconds: number;
  readonly keys: Set<string>;
}

export interface SnapshotContents {
  readonly appliedIndex: number;
  readonly currentRevision: number;
  readonly compactRevision: number;
  readonly nextLeaseId: number;
  /** Visits every key entry in key order. */
  readonly forEachEntry: (visit: (entry: KeyEntry) => void) => void;
  readonly indexedKeyCount: number;
  readonly leases: readonly LeaseStatus[];
  readonly alarms: readonly AlarmMember[];
}

export interface DecodedSnapshot {
  readonly appliedIndex: number;
  readonly currentRevision: number;
  readonly compactRevision: number;
  readonly nextLeaseId: number;
  readonly index: OrderedIndex<KeyEntry>;
  readonly changeLog: KeyRecord[];
  readonly leases: Map<number, LeaseEntry>;
  readonly alarms: readonly AlarmMember[];
}

/** Upper bound of one record's fixed fields: five varints of at most 8 bytes and a flag. */
const MAX_RECORD_FIXED_BYTES = 41;

export function encodeSnapshot(contents: SnapshotContents): Uint8Array {
  // Size the buffer once, so a large snapshot is written without regrowing or copying.
  let capacityBytes = 128;
  contents.forEachEntry((entry) => {
    capacityBytes += entry.key.length + 16;
    for (const record of entry.records)
      capacityBytes += MAX_RECORD_FIXED_BYTES + 8 + (record.value?.length ?? 0);
  });
  capacityBytes += contents.leases.length * 16 + contents.alarms.length * 10;
  const writer = new BinaryWriter(capacityBytes + CHECKSUM_BYTES);
  for (const byte of MAGIC) writer.byte(byte);
  writer
    .byte(KV_SNAPSHOT_VERSION)
    .varuint(contents.appliedIndex)
    .varuint(contents.currentRevision)
    .varuint(contents.compactRevision)
    .varuint(contents.nextLeaseId)
    .varuint(contents.indexedKeyCount);
  contents.forEachEntry((entry) => {
    writer.binary(entry.key).varuint(entry.records.length);
    for (const record of entry.records) {
      writer
        .varuint(record.modRevision)
        .varuint(record.subRevision)
        .varuint(record.createRevision)
        .varuint(record.version)
        .varuint(record.lease)
        .byte(record.value === null ? 0 : 1);
      if (record.value !== null) writer.binary(record.value);
    }
  });
  writer.varuint(contents.leases.length);
  for (const lease of contents.leases) writer.varuint(lease.id).varuint(lease.ttlSeconds);
  writer.varuint(contents.alarms.length);
  for (const member of contents.alarms)
    writer.varuint(member.memberId).byte(ALARM_TYPES.indexOf(member.alarm));
  writer.uint32(crc32(writer.view()));
  return writer.view();
}

export function decodeSnapshot(bytes: Uint8Array): DecodedSnapshot {
  if (bytes.length < MAGIC.length + 1 + CHECKSUM_BYTES) throw new SnapshotCorruptError('too short');
  const body = bytes.subarray(0, bytes.length - CHECKSUM_BYTES);
  const stored = new BinaryReader(
    bytes.subarray(bytes.length - CHECKSUM_BYTES),
    'snapshot',
    kvCodecError,
  ).uint32();
  if (crc32(body) !== stored) throw new SnapshotCorruptError('checksum mismatch');
  try {
    return readBody(body);
  } catch (error) {
    if (error instanceof KvCodecError) throw new SnapshotCorruptError(String(error.details.problem));
    throw error;
  }
}

function readBody(body: Uint8Array): DecodedSnapshot {
  const reader = new BinaryReader(body, 'snapshot', kvCodecError);
  for (const expected of MAGIC) if (reader.byte() !== expected) throw new SnapshotCorruptError('bad magic');
  const version = reader.byte();
  if (version !== KV_SNAPSHOT_VERSION && version !== KV_SNAPSHOT_VERSION_WITHOUT_ALARMS)
    throw new SnapshotCorruptError(`unsupported version ${version}`);
  const appliedIndex = reader.varuint();
  const currentRevision = reader.varuint();
  const compactRevision = reader.varuint();
  const nextLeaseId = reader.varuint();
  if (currentRevision < 1 || compactRevision > currentRevision)
    throw new SnapshotCorruptError('bad revisions');
  const keyCount = reader.count(2);
  const entries: KeyEntry[] = [];
  const changeLog: KeyRecord[] = [];
  let previousKey: string | undefined;
  for (let keyIndex = 0; keyIndex < keyCount; keyIndex++) {
    const key = reader.binary();
    if (previousKey !== undefined && key <= previousKey) throw new SnapshotCorruptError('keys out of order');
    previousKey = key;
    const recordCount = reader.count(MIN_RECORD_BYTES);
    if (recordCount === 0) throw new SnapshotCorruptError('key without records');
    const records: KeyRecord[] = [];
    for (let recordIndex = 0; recordIndex < recordCount; recordIndex++) {
      const modRevision = reader.varuint();
      const subRevision = reader.varuint();
      const createRevision = reader.varuint();
      const version = reader.varuint();
      const lease = reader.varuint();
      const live = reader.byte();
      if (live > 1) throw new SnapshotCorruptError('bad record flag');
      const value = live === 1 ? reader.binary() : null;
      const last = records.at(-1);
      if (modRevision > currentRevision || (last !== undefined && modRevision <= last.modRevision)) {
        throw new SnapshotCorruptError('record revisions out of order');
      }
      const record: KeyRecord = { key, modRevision, subRevision, createRevision, version, lease, value };
      records.push(record);
      if (modRevision >= compactRevision) changeLog.push(record);
    }
    // Exact-size arrays: most keys hold one record, and a pushed-to array over-reserves.
    entries.push({ key, records: records.length === 1 ? [records[0] as KeyRecord] : records });
  }
  const leaseCount = reader.count(2);
  const leases = new Map<number, LeaseEntry>();
  let previousId = 0;
  for (let leaseIndex = 0; leaseIndex < leaseCount; leaseIndex++) {
    const id = reader.varuint();
    const ttlSeconds = reader.varuint();
    if (id <= previousId) throw new SnapshotCorruptError('leases out of order');
    previousId = id;
    leases.set(id, { id, ttlSeconds, keys: new Set() });
  }
  const alarms = version === KV_SNAPSHOT_VERSION_WITHOUT_ALARMS ? [] : readAlarms(reader);
  reader.end();
  for (const entry of entries) {
    const latest = entry.records.at(-1) as KeyRecord;
    if (latest.value === null || latest.lease === 0) continue;
    const lease = leases.get(latest.lease);
    if (lease === undefined) throw new SnapshotCorruptError(`key attached to unknown lease ${latest.lease}`);
    lease.keys.add(entry.key);
  }
  changeLog.sort(
    (left, right) => left.modRevision - right.modRevision || left.subRevision - right.subRevision,
  );
  return {
    appliedIndex,
    currentRevision,
    compactRevision,
    nextLeaseId,
    index: OrderedIndex.fromSorted(entries),
    changeLog,
    leases,
    alarms,
  };
}

function readAlarms(reader: BinaryReader): AlarmMember[] {
  const count = reader.count(2);
  const alarms: AlarmMember[] = [];
  for (let position = 0; position < count; position++) {
    const memberId = reader.varuint();
    const alarm = ALARM_TYPES[reader.byte()];
    if (alarm === undefined) throw new SnapshotCorruptError('unknown alarm type');
    alarms.push({ memberId, alarm });
  }
  return alarms;
}
