/**
 * Reads a snapshot file (what `etcdctl snapshot save` and `meshos snapshot save` write: the node
 * snapshot, zero padding to 512-byte pages, its SHA-256; src/protocol/snapshot-file.ts) into a node
 * state machine, for `meshos snapshot status` and `meshos snapshot restore`. Every way the file
 * can be wrong is one typed error, SNAPSHOT_FILE_CORRUPT, naming the problem.
 */
import { createHash, type Hash } from 'node:crypto';
import { type KvHash, SNAPSHOT_STEP_LIMITS } from '../kv/index.js';
import { type FedTask, isMeshError, MeshError, type NodeId, runToEnd } from '../lib/index.js';
import { SNAPSHOT_ALIGNMENT_BYTES, SNAPSHOT_DIGEST_BYTES } from '../protocol/index.js';
import {
  NODE_SNAPSHOT_HEADER_MAX_BYTES,
  NodeStateMachine,
  nodeSnapshotByteLength,
} from './node-state-machine.js';

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

/**
 * Checks and decodes snapshot file `file` (its name is for messages only) from its bytes in
 * parts of any size, `fileBytes` in all: each part is hashed and handed to the node snapshot's
 * fed restore as it comes, so the file is never held whole (only the decoded state is). A file
 * whose SHA-256 does not match is refused as such even when its snapshot fails to decode first.
 */
export async function openSnapshotFile(
  file: string,
  parts: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  fileBytes: number,
  options: OpenSnapshotFileOptions = {},
): Promise<OpenedSnapshotFile> {
  const reading = new SnapshotFileReading(file, fileBytes, options.skipHashCheck === true);
  for await (const part of parts) reading.push(part);
  return reading.finish();
}

/** One pass over a snapshot file: hashing, splitting snapshot from padding and digest, decoding. */
class SnapshotFileReading {
  private readonly machine = new NodeStateMachine();
  /** With a digest at the end: the bytes before it are data, padding to a 512-byte page. */
  private readonly sealed: boolean;
  private readonly dataBytes: number;
  private readonly hash: Hash | undefined;
  private readonly digest = new Uint8Array(SNAPSHOT_DIGEST_BYTES);
  private position = 0;
  /** The start of the data, until the node snapshot's header says how long the snapshot is. */
  private header = new Uint8Array(0);
  private snapshotBytes: number | undefined;
  private restore: FedTask<void> | undefined;
  /** The first problem the data showed; reported unless the digest shows one first. */
  private problem: { text: string; cause?: unknown } | undefined;

  constructor(
    private readonly file: string,
    private readonly fileBytes: number,
    private readonly skipHashCheck: boolean,
  ) {
    this.sealed = fileBytes % SNAPSHOT_ALIGNMENT_BYTES === SNAPSHOT_DIGEST_BYTES;
    if (!skipHashCheck && !this.sealed) {
      throw new SnapshotFileCorruptError(
        file,
        `its length ${fileBytes} is not ${SNAPSHOT_ALIGNMENT_BYTES}·n + ${SNAPSHOT_DIGEST_BYTES} (no SHA-256 at its end)`,
      );
    }
    // Without the check, a file that has no digest at its end is taken as data alone.
    this.dataBytes = this.sealed ? fileBytes - SNAPSHOT_DIGEST_BYTES : fileBytes;
    this.hash = skipHashCheck ? undefined : createHash('sha256');
  }

  push(part: Uint8Array): void {
    if (part.byteLength > this.fileBytes - this.position) {
      throw new SnapshotFileCorruptError(this.file, `it grew past ${this.fileBytes} bytes while it was read`);
    }
    const dataPart = part.subarray(0, Math.max(0, this.dataBytes - this.position));
    if (dataPart.byteLength > 0) {
      this.hash?.update(dataPart);
      if (this.problem === undefined) this.takeData(dataPart);
    }
    const digestPart = part.subarray(dataPart.byteLength);
    if (digestPart.byteLength > 0)
      this.digest.set(digestPart, this.position + dataPart.byteLength - this.dataBytes);
    this.position += part.byteLength;
  }

  private takeData(part: Uint8Array): void {
    try {
      let rest = part;
      if (this.snapshotBytes === undefined) rest = this.takeHeader(rest);
      const snapshotBytes = this.snapshotBytes;
      if (snapshotBytes === undefined) return;
      const dataAt = this.position + part.byteLength - rest.byteLength;
      const snapshotPart = rest.subarray(0, Math.max(0, snapshotBytes - dataAt));
      if (snapshotPart.byteLength > 0) this.feed(snapshotPart);
      const padding = rest.subarray(snapshotPart.byteLength);
      if (padding.some((byte) => byte !== 0)) this.fail('bytes other than padding follow the snapshot');
    } catch (error) {
      if (!isMeshError(error)) throw error;
      // Kept (the first one only: `fail` keeps its own) and reported once the digest is known.
      this.problem ??= { text: error.message, cause: error };
    }
  }

  /** Gathers the header's bytes; answers the part's bytes after it once the length is known. */
  private takeHeader(part: Uint8Array): Uint8Array {
    const wanted = Math.min(NODE_SNAPSHOT_HEADER_MAX_BYTES, this.dataBytes) - this.header.byteLength;
    const taken = part.subarray(0, wanted);
    const header = new Uint8Array(this.header.byteLength + taken.byteLength);
    header.set(this.header);
    header.set(taken, this.header.byteLength);
    this.header = header;
    if (header.byteLength < Math.min(NODE_SNAPSHOT_HEADER_MAX_BYTES, this.dataBytes))
      return new Uint8Array(0);
    const snapshotBytes = nodeSnapshotByteLength(header);
    if (snapshotBytes === undefined) return this.fail('it does not start with a MeshOS node snapshot');
    if (snapshotBytes > this.dataBytes)
      return this.fail(`it is cut short: ${this.dataBytes} of ${snapshotBytes} bytes`);
    if (this.sealed && this.dataBytes - snapshotBytes >= SNAPSHOT_ALIGNMENT_BYTES)
      return this.fail('bytes other than padding follow the snapshot');
    this.snapshotBytes = snapshotBytes;
    this.restore = this.machine.startRestoreFrom(snapshotBytes);
    // The header's bytes go to the restore too; what it held past the snapshot is padding.
    const inSnapshot = header.subarray(0, snapshotBytes);
    this.feed(inSnapshot);
    if (header.subarray(inSnapshot.byteLength).some((byte) => byte !== 0))
      this.fail('bytes other than padding follow the snapshot');
    return part.subarray(taken.byteLength);
  }

  /** Hands snapshot bytes to the restore, stepping it until it wants more (bounded steps). */
  private feed(part: Uint8Array): void {
    const restore = this.restore as FedTask<void>;
    while (!restore.wantsBytes) restore.step();
    restore.push(part);
  }

  private fail(text: string, cause?: unknown): never {
    this.problem ??= { text, ...(cause === undefined ? {} : { cause }) };
    throw new SnapshotFileCorruptError(this.file, text, cause);
  }

  finish(): OpenedSnapshotFile {
    if (this.position !== this.fileBytes) {
      throw new SnapshotFileCorruptError(
        this.file,
        `it shrank to ${this.position} of ${this.fileBytes} bytes while it was read`,
      );
    }
    if (this.hash !== undefined && !this.hash.digest().equals(this.digest))
      throw new SnapshotFileCorruptError(this.file, 'its SHA-256 digest does not match its data');
    if (this.problem !== undefined)
      throw new SnapshotFileCorruptError(this.file, this.problem.text, this.problem.cause);
    const restore = this.restore;
    if (restore === undefined)
      throw new SnapshotFileCorruptError(this.file, 'it does not start with a MeshOS node snapshot');
    try {
      while (!restore.step()) {}
    } catch (error) {
      if (!isMeshError(error)) throw error;
      throw new SnapshotFileCorruptError(this.file, error.message, error);
    }
    return {
      file: this.file,
      fileBytes: this.fileBytes,
      hashChecked: !this.skipHashCheck,
      machine: this.machine,
    };
  }
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
