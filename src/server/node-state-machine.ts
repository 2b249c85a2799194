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
  ChunkConcatenation,
  dataViewOf,
  followedBy,
  MeshError,
  runToEnd,
  type SteppedTask,
  singleStep,
} from '../lib/index.js';
import type { Entry } from '../raft/index.js';
import { MemberDirectory } from './member-directory.js';
import { decodeNodeCommand } from './node-command.js';
import type { ReplicatedStateMachine } from './raft-node.js';
import { SessionTable } from './session-table.js';

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
    const view = dataViewOf(data);
    if (data.byteLength < SNAPSHOT_HEADER_BYTES || view.getUint32(0) !== SNAPSHOT_MAGIC) {
      throw new MeshError('SNAPSHOT_CORRUPT', 'node snapshot has no valid header');
    }
    const kvBytes = view.getUint32(4);
    const sessionBytes = view.getUint32(8);
    const memberBytes = view.getUint32(12);
    if (SNAPSHOT_HEADER_BYTES + kvBytes + sessionBytes + memberBytes !== data.byteLength) {
      throw new MeshError('SNAPSHOT_CORRUPT', 'node snapshot section lengths do not add up');
    }
    const sessionsStart = SNAPSHOT_HEADER_BYTES + kvBytes;
    const kv = this.kv.startRestore(data.subarray(SNAPSHOT_HEADER_BYTES, sessionsStart));
    const revisionBefore = this.kv.revision;
    let done = false;
    return {
      step: () => {
        if (done) return true;
        if (!kv.step()) return false;
        done = true;
        this.sessions.restore(data.subarray(sessionsStart, sessionsStart + sessionBytes));
        this.members.restore(new TextDecoder().decode(data.subarray(sessionsStart + sessionBytes)));
        // No events were published for what the snapshot carried: watchers read it from history.
        this.watches.restored(revisionBefore);
        this.onRestore();
        return true;
      },
      result: () => undefined,
      cancel: () => kv.cancel(),
    };
  }

  restore(data: Uint8Array): void {
    runToEnd(this.startRestore(data));
  }
}
