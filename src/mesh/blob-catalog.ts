/**
 * The blobs' records in the control plane (docs/BLOBS.md): `blobs/<id>` changed only by
 * compare-and-swap (read, change, write if nobody wrote it since; again on a conflict, at most
 * MAX_BLOB_RECORD_CAS_ATTEMPTS times), and every node's heat row under `blob-heat/`.
 */
import {
  BlobActionFencedError,
  BlobConflictError,
  type BlobHeatRow,
  type BlobId,
  type BlobRecord,
  MAX_BLOB_RECORD_CAS_ATTEMPTS,
  MAX_LISTED_BLOBS,
  readBlobHeatRow,
  readBlobRecord,
} from '../blobs/index.js';
import {
  blobHeatKey,
  blobKey,
  type ControlCompare,
  type ControlPlane,
  encodeRecord,
  KEYSPACE_PREFIXES,
  readRecord,
  unchangedSince,
} from '../control/index.js';
import type { Logger, NodeId } from '../lib/index.js';

/** What a change makes of a record: a new one, `undefined` to delete it, or the same object to leave it. */
export type BlobRecordChange = (current: BlobRecord | undefined) => BlobRecord | undefined;

export class BlobCatalog {
  constructor(
    private readonly plane: ControlPlane,
    private readonly logger?: Logger,
  ) {}

  async get(id: BlobId): Promise<BlobRecord | undefined> {
    const key = blobKey(id);
    const entry = await this.plane.get(key);
    return entry === undefined ? undefined : readRecord(key, entry.value, readBlobRecord);
  }

  /** Every blob record (up to MAX_LISTED_BLOBS), by id; a record that does not decode is logged and skipped. */
  async list(): Promise<BlobRecord[]> {
    const records: BlobRecord[] = [];
    let startAfter: string | undefined;
    let revision: number | undefined;
    while (records.length < MAX_LISTED_BLOBS) {
      const page = await this.plane.range(KEYSPACE_PREFIXES.blobs, {
        limit: MAX_LISTED_BLOBS - records.length,
        ...(revision === undefined ? {} : { revision }),
        ...(startAfter === undefined ? {} : { startAfter }),
      });
      revision = page.revision;
      for (const entry of page.entries) {
        try {
          records.push(readRecord(entry.key, entry.value, readBlobRecord));
        } catch (error) {
          this.logger?.warn({ err: error, key: entry.key }, 'blobs: skipping a record that does not decode');
        }
      }
      startAfter = page.entries.at(-1)?.key;
      if (!page.more || startAfter === undefined) break;
    }
    return records;
  }

  /**
   * Applies `change` to the record by compare-and-swap; answers the record as stored after it
   * (undefined: none). `fence` joins the write (a reconciler's term): when it no longer holds the
   * write is refused with BLOB_ACTION_FENCED. BLOB_CONFLICT when the record changed under every
   * attempt.
   */
  async update(
    id: BlobId,
    change: BlobRecordChange,
    fence: readonly ControlCompare[] = [],
  ): Promise<BlobRecord | undefined> {
    const key = blobKey(id);
    for (let attempt = 1; attempt <= MAX_BLOB_RECORD_CAS_ATTEMPTS; attempt++) {
      const entry = await this.plane.get(key);
      const current = entry === undefined ? undefined : readRecord(key, entry.value, readBlobRecord);
      const next = change(current);
      if (next === current) return current;
      const answer = await this.plane.txn({
        compare: [unchangedSince(key, entry?.modRevision ?? 0), ...fence],
        success: [
          next === undefined ? { type: 'delete', key } : { type: 'put', key, value: encodeRecord(key, next) },
        ],
      });
      if (answer.succeeded) return next;
      // Refused with the record unchanged: the fence no longer holds.
      if (fence.length > 0 && (await this.plane.get(key))?.modRevision === entry?.modRevision)
        throw new BlobActionFencedError(id);
    }
    throw new BlobConflictError(id, MAX_BLOB_RECORD_CAS_ATTEMPTS);
  }

  /** Every node's heat row; one that does not decode is logged and skipped. */
  async heatRows(): Promise<BlobHeatRow[]> {
    const rows: BlobHeatRow[] = [];
    const page = await this.plane.range(KEYSPACE_PREFIXES.blobHeat);
    for (const entry of page.entries) {
      try {
        rows.push(readRecord(entry.key, entry.value, readBlobHeatRow));
      } catch (error) {
        this.logger?.warn({ err: error, key: entry.key }, 'blobs: skipping a heat row that does not decode');
      }
    }
    return rows;
  }

  /** Writes `node`'s heat row under `leaseId` (its registration), so it goes when the node does. */
  async publishHeat(row: BlobHeatRow, leaseId: number): Promise<void> {
    const key = blobHeatKey(row.node);
    await this.plane.put(key, encodeRecord(key, row), { lease: leaseId });
  }

  /** Removes `node`'s heat row (it reads nothing now). */
  async clearHeat(node: NodeId): Promise<void> {
    await this.plane.delete(blobHeatKey(node));
  }
}
