import {
  AuthError,
  type AuthSnapshotState,
  AuthStore,
  decodeAuthSnapshot,
  kvCommandRefusal,
} from '../auth/index.js';
import {
  decodeKvResult,
  encodeKvResult,
  type KvCommand,
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

/** Before auth: magic, then the byte lengths of the key-value, session and member sections. */
const SNAPSHOT_MAGIC_V1 = 0x4d534e31; // "MSN1"
const SNAPSHOT_HEADER_BYTES_V1 = 16;
/** As version 1, and the byte length of the auth section after the member section. */
const SNAPSHOT_MAGIC = 0x4d534e32; // "MSN2"
const SNAPSHOT_HEADER_BYTES = 20;
/** The longest node snapshot header (version 2's), for readers that gather it before they decode. */
export const NODE_SNAPSHOT_HEADER_MAX_BYTES = SNAPSHOT_HEADER_BYTES;

/**
 * The length a node snapshot's header says the whole snapshot has (header and sections), or
 * undefined when `bytes` does not start with a valid header. Lets a reader tell the snapshot
 * from what follows it (a snapshot file's padding).
 */
export function nodeSnapshotByteLength(bytes: Uint8Array): number | undefined {
  if (bytes.byteLength < SNAPSHOT_HEADER_BYTES_V1) return undefined;
  const view = dataViewOf(bytes);
  const magic = view.getUint32(0);
  const sections = (): number => view.getUint32(4) + view.getUint32(8) + view.getUint32(12);
  if (magic === SNAPSHOT_MAGIC_V1) return SNAPSHOT_HEADER_BYTES_V1 + sections();
  if (magic !== SNAPSHOT_MAGIC || bytes.byteLength < SNAPSHOT_HEADER_BYTES) return undefined;
  return SNAPSHOT_HEADER_BYTES + sections() + view.getUint32(16);
}

/**
 * The replicated state of one MeshOS node: the key-value store, client sessions, the member
 * directory and the auth store (users, roles, permissions). Applying is deterministic; watch events and lease changes are handed
 * to node-local listeners after each apply.
 */
export class NodeStateMachine implements ReplicatedStateMachine<NodeApplyResult> {
  readonly kv = new KvStateMachine();
  readonly sessions = new SessionTable();
  readonly members = new MemberDirectory();
  readonly auth = new AuthStore();
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
    if (command.type === 'auth') {
      this.kv.skip(entry.index);
      try {
        this.auth.apply(command.command);
        return undefined;
      } catch (error) {
        if (!(error instanceof AuthError)) throw error;
        return { type: 'error', header: { revision: this.kv.revision }, error };
      }
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
    const refusal = command.user === undefined ? undefined : this.refusal(command.user, command.command);
    if (refusal !== undefined) {
      this.kv.skip(entry.index);
      const result: KvResult = { type: 'error', header: { revision: this.kv.revision }, error: refusal };
      if (session !== undefined)
        this.sessions.record(session.clientId, session.sequence, encodeKvResult(result));
      return result;
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
   * Checked as the command applies, against the auth state every member holds at that point of
   * the log: a role revoked before this entry refuses it on every member alike.
   */
  private refusal(user: string, command: KvCommand): KvError | undefined {
    if (!this.auth.enabled) return undefined;
    return kvCommandRefusal(this.auth, user, command, (id) =>
      this.kv.hasLease(id) ? this.kv.leaseTimeToLive(id, true).keys : [],
    );
  }

  /**
   * Starts a snapshot of the state as of now: sessions, members and auth (small) are encoded at once,
   * the key-value store a step at a time while entries go on being applied. The result is the
   * snapshot in parts (header, the key-value store's step chunks, sessions, members), never
   * joined: the node writes them to the snapshot file one after another.
   */
  startSnapshotParts(): SteppedTask<readonly Uint8Array[]> {
    const kv = this.kv.startSnapshot();
    const sessions = this.sessions.snapshot();
    const members = new TextEncoder().encode(this.members.snapshot());
    const auth = this.auth.snapshot();
    return followedBy(kv, (kvChunks) => {
      let kvBytes = 0;
      for (const chunk of kvChunks) kvBytes += chunk.byteLength;
      const header = new Uint8Array(SNAPSHOT_HEADER_BYTES);
      const view = new DataView(header.buffer);
      view.setUint32(0, SNAPSHOT_MAGIC);
      view.setUint32(4, kvBytes);
      view.setUint32(8, sessions.byteLength);
      view.setUint32(12, members.byteLength);
      view.setUint32(16, auth.byteLength);
      return singleStep(() => [header, ...kvChunks, sessions, members, auth]);
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
 * at a time as its bytes come), then sessions, members and auth (small: gathered, restored with
 * the key-value store's swap in the last step). A version-1 snapshot (from before auth) has no
 * auth section and a shorter header.
 */
class NodeRestore implements FedTask<void> {
  private readonly header = new Uint8Array(SNAPSHOT_HEADER_BYTES);
  /** Known once the magic is in: 16 bytes for version 1, 20 for version 2. */
  private headerBytes = SNAPSHOT_HEADER_BYTES_V1;
  private headerDone = false;
  private pushed = 0;
  private kv: FedTask<void> | undefined;
  private kvBytes = 0;
  private kvPushed = 0;
  /** The sessions, members and auth sections. */
  private rest = new Uint8Array(0);
  private sessionBytes = 0;
  private memberBytes = 0;
  /** Sessions, members and auth, decoded once every byte is in. */
  private tail:
    | {
        readonly sessions: DecodedSessions;
        readonly members: DirectoryState;
        readonly auth: AuthSnapshotState;
      }
    | undefined;
  private done = false;
  /** The store's revision when the restore started (see `WatchHub.restored`). */
  private readonly revisionBefore: number;

  constructor(
    private readonly byteLength: number,
    private readonly machine: NodeStateMachine,
  ) {
    if (byteLength < SNAPSHOT_HEADER_BYTES_V1)
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
    let at = this.takeHeader(part);
    const kvPart = Math.min(part.byteLength - at, this.kvBytes - this.kvPushed);
    if (kvPart > 0) {
      (this.kv as FedTask<void>).push(part.subarray(at, at + kvPart));
      this.kvPushed += kvPart;
      at += kvPart;
    }
    const restStart = this.pushed + at - this.headerBytes - this.kvBytes;
    if (at < part.byteLength) this.rest.set(part.subarray(at), restStart);
    this.pushed += part.byteLength;
  }

  /** Copies the header's bytes from the front of `part`; answers how many it took. */
  private takeHeader(part: Uint8Array): number {
    let at = 0;
    while (!this.headerDone && at < part.byteLength) {
      const inHeader = this.pushed + at;
      const take = Math.min(part.byteLength - at, this.headerBytes - inHeader);
      this.header.set(part.subarray(at, at + take), inHeader);
      at += take;
      if (this.pushed + at < this.headerBytes) continue;
      const magic = dataViewOf(this.header).getUint32(0);
      if (this.headerBytes === SNAPSHOT_HEADER_BYTES_V1 && magic === SNAPSHOT_MAGIC)
        this.headerBytes = SNAPSHOT_HEADER_BYTES;
      else {
        this.readHeader(magic);
        this.headerDone = true;
      }
    }
    return at;
  }

  private readHeader(magic: number): void {
    if (magic !== SNAPSHOT_MAGIC && magic !== SNAPSHOT_MAGIC_V1)
      throw new MeshError('SNAPSHOT_CORRUPT', 'node snapshot has no valid header');
    const view = dataViewOf(this.header);
    this.kvBytes = view.getUint32(4);
    this.sessionBytes = view.getUint32(8);
    this.memberBytes = view.getUint32(12);
    const authBytes = magic === SNAPSHOT_MAGIC ? view.getUint32(16) : 0;
    if (
      this.headerBytes + this.kvBytes + this.sessionBytes + this.memberBytes + authBytes !==
      this.byteLength
    ) {
      throw new MeshError('SNAPSHOT_CORRUPT', 'node snapshot section lengths do not add up');
    }
    this.rest = new Uint8Array(this.sessionBytes + this.memberBytes + authBytes);
    this.kv = this.machine.kv.startRestoreFrom(this.kvBytes);
  }

  step(): boolean {
    if (this.done) return true;
    // A version 2 magic in a file only a version 1 header long: every byte is in, no header read.
    if (this.kv === undefined && this.pushed === this.byteLength)
      throw new MeshError('SNAPSHOT_CORRUPT', 'node snapshot ends inside its header');
    assert(this.kv !== undefined, 'node snapshot: stepped before its header was pushed');
    // Sessions and members are read (and refused if damaged) before the key-value store's last
    // step swaps its new state in, so a bad snapshot leaves the whole state as it was.
    if (this.tail === undefined && this.pushed === this.byteLength) {
      const membersEnd = this.sessionBytes + this.memberBytes;
      this.tail = {
        sessions: decodeSessionSnapshot(this.rest.subarray(0, this.sessionBytes)),
        members: parseDirectoryState(
          new TextDecoder().decode(this.rest.subarray(this.sessionBytes, membersEnd)),
        ),
        auth: decodeAuthSnapshot(this.rest.subarray(membersEnd)),
      };
    }
    if (!this.kv.step()) return false;
    assert(this.tail !== undefined, 'node snapshot: restored before every byte was pushed');
    this.done = true;
    this.machine.sessions.restoreDecoded(this.tail.sessions);
    this.machine.members.restoreState(this.tail.members);
    this.machine.auth.restoreState(this.tail.auth);
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
