/**
 * Retention of the audit chain: past the kept count, a write also deletes the oldest records
 * (at most AUDIT_TRIM_RECORDS_PER_WRITE, so trimming keeps up with appending) and moves the
 * anchor to the last one deleted, so verify still starts from a known hash.
 */
import {
  AUDIT_ANCHOR_KEY,
  auditKey,
  type ControlCompare,
  type ControlPlane,
  type ControlTxnOp,
  encodeRecord,
  unchangedSince,
} from '../control/index.js';
import { AUDIT_TRIM_RECORDS_PER_WRITE } from './audit-limits.js';
import {
  AUDIT_GENESIS_HASH,
  type AuditAnchor,
  decodeAuditRecord,
  decodedOrUndefined,
} from './audit-record.js';

/** What a write adds to trim: compares, operations, and the anchor after it (undefined: no trim). */
export interface AuditTrim {
  readonly compare: readonly ControlCompare[];
  readonly ops: readonly ControlTxnOp[];
  readonly anchor: AuditAnchor | undefined;
}

const NO_TRIM: AuditTrim = { compare: [], ops: [], anchor: undefined };

/** The trim of a write whose last record is `lastSeq`, given the anchor and the kept count. */
export async function planAuditTrim(
  plane: ControlPlane,
  anchor: AuditAnchor,
  lastSeq: number,
  retainedRecords: number,
): Promise<AuditTrim> {
  const excess = lastSeq - anchor.seq - retainedRecords;
  if (excess <= 0) return NO_TRIM;
  const lastTrimmed = anchor.seq + Math.min(excess, AUDIT_TRIM_RECORDS_PER_WRITE);
  // The first record kept names the last trimmed one's hash: that is the new anchor's. One that
  // is missing or no record (tampered with) anchors to the genesis, so verify reports the break.
  const firstKeptKey = auditKey(lastTrimmed + 1);
  const firstKept = await plane.get(firstKeptKey);
  const link =
    firstKept === undefined
      ? undefined
      : decodedOrUndefined(() => decodeAuditRecord(firstKeptKey, firstKept.value).prev);
  const next = { seq: lastTrimmed, hash: link ?? AUDIT_GENESIS_HASH };
  const ops: ControlTxnOp[] = [];
  for (let seq = anchor.seq + 1; seq <= lastTrimmed; seq++) ops.push({ type: 'delete', key: auditKey(seq) });
  ops.push({ type: 'put', key: AUDIT_ANCHOR_KEY, value: encodeRecord(AUDIT_ANCHOR_KEY, next) });
  // The anchor copied the first kept record's link: the write holds only if that record is unchanged.
  return { compare: [unchangedSince(firstKeptKey, firstKept?.modRevision ?? 0)], ops, anchor: next };
}
