/**
 * Reads a snapshot file (what `etcdctl snapshot save` and `meshos snapshot save` write: the node
 * snapshot, zero padding to 512-byte pages, its SHA-256; src/protocol/snapshot-file.ts) into a node
 * state machine, for `meshos snapshot status` and `meshos snapshot restore`. Every way the file
 * can be wrong is one typed error, SNAPSHOT_FILE_CORRUPT, naming the problem.
 */
import { type KvHash, SNAPSHOT_STEP_LIMITS } from '../kv/index.js';
import { isMeshError, MeshError, type NodeId, runToEnd } from '../lib/index.js';
import {
  SNAPSHOT_ALIGNMENT_BYTES,
  SNAPSHOT_DIGEST_BYTES,
  sealedSnapshotData,
  sealedSnapshotProblem,
} from '../protocol/index.js';
import { NodeStateMachine, nodeSnapshotByteLength } from './node-state-machine.js';

export class SnapshotFileCorruptError extends MeshError {
  constructor(file: string, problem: string, cause?: unknown) {
    super('SNAPSHOT_FILE_CORRUPT', `snapshot file ${file} is corrupt: ${problem}`, {
      ...(cause === undefined ? {} : { cause }),
      details: { file, problem },
    });
  }
}

export interface OpenSnapshotFileOptions {
  /**
   * Restore without checking the SHA-256, as etcd's `--skip-hash-check` (a file whose digest was
   * lost or never written); the snapshot's own checksums are still checked.
   */
  readonly skipHashCheck?: boolean;
}

/** A snapshot file read and decoded. */
export interface OpenedSnapshotFile {
  readonly file: string;
  readonly fileBytes: number;
  /** False when the SHA-256 was not checked (`skipHashCheck`). */
  readonly hashChecked: boolean;
  /** The state the snapshot holds, restored. */
  readonly machine: NodeStateMachine;
}

/** Checks and decodes the bytes of snapshot file `file` (its name is for messages only). */
export function openSnapshotFile(
  file: string,
  whole: Uint8Array,
  options: OpenSnapshotFileOptions = {},
): OpenedSnapshotFile {
  const skip = options.skipHashCheck === true;
  const problem = skip ? undefined : sealedSnapshotProblem(whole);
  if (problem !== undefined) throw new SnapshotFileCorruptError(file, problem);
  // Without the check, a file that has no digest at its end is taken as data alone.
  const sealed = whole.length % SNAPSHOT_ALIGNMENT_BYTES === SNAPSHOT_DIGEST_BYTES;
  const data = skip && !sealed ? whole : sealedSnapshotData(whole);
  const snapshotBytes = nodeSnapshotByteLength(data);
  if (snapshotBytes === undefined)
    throw new SnapshotFileCorruptError(file, 'it does not start with a MeshOS node snapshot');
  if (snapshotBytes > data.length)
    throw new SnapshotFileCorruptError(file, `it is cut short: ${data.length} of ${snapshotBytes} bytes`);
  const padding = data.subarray(snapshotBytes);
  if ((sealed && padding.length >= SNAPSHOT_ALIGNMENT_BYTES) || padding.some((byte) => byte !== 0)) {
    throw new SnapshotFileCorruptError(file, 'bytes other than padding follow the snapshot');
  }
  const machine = new NodeStateMachine();
  try {
    machine.restore(data.subarray(0, snapshotBytes));
  } catch (error) {
    if (!isMeshError(error)) throw error;
    throw new SnapshotFileCorruptError(file, error.message, error);
  }
  return { file, fileBytes: whole.length, hashChecked: !skip, machine };
}

/** What `meshos snapshot status` prints about a snapshot file. */
export interface SnapshotFileSummary {
  readonly file: string;
  readonly fileBytes: number;
  readonly hashChecked: boolean;
  readonly revision: number;
  readonly compactRevision: number;
  /** Keys with any history in the snapshot (live or deleted since the compact revision). */
  readonly keys: number;
  /** Records (revisions of keys) kept. */
  readonly records: number;
  readonly leases: number;
  /** The Raft index the snapshot was taken at. */
  readonly raftIndex: number;
  /** The members the snapshot's cluster had (a restore replaces them). */
  readonly members: readonly NodeId[];
  /** The HashKV hash at `revision`: compare it with `etcdctl endpoint hashkv --rev REVISION`. */
  readonly hashKv: KvHash['hash'];
}

export function summarizeSnapshotFile(opened: OpenedSnapshotFile): SnapshotFileSummary {
  const kv = opened.machine.kv;
  return {
    file: opened.file,
    fileBytes: opened.fileBytes,
    hashChecked: opened.hashChecked,
    revision: kv.revision,
    compactRevision: kv.compactRevision,
    keys: kv.indexedKeyCount,
    records: kv.storedRecordCount,
    leases: kv.leaseList().length,
    raftIndex: kv.appliedIndex,
    members: opened.machine.members.all().map((member) => member.id),
    hashKv: runToEnd(kv.startHashKv(0, SNAPSHOT_STEP_LIMITS)).hash,
  };
}
