/**
 * The hash Maintenance.HashKV answers: a CRC-32 over the key-value history as of one revision,
 * equal on every member that applied the same commands, however each one lays its records out in
 * memory and however far it got dropping compacted history.
 *
 * Definition (version 1). For revision R and compact revision C (the view's), walk the keys in
 * byte order; for each key, its records with mod revision <= R that compaction at C keeps: every
 * record above C, and the key's latest record at or below C unless that is a tombstone older than
 * C (what `MvccStore.dropBefore` keeps). Each such record adds, in order: the key (varint length,
 * bytes), mod revision, sub-revision, create revision, version, lease (varints), then 0 for a
 * tombstone or 1, the value's varint length and its bytes. The hash is the CRC-32 (IEEE) of that
 * byte sequence. Like the snapshot encoder it runs a bounded step at a time over a `StoreView`, so a
 * member hashing a million keys goes on serving meanwhile, and applies between steps change nothing.
 */
import { assert, BinaryWriter, type SteppedTask } from '../lib/index.js';
import { crc32 } from './bytes.js';
import type { KeyId, KeyTable } from './key-table.js';
import type { StoreView } from './mvcc.js';
import { SNAPSHOT_STEP_LIMITS, type SnapshotStepLimits } from './snapshot.js';

/** What HashKV answers. */
export interface KvHash {
  /** CRC-32 of the history (see the definition above), as an unsigned 32-bit number. */
  readonly hash: number;
  /** The revision hashed up to. */
  readonly revision: number;
  /** The compact revision the history was taken at. */
  readonly compactRevision: number;
}

/** Upper bound of one record's fixed fields: six varints of at most 8 bytes, a flag and a length. */
const MAX_RECORD_FIXED_BYTES = 58;

/** Position of the first record of key `id` that compaction at `compactRevision` keeps. */
function firstKeptPosition(keys: KeyTable, id: KeyId, compactRevision: number): number {
  if (compactRevision === 0) return 0;
  const atOrBelow = keys.positionAtOrBelow(id, compactRevision);
  if (atOrBelow < 0) return 0;
  const olderTombstone =
    keys.isTombstoneAt(id, atOrBelow) && keys.modRevisionAt(id, atOrBelow) < compactRevision;
  return olderTombstone ? atOrBelow + 1 : atOrBelow;
}

/** Hashes a view's history up to `revision` a step at a time; closes the view when done or cancelled. */
export class KvHasher implements SteppedTask<KvHash> {
  private checksum = 0;
  private nextKey: string | undefined = '';
  private done = false;

  constructor(
    private readonly view: StoreView,
    private readonly revision: number,
    private readonly limits: SnapshotStepLimits = SNAPSHOT_STEP_LIMITS,
  ) {
    assert(
      revision <= view.revision && revision >= view.compactRevision,
      'hash revision must lie between the compact and the current revision',
    );
  }

  step(): boolean {
    if (this.done) return true;
    const start = this.nextKey;
    if (start === undefined) {
      this.close();
      return true;
    }
    this.hashKeys(start);
    return false;
  }

  /** Hashes up to the step's limit of keys (or bytes) from `start` on. */
  private hashKeys(start: string): void {
    const { keys, values, compactRevision } = this.view;
    const batch: KeyId[] = [];
    let capacityBytes = 0;
    this.nextKey = undefined;
    this.view.scanFrom(start, (id) => {
      if (batch.length >= this.limits.keys || capacityBytes >= this.limits.bytes) {
        this.nextKey = keys.key(id);
        return false;
      }
      batch.push(id);
      for (let position = 0; position < keys.recordCount(id); position++) {
        capacityBytes +=
          MAX_RECORD_FIXED_BYTES + keys.keyLength(id) + Math.max(0, keys.valueLengthAt(id, position));
      }
      return true;
    });
    const writer = new BinaryWriter(Math.max(capacityBytes, 1));
    for (const id of batch) {
      const end = keys.positionAtOrBelow(id, this.revision) + 1;
      for (let position = firstKeptPosition(keys, id, compactRevision); position < end; position++) {
        const record = keys.recordAt(id, position, values);
        writer
          .binary(record.key)
          .varuint(record.modRevision)
          .varuint(record.subRevision)
          .varuint(record.createRevision)
          .varuint(record.version)
          .varuint(record.lease);
        if (record.value === null) writer.byte(0);
        else writer.byte(1).bytes(record.value);
      }
    }
    if (writer.size > 0) this.checksum = crc32(writer.view(), this.checksum);
  }

  private close(): void {
    this.done = true;
    this.view.close();
  }

  result(): KvHash {
    assert(this.done, 'hash read before it was computed');
    return { hash: this.checksum >>> 0, revision: this.revision, compactRevision: this.view.compactRevision };
  }

  cancel(): void {
    if (!this.done) this.close();
  }
}
