import {
  decodeKvResult,
  encodeKvResult,
  KvError,
  type KvResult,
  KvStateMachine,
  type LeaseChanges,
  WatchHub,
} from '../kv/index.js';
import {
  assert,
  ChunkConcatenation,
  dataViewOf,
  type FedTask,
  followedBy,
  MeshError,
  runToEnd,
  type SteppedTask,
  singleStep,
} from '../lib/index.js';
import type { Entry } from '../raft/index.js';
import { type DirectoryState, MemberDirectory, parseDirectoryState } from './member-directory.js';
import { decodeNodeCommand } from './node-command.js';
import type { ReplicatedStateMachine } from './raft-node.js';
import { type DecodedSessions, decodeSessionSnapshot, SessionTable } from './session-table.js';

/** What applying one entry gave: a KV result for KV commands, nothing for the rest. */
export type NodeApplyResult = KvResult | undefined;

/** A retried request older than one its client already had applied; answered, never applied. */
export class StaleRequestError extends KvError {
  constructor(clientId: string, sequence: number) {
    super('STALE_REQUEST', `request ${sequence} of client ${clientId} is older than one already applied`, {
      details: { clientId, sequence },
    });
  }
}

const SNAPSHOT_MAGIC = 0x4d534e31; // "MSN1"
/** Magic, then the byte lengths of the key-value, session and member sections. */
const SNAPSHOT_HEADER_BYTES = 16;

/**
 * The length a node snapshot's header says the whole snapshot has (header and sections), or
 * undefined when `bytes` does not start with a valid header. Lets a reader tell the snapshot
 * from what follows it (a snapshot file's padding).
 */
export function nodeSnapshotByteLength(bytes: Uint8Array): number | undefined {
  if (bytes.byteLength < SNAPSHOT_HEADER_BYTES) return undefined;
  const view = dataViewOf(bytes);
  if (view.getUint32(0) !== SNAPSHOT_MAGIC) return undefined;
  return SNAPSHOT_HEADER_BYTES + view.getUint32(4) + view.getUint32(8) + view.getUint32(12);
}

/**
 * The replicated state of one MeshOS node: the key-value store, client sessions and the
 * member directory. Applying is deterministic; watch events and lease changes are handed
 * to node-local listeners after each apply.
 */
export class NodeStateMachine implements ReplicatedStateMachine<NodeApplyResult> {
  readonly kv = new KvStateMachine();
  readonly sessions = new SessionTable();
  readonly members = new MemberDirectory();
  readonly watches: WatchHub;
  onLeaseChanges: (changes: LeaseChanges) => void = () => {};
  onRestore: () => void = () => {};

  constructor() {
    // Restores happen in place, so the hub may hold the store itself.
    this.watches = new WatchHub(this.kv);
  }

  apply(entry: Entry): NodeApplyResult {
    if (entry.kind !== 'normal' || entry.data.byteLength === 0) {
      this.kv.skip(entry.index);
      return undefined;
    }
    const command = decodeNodeCommand(entry.data);
    if (command.type === 'setMember') {
      this.members.set(command.member);
      this.kv.skip(entry.index);
      return undefined;
    }
    if (command.type === 'removeMember') {
      this.members.remove(command.id);
      this.kv.skip(entry.index);
      return undefined;
    }
    const session = command.session;
    if (session !== undefined) {
      const admission = this.sessions.admit(session.clientId, session.sequence, entry.index);
      if (admission.kind === 'duplicate') {
        this.kv.skip(entry.index);
        return admission.result === undefined ? undefined : decodeKvResult(admission.result);
      }
      if (admission.kind === 'stale') {
        this.kv.skip(entry.index);
        return {
          type: 'error',
          header: { revision: this.kv.revision },
          error: new StaleRequestError(session.clientId, session.sequence),
        };
      }
    }
    const outcome = this.kv.applyCommand(entry.index, command.command);
    if (session !== undefined)
      this.sessions.record(session.clientId, session.sequence, encodeKvResult(outcome.result));
    if (outcome.events.length > 0) this.watches.publish(outcome.events, outcome.revision);
    if (outcome.leases.granted.length > 0 || outcome.leases.revoked.length > 0)
      this.onLeaseChanges(outcome.leases);
    return outcome.result;
  }

  /**
   * Starts a snapshot of the state as of now: sessions and members (small) are encoded at once,
   * the key-value store a step at a time while entries go on being applied. The result is the
   * snapshot in parts (header, the key-value store's step chunks, sessions, members), never
   * joined: the node writes them to the snapshot file one after another.
   */
  startSnapshotParts(): SteppedTask<readonly Uint8Array[]> {
    const kv = this.kv.startSnapshot();
    const sessions = this.sessions.snapshot();
    const members = new TextEncoder().encode(this.members.snapshot());
    return followedBy(kv, (kvChunks) => {
      let kvBytes = 0;
      for (const chunk of kvChunks) kvBytes += chunk.byteLength;
      const header = new Uint8Array(SNAPSHOT_HEADER_BYTES);
      const view = new DataView(header.buffer);
      view.setUint32(0, SNAPSHOT_MAGIC);
      view.setUint32(4, kvBytes);
      view.setUint32(8, sessions.byteLength);
      view.setUint32(12, members.byteLength);
      return singleStep(() => [header, ...kvChunks, sessions, members]);
    });
  }

  /** The snapshot as one buffer (Maintenance.Snapshot), joined a bounded copy per step. */
  startSnapshot(): SteppedTask<Uint8Array> {
    return followedBy(this.startSnapshotParts(), (parts) => new ChunkConcatenation(parts));
  }

  snapshot(): Uint8Array {
    return runToEnd(this.startSnapshot());
  }

  /**
   * Starts replacing the state with a snapshot's: the key-value store is decoded a step at a
   * time and swapped in by the last step, together with sessions and members.
   */
  startRestore(data: Uint8Array): SteppedTask<void> {
    const task = new NodeRestore(data.byteLength, this);
    task.push(data);
    return task;
  }

  /** `startRestore` for a snapshot of `byteLength` bytes pushed in parts (read from its file). */
  startRestoreFrom(byteLength: number): FedTask<void> {
    return new NodeRestore(byteLength, this);
  }

  restore(data: Uint8Array): void {
    runToEnd(this.startRestore(data));
  }
}

/**
 * A node snapshot's restore fed in parts: the header, then the key-value section (decoded a step
 * at a time as its bytes come), then sessions and members (small: gathered, restored with the
 * key-value store's swap in the last step).
 */
class NodeRestore implements FedTask<void> {
  private readonly header = new Uint8Array(SNAPSHOT_HEADER_BYTES);
  private pushed = 0;
  private kv: FedTask<void> | undefined;
  private kvBytes = 0;
  private kvPushed = 0;
  /** The sessions then the members section. */
  private rest = new Uint8Array(0);
  private sessionBytes = 0;
  /** Sessions and members, decoded once every byte is in. */
  private tail: { readonly sessions: DecodedSessions; readonly members: DirectoryState } | undefined;
  private done = false;
  /** The store's revision when the restore started (see `WatchHub.restored`). */
  private readonly revisionBefore: number;

  constructor(
    private readonly byteLength: number,
    private readonly machine: NodeStateMachine,
  ) {
    if (byteLength < SNAPSHOT_HEADER_BYTES)
      throw new MeshError('SNAPSHOT_CORRUPT', 'node snapshot has no valid header');
    this.revisionBefore = machine.kv.revision;
  }

  /** Until every byte is in, bytes are wanted whenever the key-value decoder wants them or has all of its own. */
  get wantsBytes(): boolean {
    if (this.pushed === this.byteLength) return false;
    return this.kv === undefined || this.kv.wantsBytes || this.kvPushed === this.kvBytes;
  }

  push(part: Uint8Array): void {
    assert(
      this.pushed + part.byteLength <= this.byteLength,
      'node snapshot: more bytes pushed than it holds',
    );
    let at = 0;
    if (this.pushed < SNAPSHOT_HEADER_BYTES) {
      at = Math.min(part.byteLength, SNAPSHOT_HEADER_BYTES - this.pushed);
      this.header.set(part.subarray(0, at), this.pushed);
      if (this.pushed + at === SNAPSHOT_HEADER_BYTES) this.readHeader();
    }
    const kvPart = Math.min(part.byteLength - at, this.kvBytes - this.kvPushed);
    if (kvPart > 0) {
      (this.kv as FedTask<void>).push(part.subarray(at, at + kvPart));
      this.kvPushed += kvPart;
      at += kvPart;
    }
    const restStart = this.pushed + at - SNAPSHOT_HEADER_BYTES - this.kvBytes;
    if (at < part.byteLength) this.rest.set(part.subarray(at), restStart);
    this.pushed += part.byteLength;
  }

  private readHeader(): void {
    const view = dataViewOf(this.header);
    if (view.getUint32(0) !== SNAPSHOT_MAGIC)
      throw new MeshError('SNAPSHOT_CORRUPT', 'node snapshot has no valid header');
    this.kvBytes = view.getUint32(4);
    this.sessionBytes = view.getUint32(8);
    const memberBytes = view.getUint32(12);
    if (SNAPSHOT_HEADER_BYTES + this.kvBytes + this.sessionBytes + memberBytes !== this.byteLength) {
      throw new MeshError('SNAPSHOT_CORRUPT', 'node snapshot section lengths do not add up');
    }
    this.rest = new Uint8Array(this.sessionBytes + memberBytes);
    this.kv = this.machine.kv.startRestoreFrom(this.kvBytes);
  }

  step(): boolean {
    if (this.done) return true;
    assert(this.kv !== undefined, 'node snapshot: stepped before its header was pushed');
    // Sessions and members are read (and refused if damaged) before the key-value store's last
    // step swaps its new state in, so a bad snapshot leaves the whole state as it was.
    if (this.tail === undefined && this.pushed === this.byteLength) {
      this.tail = {
        sessions: decodeSessionSnapshot(this.rest.subarray(0, this.sessionBytes)),
        members: parseDirectoryState(new TextDecoder().decode(this.rest.subarray(this.sessionBytes))),
      };
    }
    if (!this.kv.step()) return false;
    assert(this.tail !== undefined, 'node snapshot: restored before every byte was pushed');
    this.done = true;
    this.machine.sessions.restoreDecoded(this.tail.sessions);
    this.machine.members.restoreState(this.tail.members);
    // No events were published for what the snapshot carried: watchers read it from history.
    this.machine.watches.restored(this.revisionBefore);
    this.machine.onRestore();
    return true;
  }

  result(): undefined {
    return undefined;
  }

  cancel(): void {
    this.kv?.cancel();
  }
}
