import { type FedTask, MemoryDisk, type Random, type SteppedTask } from '../lib/index.js';
import { silentLogger } from '../lib/node/index.js';
import type { Entry, NodeId } from '../raft/index.js';
import {
  type ForwardToLeader,
  type NodeApplyResult,
  NodeStateMachine,
  RaftKvBackend,
  RaftNode,
  type ReplicatedStateMachine,
} from '../server/index.js';
import { IncarnationClock, IncarnationDisk, Life } from './incarnation.js';
import type { Scheduler } from './scheduler.js';
import type { SimPeerLinks } from './sim-peer-links.js';

export const DATA_DIRECTORY = '/data/raft';
/** Share of crashes whose unsynced tail survives in part (a torn write). */
const TORN_WRITE_PROBABILITY = 0.3;

/** Node settings shared by every node of a run (drawn from the seed). */
export interface NodeSettings {
  readonly tickIntervalMs: number;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly snapshotEveryEntries: number;
  readonly logEntriesKeptAfterSnapshot: number;
  /** Largest append message; small values split appends entry by entry (undefined: the default). */
  readonly maxAppendBytes: number | undefined;
  readonly slowFsyncProbability: number;
  /** Self-test only: the disk acknowledges file syncs without making writes durable. */
  readonly unsafeDiskIgnoresSyncs?: boolean;
  /** Self-test only: leaders commit older-term entries by counting replicas (figure 8). */
  readonly unsafeCommitByCountingOlderTerms?: boolean;
}

/** What the simulation watches on every node (invariants, apply records). */
export interface NodeObserver {
  onLeader(node: NodeId, term: number): void;
  onApply(node: NodeId, entry: Entry): void;
  /** The state machine threw while applying: the production node stops for good. */
  onApplyFailure(node: NodeId, entry: Entry, error: unknown): void;
  /** `machine` has just applied `entry` (for checkpoints of the replica state). */
  afterApply(node: NodeId, entry: Entry, machine: NodeStateMachine): void;
  onStarted(node: NodeId, incarnation: number): void;
  onStartFailure(node: NodeId, error: unknown): void;
  onSlowFsync(): void;
}

/** The parts of one running process. */
export interface RunningProcess {
  readonly life: Life;
  readonly node: RaftNode<NodeApplyResult>;
  readonly machine: NodeStateMachine;
  readonly backend: RaftKvBackend;
  /** The process's own seams, for the services it runs beside the Raft node. */
  readonly clock: IncarnationClock;
  readonly disk: IncarnationDisk;
  /** A fork of the seed for this process. */
  readonly random: Random;
}

/**
 * Services a process runs beside its Raft node (the chains, say): started once the node and
 * its backend are up, closed before a graceful stop, dropped when the process ends.
 */
export interface ProcessAddOn {
  started(process: RunningProcess): void;
  /** Closes what `started` opened; the process then stops its node. */
  stopping(process: RunningProcess): Promise<void>;
  /** The process of `node` ended (crash or stop): nothing of it runs any more. */
  ended(node: NodeId): void;
}

/** Passes every call to the node's state machine, telling the observer first. */
class ObservedStateMachine implements ReplicatedStateMachine<NodeApplyResult> {
  constructor(
    private readonly id: NodeId,
    readonly inner: NodeStateMachine,
    private readonly observer: NodeObserver,
  ) {}

  apply(entry: Entry): NodeApplyResult {
    this.observer.onApply(this.id, entry);
    let result: NodeApplyResult;
    try {
      result = this.inner.apply(entry);
    } catch (error) {
      this.observer.onApplyFailure(this.id, entry, error);
      throw error;
    }
    this.observer.afterApply(this.id, entry, this.inner);
    return result;
  }

  snapshot(): Uint8Array {
    return this.inner.snapshot();
  }

  restore(data: Uint8Array): void {
    this.inner.restore(data);
  }

  // The node's own stepped snapshot and restore, so simulated runs apply entries between steps.
  startSnapshotParts(): SteppedTask<readonly Uint8Array[]> {
    return this.inner.startSnapshotParts();
  }

  startRestore(data: Uint8Array): SteppedTask<void> {
    return this.inner.startRestore(data);
  }

  startRestoreFrom(byteLength: number): FedTask<void> {
    return this.inner.startRestoreFrom(byteLength);
  }
}

/**
 * One simulated machine: a memory disk that outlives processes, and at most one process of
 * the production node (`RaftNode` + `NodeStateMachine` + `RaftKvBackend`) at a time.
 */
export class SimNode {
  readonly disk = new MemoryDisk();
  private incarnation = 0;
  private life: Life | undefined;
  process: RunningProcess | undefined;
  crashes = 0;
  gracefulStops = 0;

  constructor(
    readonly id: NodeId,
    private readonly voters: readonly NodeId[],
    private readonly scheduler: Scheduler,
    private readonly links: SimPeerLinks,
    private readonly random: Random,
    private readonly settings: NodeSettings,
    /** This machine's clock runs this many times slower than simulated time (clock drift). */
    private readonly clockSlowness: number,
    private readonly observer: NodeObserver,
    /** Builds the channel a process forwards follower writes on; none: followers answer NOT_LEADER. */
    private readonly forwardFor: ((life: Life) => ForwardToLeader) | undefined,
    private readonly addOn?: ProcessAddOn,
  ) {}

  /** True while a process is running or starting. */
  get isUp(): boolean {
    return this.life?.alive === true;
  }

  /** Starts a new process on the disk; it becomes `process` once recovery finished. */
  boot(): void {
    if (this.isUp) return;
    this.incarnation++;
    const life = new Life(this.id, this.incarnation);
    this.life = life;
    void this.startProcess(life);
  }

  private async startProcess(life: Life): Promise<void> {
    const clock = new IncarnationClock(this.scheduler, life, this.clockSlowness);
    const disk = new IncarnationDisk(this.disk, this.scheduler, life, {
      random: this.random.fork(`fsync-${life.incarnation}`),
      slowProbability: this.settings.slowFsyncProbability,
      onSlow: () => this.observer.onSlowFsync(),
      ignoreFileSyncs: this.settings.unsafeDiskIgnoresSyncs === true,
    });
    const machine = new NodeStateMachine();
    try {
      if (life.incarnation === 1) {
        // The machine's own setup, made durable before the node runs.
        await disk.makeDirectory('/data');
        await disk.fsyncDirectory('/');
      }
      const node = await RaftNode.start<NodeApplyResult>({
        id: this.id,
        dataDirectory: DATA_DIRECTORY,
        initialVoters: this.voters,
        disk,
        clock,
        random: this.random.fork(`raft-${life.incarnation}`),
        link: this.links.linkFor(life),
        stateMachine: new ObservedStateMachine(this.id, machine, this.observer),
        tickIntervalMs: this.settings.tickIntervalMs,
        electionTicks: this.settings.electionTicks,
        heartbeatTicks: this.settings.heartbeatTicks,
        snapshotEveryEntries: this.settings.snapshotEveryEntries,
        logEntriesKeptAfterSnapshot: this.settings.logEntriesKeptAfterSnapshot,
        defer: (work) => clock.defer(work),
        // As a production node (src/mesh/node-services.ts): the checkers see deferred commits.
        deferCommitOnlyAppends: true,
        logger: silentLogger,
        ...(this.settings.maxAppendBytes === undefined
          ? {}
          : { maxAppendBytes: this.settings.maxAppendBytes }),
        ...(this.settings.unsafeCommitByCountingOlderTerms === true
          ? { unsafeCommitByCountingOlderTerms: true }
          : {}),
      });
      if (!life.alive) return;
      node.onLeaderChange((info) => {
        if (life.alive && info.leaderId === this.id) this.observer.onLeader(this.id, info.term);
      });
      const backend = new RaftKvBackend(node, machine, {
        clusterId: 1n,
        clock,
        electionTimeoutMs: this.settings.tickIntervalMs * this.settings.electionTicks,
        ...(this.forwardFor === undefined ? {} : { forward: this.forwardFor(life) }),
      });
      this.process = {
        life,
        node,
        machine,
        backend,
        clock,
        disk,
        random: this.random.fork(`process-${life.incarnation}`),
      };
      this.observer.onStarted(this.id, life.incarnation);
      this.addOn?.started(this.process);
    } catch (error) {
      if (life.alive) this.observer.onStartFailure(this.id, error);
    }
  }

  /**
   * Stops the process the way an operator's restart does (`RaftNode.stop`, handing
   * leadership over first); resolves once the process has exited. The disk keeps everything.
   */
  async stopGracefully(transferTimeoutMs: number): Promise<void> {
    const process = this.process;
    if (process === undefined) return;
    this.process = undefined;
    await this.addOn?.stopping(process);
    process.backend.close();
    await process.node.stop(transferTimeoutMs);
    if (process.life.alive) {
      process.life.alive = false;
      this.gracefulStops++;
      this.links.processEnded(this.id);
      this.addOn?.ended(this.id);
    }
  }

  /**
   * Kills the process without any shutdown (the object is dropped, not stopped) and loses
   * what the disk had not synced, possibly tearing the unsynced tail.
   */
  crash(random: Random): void {
    if (this.life === undefined || !this.life.alive) return;
    this.life.alive = false;
    this.process = undefined;
    this.crashes++;
    this.links.processEnded(this.id);
    this.addOn?.ended(this.id);
    this.disk.crash({ random, tornWriteProbability: TORN_WRITE_PROBABILITY });
  }
}
