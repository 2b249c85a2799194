/**
 * A member checkpoint: what a member keeps on its node's disk and hands another member (a
 * replacement, a move's target, a warm standby), so that neither replays the inbound chain from
 * its start. It wraps the member snapshot (the applier's envelope: appliedThrough, dedup table,
 * daemon state) with what the member's core needs besides: the highest daemon epoch it saw (the
 * epoch rule reads it) and which deployment of the daemon it belongs to (a daemon removed and
 * deployed again under its name is another one, with other chains).
 *
 * Layout: u32 magic "MDCK", version byte 1, varuint createdAtMs, varuint epochSeen, varuint
 * appliedThrough, the member snapshot (length-prefixed), u32 CRC-32C of every byte before it.
 * Decoding is strict and checks the checksum: a torn file or a damaged transfer is
 * `DAEMON_CHECKPOINT_INVALID`, never restored.
 */
import { BinaryReader, BinaryWriter } from '../lib/index.js';
import { crc32c } from '../store/index.js';
import { DaemonCheckpointInvalidError } from './checkpoint-errors.js';

/** "MDCK" as a big-endian u32. */
const CHECKPOINT_MAGIC = 0x4d44434b;
const CHECKPOINT_VERSION = 1;
const CHECKSUM_BYTES = 4;

/** Largest checkpoint a member keeps or takes from a peer; a larger state is replayed from the chain. */
export const MAX_MEMBER_CHECKPOINT_BYTES = 512 * 1024 * 1024;

export interface MemberCheckpoint {
  /** The deployment it belongs to: the definition's `createdAtMs`. */
  readonly createdAtMs: number;
  /** The highest daemon epoch of the records applied (the epoch rule goes on from it). */
  readonly epochSeen: number;
  /** Inbound offset below which every record is reflected: the tail is replayed from here. */
  readonly appliedThrough: number;
  /** The applier's member snapshot (`ExactlyOnceApplier.snapshot`). */
  readonly snapshot: Uint8Array;
}

export function encodeMemberCheckpoint(checkpoint: MemberCheckpoint): Uint8Array {
  const writer = new BinaryWriter(checkpoint.snapshot.length + 40)
    .uint32(CHECKPOINT_MAGIC)
    .byte(CHECKPOINT_VERSION)
    .varuint(checkpoint.createdAtMs)
    .varuint(checkpoint.epochSeen)
    .varuint(checkpoint.appliedThrough)
    .bytes(checkpoint.snapshot);
  return writer.uint32(crc32c(writer.view()) >>> 0).finish();
}

function checkpointError(subject: string, problem: string): DaemonCheckpointInvalidError {
  return new DaemonCheckpointInvalidError(subject, problem);
}

/** The checkpoint in `bytes` (`subject` names where they came from, for the error). */
export function decodeMemberCheckpoint(bytes: Uint8Array, subject = 'member checkpoint'): MemberCheckpoint {
  if (bytes.length > MAX_MEMBER_CHECKPOINT_BYTES)
    throw checkpointError(
      subject,
      `${bytes.length} bytes, above the limit of ${MAX_MEMBER_CHECKPOINT_BYTES}`,
    );
  if (bytes.length < CHECKSUM_BYTES) throw checkpointError(subject, `only ${bytes.length} bytes`);
  const bodyBytes = bytes.length - CHECKSUM_BYTES;
  const stored = new BinaryReader(bytes.subarray(bodyBytes), subject, checkpointError).uint32();
  if (crc32c(bytes, 0, 0, bodyBytes) >>> 0 !== stored) throw checkpointError(subject, 'checksum mismatch');
  const reader = new BinaryReader(bytes.subarray(0, bodyBytes), subject, checkpointError);
  if (reader.uint32() !== CHECKPOINT_MAGIC) reader.fail('bad magic');
  const version = reader.byte();
  if (version !== CHECKPOINT_VERSION) reader.fail(`unknown version ${version}`);
  const createdAtMs = reader.varuint();
  const epochSeen = reader.varuint();
  const appliedThrough = reader.varuint();
  const snapshot = reader.bytesCopy();
  reader.end();
  return { createdAtMs, epochSeen, appliedThrough, snapshot };
}
