/**
 * A member's snapshot: the envelope around its daemon's own snapshot that makes exactly-once
 * survive a failover or a move. Version byte 1, `appliedThrough` (the inbound offset below
 * which every event is reflected), the dedup table (`DedupTable.encode`), then the daemon's
 * state bytes. Decoding is strict; bad bytes fail with `DAEMON_STATE_INVALID`.
 */
import { BinaryReader, BinaryWriter } from '../lib/index.js';
import { DEFAULT_DEDUP_LIMITS, type DedupLimits, DedupTable } from './dedup-table.js';
import { DaemonStateInvalidError } from './errors.js';

const MEMBER_SNAPSHOT_VERSION = 1;

export interface MemberSnapshot {
  readonly appliedThrough: number;
  readonly dedup: DedupTable;
  /** The daemon's `snapshot()`. */
  readonly state: Uint8Array;
}

export function encodeMemberSnapshot(snapshot: MemberSnapshot): Uint8Array {
  const writer = new BinaryWriter(snapshot.state.length + 64);
  writer.byte(MEMBER_SNAPSHOT_VERSION).varuint(snapshot.appliedThrough);
  snapshot.dedup.encode(writer);
  writer.bytes(snapshot.state);
  return writer.finish();
}

function stateError(subject: string, problem: string): DaemonStateInvalidError {
  return new DaemonStateInvalidError(subject, problem);
}

export function decodeMemberSnapshot(
  bytes: Uint8Array,
  limits: DedupLimits = DEFAULT_DEDUP_LIMITS,
): MemberSnapshot {
  const reader = new BinaryReader(bytes, 'member snapshot', stateError);
  const version = reader.byte();
  if (version !== MEMBER_SNAPSHOT_VERSION) reader.fail(`unknown version ${version}`);
  const appliedThrough = reader.varuint();
  const dedup = DedupTable.decode(reader, limits);
  const state = reader.bytesCopy();
  reader.end();
  return { appliedThrough, dedup, state };
}
