import { assert, isMeshError, type Random } from '../lib/index.js';
import {
  type ClusterConfig,
  type Entry,
  MemoryRaftStorage,
  type Message,
  type NodeId,
  Raft,
  type Ready,
  type Role,
} from '../raft/index.js';
import { encodeSessionEnvelope } from '../server/index.js';
import type { ClientRequest, ClientResponse } from './client-protocol.js';
import { type InvariantChecker, InvariantViolation } from './invariants.js';
import { encodeKvCommand } from './kv/commands.js';
import { encodeKvResult, KvStateMachine } from './kv/state-machine.js';
import type { Scheduler } from './scheduler.js';

/** Client operations one node tracks at once; more are turned away with `retry`. */
export const MAX_PENDING_CLIENT_REQUESTS = 4_096;
/**
 * A read waiting this long has been given up by its client (a forwarded ReadIndex whose
 * answer was lost waits forever otherwise); it is dropped when the table is full.
 */
export const ABANDONED_REQUEST_AGE_US = 2_000_000;

/** The Raft settings a simulated node runs with. */
export interface SimRaftSettings {
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly maxInflightMessages: number;
  readonly maxInflightBytes: number;
  readonly maxAppendBytes: number;
  readonly unsafeCommitByCountingOlderTerms: boolean;
  /** DEBUG ONLY: answer gets from the local state machine, skipping ReadIndex (stale reads). */
  readonly unsafeLocalReads: boolean;
}

/** What a host needs from the world around it: the seams a real host gets from src/lib. */
export interface SimHostEnvironment {
  readonly scheduler: Scheduler;
  /** The node's own random stream (election timeouts). */
  readonly random: Random;
  readonly settings: SimRaftSettings;
  readonly invariants: InvariantChecker;
  /** Interval between two ticks of this node, including its clock drift. */
  readonly tickIntervalUs: number;
  send(message: Message): void;
  /** How long the next fsync of this node takes (the disk model). */
  fsyncDelayUs(): number;
  /**
   * On a crash during an fsync of `entryCount` entries: how many of them (a prefix) reached
   * the disk anyway, as a torn write whose tail is lost.
   */
  tornWriteEntries(entryCount: number): number;
  /** Told when this node reports itself leader (the fault driver may crash it). */
  onLeader?(node: NodeId): void;
  /** Told when this node, as leader, has just made a commit durable (before applying it). */
  onLeaderCommit?(node: NodeId): void;
}

interface PendingWrite {
  readonly index: number;
  readonly reply: (response: ClientResponse) => void;
}

interface PendingRead {
  readonly sinceUs: number;
  readonly key: string;
  readonly sequence: number;
  readonly reply: (response: ClientResponse) => void;
  /** Set once the ReadState arrived: the read is answered when applied reaches it. */
  index: number | undefined;
}

/**
 * One simulated node: the real Raft core, a durable store and the key-value state machine,
 * driven by a small Ready loop. The durability model: `storage` holds only what an fsync
 * completed; a Ready's entries and hard state are written into it when the simulated fsync
 * finishes, and only then are `messagesAfterPersist` sent, committed entries applied and
 * `advance()` called. A crash drops the Raft instance, the state machine, pending client
 * requests and any fsync still in flight (its writes never reach `storage`).
 */
export class SimRaftHost {
  readonly id: NodeId;
  readonly storage: MemoryRaftStorage;
  private raft: Raft | undefined;
  private kv = new KvStateMachine();
  private incarnation = 0;
  private persisting = false;
  /** The Ready whose fsync is in flight, if any. */
  private unsynced: Ready | undefined;
  private role: Role = 'follower';
  private term = 0;
  private leaderId: NodeId | 0 = 0;
  private pausedUntilUs = 0;
  private readonly pendingWrites = new Map<string, PendingWrite>();
  private readonly pendingWriteByIndex = new Map<number, string>();
  private readonly pendingReads = new Map<string, PendingRead>();
  private readonly environment: SimHostEnvironment;

  constructor(id: NodeId, config: ClusterConfig, environment: SimHostEnvironment) {
    this.id = id;
    this.environment = environment;
    this.storage = new MemoryRaftStorage(config);
    environment.invariants.registerNode(id, (index) => {
      if (index < this.storage.firstIndex() || index > this.storage.lastIndex()) return undefined;
      return this.storage.term(index);
    });
    // A founding member's storage starts with the bootstrap entries, identical everywhere.
    const first = this.storage.firstIndex();
    const last = this.storage.lastIndex();
    if (last >= first) environment.invariants.onDurableAppend(id, this.storage.entries(first, last + 1));
  }

  get isUp(): boolean {
    return this.raft !== undefined;
  }

  get isLeader(): boolean {
    return this.raft !== undefined && this.role === 'leader';
  }

  get knownLeader(): NodeId | 0 {
    return this.leaderId;
  }

  get stateMachine(): KvStateMachine {
    return this.kv;
  }

  /** One line describing the node's Raft state, for failure reports. */
  describe(): string {
    if (this.raft === undefined) return `n${this.id}: down`;
    const status = this.raft.status();
    const progress =
      status.progress === undefined
        ? ''
        : ` progress ${[...status.progress]
            .map(
              ([peer, item]) =>
                `${peer}:${item.state} match=${item.match} next=${item.next} inflight=${item.inflightMessages}`,
            )
            .join(', ')}`;
    return `n${this.id}: ${status.role} term=${status.term} leader=${status.leaderId} commit=${status.commit} applied=${status.applied} last=${status.lastIndex}${progress}`;
  }

  /** While paused, the node handles nothing until this time. */
  get pausedUntil(): number {
    return this.pausedUntilUs;
  }

  isPausedAt(nowUs: number): boolean {
    return nowUs < this.pausedUntilUs;
  }

  pause(untilUs: number): void {
    this.pausedUntilUs = Math.max(this.pausedUntilUs, untilUs);
  }

  resume(): void {
    this.pausedUntilUs = 0;
  }

  /** Starts (or restarts) from what `storage` holds. */
  start(): void {
    assert(this.raft === undefined, `node ${this.id} is already running`);
    const settings = this.environment.settings;
    this.raft = new Raft({
      id: this.id,
      electionTicks: settings.electionTicks,
      heartbeatTicks: settings.heartbeatTicks,
      preVote: settings.preVote,
      checkQuorum: settings.checkQuorum,
      maxInflightMessages: settings.maxInflightMessages,
      maxInflightBytes: settings.maxInflightBytes,
      maxAppendBytes: settings.maxAppendBytes,
      random: this.environment.random,
      storage: this.storage,
      unsafeCommitByCountingOlderTerms: settings.unsafeCommitByCountingOlderTerms,
    });
    this.role = 'follower';
    this.leaderId = 0;
    const status = this.raft.status();
    this.term = status.term;
    this.environment.invariants.onRestart(this.id, this.storage.hardStateNow().commit, status.commit);
    this.scheduleTick(this.incarnation);
  }

  crash(): void {
    const unsynced = this.unsynced;
    if (unsynced !== undefined && unsynced.snapshot === undefined && unsynced.entries.length > 0) {
      // Part of the write may have reached the disk: a prefix of the entries, never the hard
      // state (a log writes entries before the hard state that refers to them).
      const kept = this.environment.tornWriteEntries(unsynced.entries.length);
      if (kept > 0) {
        const prefix = unsynced.entries.slice(0, kept);
        this.storage.append(prefix);
        this.environment.invariants.onDurableAppend(this.id, prefix);
      }
    }
    this.unsynced = undefined;
    this.raft = undefined;
    this.kv = new KvStateMachine();
    this.incarnation++;
    this.persisting = false;
    this.role = 'follower';
    this.leaderId = 0;
    this.pausedUntilUs = 0;
    this.pendingWrites.clear();
    this.pendingWriteByIndex.clear();
    this.pendingReads.clear();
    this.environment.invariants.onNotLeader(this.id);
  }

  /** The transport lost a message to `peer` (link reset): Raft stops pipelining to it. */
  reportUnreachable(peer: NodeId): void {
    if (this.raft === undefined) return;
    this.raft.reportUnreachable(peer);
    this.drive();
  }

  receive(message: Message): void {
    if (this.raft === undefined) return;
    this.raft.step(message);
    this.drive();
  }

  handleClientRequest(request: ClientRequest, reply: (response: ClientResponse) => void): void {
    const raft = this.raft;
    if (raft === undefined) return;
    const sequence = request.sequence;
    if (this.pendingWrites.size + this.pendingReads.size >= MAX_PENDING_CLIENT_REQUESTS) {
      this.dropAbandonedReads();
      if (this.pendingWrites.size + this.pendingReads.size >= MAX_PENDING_CLIENT_REQUESTS) {
        reply({ kind: 'retry', sequence, reason: 'too many pending requests' });
        return;
      }
    }
    if (request.command.kind === 'get' && this.environment.settings.unsafeLocalReads) {
      reply({
        kind: 'ok',
        sequence,
        result: encodeKvResult('get', this.kv.read(request.command.key)),
        index: this.kv.applied,
      });
      return;
    }
    // Refuse early rather than through the core's NotLeaderError: a client that keeps
    // asking a follower is common under faults, and a thrown error costs a stack trace.
    const isWrite = request.command.kind !== 'get';
    if (raft.role !== 'leader' && (isWrite || raft.leaderId === 0)) {
      reply({ kind: 'not-leader', sequence, leaderId: raft.leaderId });
      return;
    }
    try {
      if (request.command.kind === 'get') {
        raft.readIndex(request.attemptId);
        this.pendingReads.set(request.attemptId, {
          sinceUs: this.environment.scheduler.nowUs,
          key: request.command.key,
          sequence,
          reply,
          index: undefined,
        });
      } else {
        const data = encodeSessionEnvelope({
          clientId: request.clientId,
          sequence,
          payload: encodeKvCommand(request.command),
        });
        const index = raft.propose(data);
        const sessionKey = `${request.clientId}#${sequence}`;
        this.pendingWrites.set(sessionKey, { index, reply });
        this.pendingWriteByIndex.set(index, sessionKey);
      }
    } catch (error) {
      if (isMeshError(error, 'NOT_LEADER')) {
        reply({
          kind: 'not-leader',
          sequence,
          leaderId: (error.details.leaderId as NodeId | 0 | undefined) ?? 0,
        });
        return;
      }
      if (isMeshError(error)) {
        reply({ kind: 'retry', sequence, reason: error.code });
        return;
      }
      throw error;
    }
    this.drive();
  }

  private scheduleTick(incarnation: number): void {
    this.environment.scheduler.schedule(
      this.environment.tickIntervalUs,
      'tick',
      () => {
        if (incarnation !== this.incarnation) return;
        this.scheduleTick(incarnation);
        // A paused process misses its ticks; it catches up on nothing when it resumes.
        if (this.raft === undefined || this.isPausedAt(this.environment.scheduler.nowUs)) return;
        this.raft.tick();
        this.drive();
      },
      this.id,
    );
  }

  /** The Ready loop: one Ready at a time, the next only after the previous one is durable. */
  private drive(): void {
    const raft = this.raft;
    if (raft === undefined || this.persisting || !raft.hasReady()) return;
    const ready = raft.ready();
    const invariants = this.environment.invariants;
    if (ready.hardState !== undefined) {
      this.term = ready.hardState.term;
      invariants.onCommit(this.id, ready.hardState.commit);
    }
    if (ready.softState !== undefined) {
      const wasLeader = this.role === 'leader';
      this.role = ready.softState.role;
      this.leaderId = ready.softState.leaderId;
      if (this.role === 'leader') {
        this.term = raft.term;
        invariants.onLeader(this.id, this.term);
        this.environment.onLeader?.(this.id);
      } else if (wasLeader) {
        invariants.onNotLeader(this.id);
        this.failPendingWrites('lost leadership');
      }
    }
    for (const message of ready.messages) this.environment.send(message);
    const needsFsync =
      ready.entries.length > 0 || ready.hardState !== undefined || ready.snapshot !== undefined;
    if (!needsFsync) {
      this.complete(ready);
      return;
    }
    this.persisting = true;
    this.unsynced = ready;
    const incarnation = this.incarnation;
    const scheduler = this.environment.scheduler;
    const onDurable = (): void => {
      if (incarnation !== this.incarnation) return;
      const pausedUntil = this.pausedUntilUs;
      if (scheduler.nowUs < pausedUntil) {
        scheduler.schedule(pausedUntil - scheduler.nowUs, `fsync-resume n${this.id}`, onDurable);
        return;
      }
      this.complete(ready);
    };
    scheduler.schedule(this.environment.fsyncDelayUs(), 'fsync', onDurable, this.id, ready.entries.length);
  }

  private complete(ready: Ready): void {
    const raft = this.raft!;
    this.unsynced = undefined;
    const invariants = this.environment.invariants;
    if (ready.snapshot !== undefined) this.storage.applySnapshot(ready.snapshot);
    if (ready.entries.length > 0) {
      this.storage.append(ready.entries);
      invariants.onDurableAppend(this.id, ready.entries);
    }
    if (ready.hardState !== undefined) this.storage.setHardState(ready.hardState);
    if (this.role === 'leader' && ready.hardState !== undefined && ready.committedEntries.length > 0) {
      this.environment.onLeaderCommit?.(this.id);
      const last = ready.committedEntries[ready.committedEntries.length - 1]!;
      if (last.term < this.term) {
        // Only a broken commit rule lets a leader's commit end on an entry of an older term.
        this.environment.scheduler.trace.record(
          `note n${this.id} leader of term ${this.term} committed through ${last.index} of older term ${last.term}`,
        );
      }
    }
    if (this.role === 'leader' && ready.entries.some((entry) => entry.term === this.term)) {
      invariants.onLeaderEstablished(this.id, this.term);
    }
    for (const message of ready.messagesAfterPersist) this.environment.send(message);
    for (const entry of ready.committedEntries) this.apply(entry);
    for (const readState of ready.readStates) {
      const pending = this.pendingReads.get(readState.requestId);
      if (pending !== undefined) pending.index = readState.index;
    }
    for (const requestId of ready.droppedReads) {
      const pending = this.pendingReads.get(requestId);
      if (pending === undefined) continue;
      this.pendingReads.delete(requestId);
      pending.reply({ kind: 'retry', sequence: pending.sequence, reason: 'read dropped' });
    }
    this.answerReads();
    raft.advance();
    this.persisting = false;
    this.drive();
  }

  private apply(entry: Entry): void {
    const invariants = this.environment.invariants;
    if (entry.index !== this.kv.applied + 1) {
      throw new InvariantViolation('apply-order', `applies ${entry.index} right after ${this.kv.applied}`, {
        node: this.id,
        term: entry.term,
        index: entry.index,
      });
    }
    invariants.onApply(this.id, entry, this.role === 'leader' ? this.term : undefined);
    const outcome = this.kv.apply(entry);
    const waitingKey = this.pendingWriteByIndex.get(entry.index);
    if (waitingKey !== undefined) {
      this.pendingWriteByIndex.delete(entry.index);
      const sessionKey = outcome === undefined ? undefined : `${outcome.clientId}#${outcome.sequence}`;
      if (waitingKey !== sessionKey) {
        const pending = this.pendingWrites.get(waitingKey);
        if (pending !== undefined && pending.index === entry.index) {
          this.pendingWrites.delete(waitingKey);
          const sequence = Number(waitingKey.slice(waitingKey.lastIndexOf('#') + 1));
          pending.reply({ kind: 'retry', sequence, reason: 'entry replaced' });
        }
      }
    }
    if (outcome === undefined || outcome.result === undefined) return;
    const sessionKey = `${outcome.clientId}#${outcome.sequence}`;
    const pending = this.pendingWrites.get(sessionKey);
    if (pending === undefined) return;
    this.pendingWrites.delete(sessionKey);
    this.pendingWriteByIndex.delete(pending.index);
    pending.reply({ kind: 'ok', sequence: outcome.sequence, result: outcome.result, index: entry.index });
  }

  private answerReads(): void {
    if (this.pendingReads.size === 0) return;
    const applied = this.kv.applied;
    for (const [requestId, pending] of this.pendingReads) {
      if (pending.index === undefined || pending.index > applied) continue;
      this.pendingReads.delete(requestId);
      pending.reply({
        kind: 'ok',
        sequence: pending.sequence,
        result: encodeKvResult('get', this.kv.read(pending.key)),
        index: applied,
      });
    }
  }

  private dropAbandonedReads(): void {
    const oldestKeptUs = this.environment.scheduler.nowUs - ABANDONED_REQUEST_AGE_US;
    for (const [requestId, pending] of this.pendingReads) {
      if (pending.sinceUs < oldestKeptUs) this.pendingReads.delete(requestId);
    }
  }

  private failPendingWrites(reason: string): void {
    for (const [sessionKey, pending] of this.pendingWrites) {
      const sequence = Number(sessionKey.slice(sessionKey.lastIndexOf('#') + 1));
      pending.reply({ kind: 'retry', sequence, reason });
    }
    this.pendingWrites.clear();
    this.pendingWriteByIndex.clear();
  }
}
