/**
 * The record that starts a fork group's inbound chain (docs/DAEMONS.md "Fork groups"): the
 * parent's name, the fork point (the parent's inbound offset below which its events are in the
 * state), the fork's first epoch, and the parent's member snapshot at the fork point (its
 * daemon state and dedup table, `member-snapshot.ts`). Its first byte tells it from an inbound
 * event record (whose version byte is 1), so a member reading its chain knows which it holds.
 * Decoding is strict (`DAEMON_RECORD_INVALID`).
 */
import { MAX_CHAIN_RECORD_BYTES } from '../chains/index.js';
import { BinaryReader, BinaryWriter } from '../lib/index.js';
import { MAX_DAEMON_NAME_CHARACTERS } from './cluster-limits.js';
import { DaemonRecordDecodeError } from './errors.js';
import { decodeMemberSnapshot, encodeMemberSnapshot } from './member-snapshot.js';
import type { DaemonForkPoint } from './types.js';

/** The first byte of a fork record; an inbound event record starts with its version, 1. */
export const FORK_RECORD_MARK = 0xf1;
/** What a fork record adds to the snapshot it carries: mark, name (3 bytes a character), varints. */
export const MAX_FORK_RECORD_HEADER_BYTES = 1 + 8 + 3 * MAX_DAEMON_NAME_CHARACTERS + 3 * 8;
/** The largest parent member snapshot a fork can start from: the record must fit one chain record. */
export const MAX_FORK_SNAPSHOT_BYTES = MAX_CHAIN_RECORD_BYTES - MAX_FORK_RECORD_HEADER_BYTES;

export interface ForkRecord extends DaemonForkPoint {
  /** The fork's first epoch: the epoch rule starts there on the fork's chain. */
  readonly epoch: number;
  /** The parent's member snapshot at the fork point (`encodeMemberSnapshot`). */
  readonly snapshot: Uint8Array;
}

export function isForkRecord(bytes: Uint8Array): boolean {
  return bytes[0] === FORK_RECORD_MARK;
}

/** The record's bytes; the snapshot must be at most `MAX_FORK_SNAPSHOT_BYTES` (checked at deploy). */
export function encodeForkRecord(record: ForkRecord): Uint8Array {
  return new BinaryWriter(record.snapshot.length + MAX_FORK_RECORD_HEADER_BYTES)
    .byte(FORK_RECORD_MARK)
    .text(record.parent)
    .varuint(record.inboundOffset)
    .varuint(record.epoch)
    .bytes(record.snapshot)
    .finish();
}

export function decodeForkRecord(bytes: Uint8Array): ForkRecord {
  const reader = new BinaryReader(
    bytes,
    'fork record',
    (subject, problem) => new DaemonRecordDecodeError(subject, problem),
  );
  const mark = reader.byte();
  if (mark !== FORK_RECORD_MARK) reader.fail(`unknown mark ${mark}`);
  const parent = reader.text(MAX_DAEMON_NAME_CHARACTERS);
  const inboundOffset = reader.varuint();
  const epoch = reader.varuint();
  const snapshot = reader.bytesCopy(MAX_FORK_SNAPSHOT_BYTES);
  reader.end();
  return { parent, inboundOffset, epoch, snapshot };
}

/**
 * The fork record's snapshot as the fork's member restores it: the parent's state and dedup
 * table, applied through `throughOffset` of the fork's own chain (the offset after the record).
 */
export function forkMemberSnapshot(record: ForkRecord, throughOffset: number): Uint8Array {
  const parent = decodeMemberSnapshot(record.snapshot);
  return encodeMemberSnapshot({ ...parent, appliedThrough: throughOffset });
}
