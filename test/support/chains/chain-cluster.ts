import {
  type AcksPolicy,
  type AppendResult,
  type ChainDefinition,
  type ChainEntry,
  type ChainLog,
  ChainReplica,
  type ChainReplicaMessage,
  decodeChainMessage,
  encodeChainMessage,
} from '../../../src/chains/index.js';
import { ManualClock, type NodeId, SeededRandom } from '../../../src/lib/index.js';
import { MicrotaskDrain } from '../../../src/sim/microtasks.js';
import { MemoryChainDisk, MemoryChainLog, type MemoryRetention } from './memory-chain-log.js';
import { MirroredChainLog } from './mirrored-chain-log.js';
import { NodeClock } from './node-clock.js';

/** Link faults, each a named knob; every draw comes from the cluster's seed. */
export interface LinkFaults {
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  /** Probability a message is lost. */
  readonly dropProbability: number;
  /** Probability a message is delivered twice (the second copy later). */
  readonly duplicateProbability: number;
}

export const CALM_LINKS: LinkFaults = {
  minDelayMs: 1,
  maxDelayMs: 1,
  dropProbability: 0,
  duplicateProbability: 0,
};

/** How long the fake control plane takes to answer a suspicion or to deliver a watch event. */
export const CONTROL_PLANE_DELAY_MS = 5;

export interface ChainClusterOptions {
  readonly replicas: readonly NodeId[];
  readonly learners?: readonly NodeId[];
  /** Nodes running outside the chain at first (idle), for `addLearner`. */
  readonly spares?: readonly NodeId[];
  readonly acks: AcksPolicy;
  readonly seed: number;
  readonly links?: LinkFaults;
  readonly syncDelayMs?: number;
  /** Leader of epoch 1 (default: the first replica). */
  readonly firstLeader?: NodeId;
  /** The clock everything runs on (give it to logs opened before the cluster). */
  readonly clock?: ManualClock;
  /**
   * Logs opened by the test (the disk `ChainLog`, say) for some nodes, used instead of a
   * `MemoryChainLog`; those nodes cannot crash.
   */
  readonly logs?: ReadonlyMap<NodeId, ChainLog>;
  /**
   * Retention of every `MemoryChainLog`: applied every `RETENTION_INTERVAL_MS`, bounded by what
   * the replica knows is committed (and the test bed has checked). Given logs apply their own.
   */
  readonly retention?: MemoryRetention;
}

/** How often each node applies its log's retention. */
export const RETENTION_INTERVAL_MS = 50;

/** One acknowledged append, as its appender saw it. */
export interface AcknowledgedAppend {
  readonly node: NodeId;
  readonly result: AppendResult;
  readonly payloads: readonly string[];
}

interface SimNode {
  readonly id: NodeId;
  readonly disk: MemoryChainDisk;
  log: MemoryChainLog | MirroredChainLog;
  clock: NodeClock;
  replica: ChainReplica;
  alive: boolean;
  incarnation: number;
  /** The newest definition this node has been told about. */
  definition: ChainDefinition;
  /** Commit offset of this incarnation already checked against every other replica. */
  checkedCommit: number;
  /** Work delivered while the process was stopped (SIGSTOP): runs on resume. */
  held: (() => void)[];
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

/** Committed data records as `committed` has them (acks quorum and all: the chain's whole history). */
export function committedHistory(cluster: ChainCluster): { offset: number; value: string }[] {
  return [...cluster.committed]
    .map(([offset, record]) => ({ offset: Number(offset), record }))
    .filter(({ record }) => record.split('/')[1] === 'data')
    .sort((left, right) => left.offset - right.offset)
    .map(({ offset, record }) => ({ offset, value: record.split('/').slice(2).join('/') }));
}

export function describeEntry(entry: ChainEntry): string {
  return `${entry.epoch}/${entry.kind}/${textDecoder.decode(entry.payload)}`;
}

/**
 * A deterministic test bed for chain replicas: real `ChainReplica` code over a shared
 * `ManualClock`, `MemoryChainLog`s (unsynced writes lost on crash), an in-memory network with
 * per-link delay, loss, duplication, reordering (by delay) and partitions, processes that
 * crash, restart and pause, and a fake control plane that changes epochs by compare-and-swap
 * when a replica suspects its leader. Safety is checked after every millisecond (`violations`).
 */
export class ChainCluster {
  readonly clock: ManualClock;
  readonly random: SeededRandom;
  readonly nodes = new Map<NodeId, SimNode>();
  readonly acknowledged: AcknowledgedAppend[] = [];
  readonly violations: string[] = [];
  /** Every `onLeaderSuspected` report: which node, about which leader and epoch. */
  readonly suspicions: { by: NodeId; leader: NodeId; epoch: number }[] = [];
  /**
   * The first record seen committed at each offset, on any replica. With acks `one` a committed
   * record may be replaced in a later epoch, so there the key is the offset and the epoch:
   * still, no epoch ever commits two records at one offset.
   */
  readonly committed = new Map<string, string>();
  definition: ChainDefinition;
  links: LinkFaults;
  /** When false, suspicions are only recorded: the test changes epochs itself (`proposeEpoch`). */
  automaticFailover = true;
  /** A test's own message loss: messages it returns true for are dropped. */
  dropMessage: ((from: NodeId, to: NodeId, message: ChainReplicaMessage) => boolean) | undefined;
  messagesSent = 0;
  messagesDropped = 0;
  epochChanges = 0;
  private readonly acknowledgingLeader = new Map<number, NodeId>();
  private readonly cutLinks = new Set<string>();
  /** Nodes cut off from the control plane (the minority side of a partition). */
  private readonly detached = new Set<NodeId>();
  private readonly queuedSuspicions: { leader: NodeId; epoch: number }[] = [];
  private readonly drain = new MicrotaskDrain();
  private readonly syncDelayMs: number | undefined;
  private readonly givenLogs: ReadonlyMap<NodeId, ChainLog>;
  private readonly retention: MemoryRetention | undefined;

  constructor(options: ChainClusterOptions) {
    this.retention = options.retention;
    this.clock = options.clock ?? new ManualClock(0);
    this.givenLogs = options.logs ?? new Map();
    this.random = new SeededRandom(options.seed);
    this.links = options.links ?? CALM_LINKS;
    this.syncDelayMs = options.syncDelayMs;
    this.definition = {
      name: 'chain-a',
      replicas: options.replicas,
      learners: options.learners ?? [],
      acks: options.acks,
      sync: { mode: 'batch' },
      retention: {},
      epoch: 0,
      createdAtMs: 0,
    };
    for (const id of [...options.replicas, ...(options.learners ?? []), ...(options.spares ?? [])]) {
      const disk = new MemoryChainDisk();
      const node = {
        id,
        disk,
        alive: true,
        incarnation: 0,
        definition: this.definition,
        checkedCommit: 0,
        held: [],
      };
      this.nodes.set(id, node as unknown as SimNode);
      this.boot(node as unknown as SimNode);
    }
    this.changeDefinition({
      ...this.definition,
      epoch: 1,
      leader: options.firstLeader ?? (options.replicas[0] as NodeId),
    });
  }

  close(): void {
    for (const node of this.nodes.values()) {
      node.replica.close();
      node.clock.kill();
    }
    this.drain.close();
  }

  node(id: NodeId): SimNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  replica(id: NodeId): ChainReplica {
    return this.node(id).replica;
  }

  /** The replica leading the highest epoch and accepting appends, if any. */
  leader(): ChainReplica | undefined {
    let best: ChainReplica | undefined;
    for (const node of this.nodes.values()) {
      if (!node.alive || node.clock.isPaused || node.replica.role !== 'leader') continue;
      if (best === undefined || node.replica.status().epoch > best.status().epoch) best = node.replica;
    }
    return best;
  }

  /** Every running replica that believes it leads (a cut-off old leader among them). */
  leaders(): NodeId[] {
    return [...this.nodes.values()]
      .filter((node) => node.alive && !node.clock.isPaused && node.replica.role === 'leader')
      .map((node) => node.id);
  }

  leaderId(): NodeId | undefined {
    for (const node of this.nodes.values()) if (node.replica === this.leader()) return node.id;
    return undefined;
  }

  /** Moves time forward `ms` milliseconds, one at a time, running async work and checks in each. */
  async run(ms: number): Promise<void> {
    for (let step = 0; step < ms; step++) {
      this.clock.advance(1);
      await this.drain.drain();
      this.checkCommittedPrefixes();
    }
  }

  /** Runs until `condition` holds; fails after `limitMs`. */
  async runUntil(condition: () => boolean, limitMs: number, what: string): Promise<void> {
    for (let waited = 0; !condition(); waited++) {
      if (waited >= limitMs) throw new Error(`not within ${limitMs} ms: ${what}`);
      await this.run(1);
    }
  }

  /**
   * Appends through `nodeId`'s replica; the outcome is recorded (an acknowledged append joins
   * `acknowledged`). Payloads are unique strings so every record can be traced.
   */
  append(nodeId: NodeId, payloads: readonly string[]): Promise<AppendResult | Error> {
    const node = this.node(nodeId);
    return node.replica.append(payloads.map((payload) => textEncoder.encode(payload))).then(
      (result) => {
        this.noteAcknowledged({ node: nodeId, result, payloads });
        return result;
      },
      (error: Error) => error,
    );
  }

  crash(id: NodeId, keptUnsyncedWrites = 0): void {
    const node = this.node(id);
    if (!node.alive) return;
    if (!(node.log instanceof MemoryChainLog)) throw new Error(`node ${id} runs on a log that cannot crash`);
    node.alive = false;
    node.clock.kill();
    node.log.crash(keptUnsyncedWrites);
    node.held = [];
    for (const other of this.nodes.values()) {
      if (other.alive && other.id !== id) this.deliverTo(other, () => other.replica.peerLost(id));
    }
  }

  restart(id: NodeId): void {
    const node = this.node(id);
    if (node.alive) return;
    node.alive = true;
    node.incarnation++;
    if (!this.detached.has(id)) node.definition = this.definition;
    this.boot(node);
    this.replaySuspicions();
  }

  pause(id: NodeId): void {
    this.node(id).clock.pause();
  }

  resume(id: NodeId): void {
    const node = this.node(id);
    node.clock.resume();
    const held = node.held;
    node.held = [];
    for (const work of held) if (node.alive) work();
    this.replaySuspicions();
  }

  /** Cuts every link between `side` and the rest; `side` also loses the control plane. */
  partition(side: readonly NodeId[]): void {
    for (const inside of side) {
      this.detached.add(inside);
      for (const outside of this.nodes.keys()) {
        if (side.includes(outside)) continue;
        this.cutLinks.add(`${inside}->${outside}`);
        this.cutLinks.add(`${outside}->${inside}`);
      }
    }
  }

  /** Cuts `id` off from the control plane only (it neither hears definitions nor reports). */
  detach(id: NodeId): void {
    this.detached.add(id);
  }

  /** Cuts one direction of one link (the control plane is unaffected). */
  cutLink(from: NodeId, to: NodeId): void {
    this.cutLinks.add(`${from}->${to}`);
  }

  restoreLink(from: NodeId, to: NodeId): void {
    this.cutLinks.delete(`${from}->${to}`);
  }

  heal(): void {
    this.cutLinks.clear();
    const rejoined = [...this.detached];
    this.detached.clear();
    for (const id of rejoined) this.tellDefinition(this.node(id));
    this.replaySuspicions();
  }

  private replaySuspicions(): void {
    const suspicions = this.queuedSuspicions.splice(0);
    for (const { leader, epoch } of suspicions) this.onSuspected(leader, epoch);
  }

  /** The coordinator's first repair step: `id` (a spare or a former replica) becomes a learner. */
  addLearner(id: NodeId): void {
    this.node(id);
    const learners = this.definition.learners ?? [];
    if (learners.includes(id) || this.definition.replicas.includes(id)) return;
    this.changeDefinition({ ...this.definition, learners: [...learners, id] });
  }

  removeLearner(id: NodeId): void {
    const learners = this.definition.learners ?? [];
    if (!learners.includes(id)) return;
    this.changeDefinition({ ...this.definition, learners: learners.filter((learner) => learner !== id) });
  }

  /**
   * The coordinator's second step: `learner` takes `replaced`'s place among the replicas in the
   * next epoch, the leader unchanged (never the one replaced). False when that does not fit the
   * definition. The caller checks the learner caught up and the replaced node is gone, as the
   * coordinator does.
   */
  promoteLearner(learner: NodeId, replaced: NodeId): boolean {
    const definition = this.definition;
    const learners = definition.learners ?? [];
    if (
      !learners.includes(learner) ||
      !definition.replicas.includes(replaced) ||
      replaced === definition.leader
    )
      return false;
    this.changeDefinition({
      ...definition,
      epoch: definition.epoch + 1,
      replicas: definition.replicas.map((node) => (node === replaced ? learner : node)),
      learners: learners.filter((node) => node !== learner),
    });
    return true;
  }

  /** The fake control plane's compare-and-swap: the next epoch, led by `leader`. */
  proposeEpoch(expectedEpoch: number, leader: NodeId): boolean {
    if (this.definition.epoch !== expectedEpoch) return false;
    this.changeDefinition({ ...this.definition, epoch: expectedEpoch + 1, leader });
    return true;
  }

  /** Records of `id`'s log from `fromOffset` (default 0) below `endOffset`, as `epoch/kind/payload` strings. */
  logOf(id: NodeId, endOffset = this.node(id).log.endOffset, fromOffset = 0): string[] {
    const log = this.node(id).log;
    const records: string[] = [];
    for (let offset = fromOffset; offset < endOffset; offset++) {
      const entry = log.entryAt(offset);
      records.push(entry === undefined ? '<missing>' : describeEntry(entry));
    }
    return records;
  }

  private boot(node: SimNode): void {
    const incarnation = node.incarnation;
    node.clock = new NodeClock(this.clock);
    const given = this.givenLogs.get(node.id);
    node.log =
      given === undefined
        ? new MemoryChainLog(node.disk, node.clock, this.syncDelayMs, this.retention)
        : new MirroredChainLog(given);
    node.checkedCommit = 0;
    if (this.retention !== undefined) this.retainEvery(node, node.clock);
    node.replica = new ChainReplica({
      self: node.id,
      definition: node.definition,
      log: node.log,
      clock: node.clock,
      send: (peer, message) => this.send(node.id, incarnation, peer, message),
      onLeaderSuspected: (leader, epoch) => {
        this.suspicions.push({ by: node.id, leader, epoch });
        if (this.detached.has(node.id)) this.queuedSuspicions.push({ leader, epoch });
        else this.clock.setTimer(CONTROL_PLANE_DELAY_MS, () => this.onSuspected(leader, epoch));
      },
    });
  }

  /**
   * The node's retention timer (on its process clock: it stops with the process). Only records
   * the invariant checks have seen committed go, so every committed record is checked once.
   */
  private retainEvery(node: SimNode, clock: NodeClock): void {
    clock.setTimer(RETENTION_INTERVAL_MS, () => {
      const keepFrom = Math.min(node.replica.commitOffset, node.checkedCommit);
      void node.log.applyRetention(clock.wallMs(), keepFrom);
      this.retainEvery(node, clock);
    });
  }

  /** As the real proposer will: the next epoch, led by a healthy replica other than the suspect. */
  private onSuspected(suspect: NodeId, epoch: number): void {
    if (this.definition.epoch !== epoch || !this.automaticFailover) return;
    const candidates = this.definition.replicas.filter((id) => {
      const node = this.node(id);
      return id !== suspect && node.alive && !node.clock.isPaused && !this.detached.has(id);
    });
    if (candidates.length === 0) {
      // Asked again once a replica comes back (as the real proposer retries).
      this.queuedSuspicions.push({ leader: suspect, epoch });
      return;
    }
    const leader = candidates[this.random.nextInt(candidates.length)] as NodeId;
    if (this.proposeEpoch(epoch, leader)) this.epochChanges++;
  }

  private changeDefinition(definition: ChainDefinition): void {
    this.definition = definition;
    for (const node of this.nodes.values()) {
      if (this.detached.has(node.id)) continue;
      this.clock.setTimer(CONTROL_PLANE_DELAY_MS, () => this.tellDefinition(node));
    }
  }

  private tellDefinition(node: SimNode): void {
    if (!node.alive || this.detached.has(node.id)) return;
    const definition = this.definition;
    node.definition = definition;
    this.deliverTo(node, () => node.replica.updateDefinition(definition));
  }

  private deliverTo(node: SimNode, work: () => void): void {
    if (!node.alive) return;
    if (node.clock.isPaused) node.held.push(work);
    else work();
  }

  private send(from: NodeId, incarnation: number, to: NodeId, message: ChainReplicaMessage): void {
    const sender = this.node(from);
    if (!sender.alive || sender.incarnation !== incarnation) return;
    this.messagesSent++;
    if (
      this.cutLinks.has(`${from}->${to}`) ||
      this.dropMessage?.(from, to, message) === true ||
      this.random.chance(this.links.dropProbability)
    ) {
      this.messagesDropped++;
      return;
    }
    const bytes = encodeChainMessage(message);
    const target = this.nodes.get(to);
    if (target === undefined) return;
    const targetIncarnation = target.incarnation;
    const copies = this.random.chance(this.links.duplicateProbability) ? 2 : 1;
    for (let copy = 0; copy < copies; copy++) {
      const delayMs = this.random.nextIntBetween(this.links.minDelayMs, this.links.maxDelayMs) * (copy + 1);
      this.clock.setTimer(delayMs, () => {
        // A restarted process has a new connection: what was in flight to the old one is gone.
        if (!target.alive || target.incarnation !== targetIncarnation) return;
        if (this.cutLinks.has(`${from}->${to}`)) return;
        this.deliverTo(target, () => target.replica.receive(from, decodeChainMessage(bytes)));
      });
    }
  }

  private noteAcknowledged(append: AcknowledgedAppend): void {
    this.acknowledged.push(append);
    const known = this.acknowledgingLeader.get(append.result.epoch);
    if (known !== undefined && known !== append.node) {
      this.violations.push(
        `epoch ${append.result.epoch}: appends acknowledged by ${known} and by ${append.node}`,
      );
    }
    this.acknowledgingLeader.set(append.result.epoch, append.node);
  }

  /**
   * Every replica's committed prefix agrees with every other's, and commit offsets never go back
   * (with acks `one`: no two records committed at one offset in one epoch).
   */
  private checkCommittedPrefixes(): void {
    for (const node of this.nodes.values()) {
      if (!node.alive) continue;
      const commitOffset = node.replica.commitOffset;
      if (commitOffset < node.checkedCommit && this.definition.acks !== 'one') {
        this.violations.push(
          `node ${node.id}: commit offset went back from ${node.checkedCommit} to ${commitOffset}`,
        );
      }
      // Below the log's start: dropped by retention, checked before (or restarted past: joined at a leader's start).
      for (let offset = Math.max(node.checkedCommit, node.log.startOffset); offset < commitOffset; offset++) {
        const entry = node.log.entryAt(offset);
        const seen = entry === undefined ? '<missing>' : describeEntry(entry);
        const key = this.definition.acks === 'one' ? `${offset}@${entry?.epoch ?? 0}` : `${offset}`;
        const first = this.committed.get(key);
        if (first === undefined) this.committed.set(key, seen);
        else if (first !== seen) {
          this.violations.push(
            `offset ${offset}: committed as ${first} elsewhere, as ${seen} on node ${node.id}`,
          );
        }
      }
      node.checkedCommit = commitOffset;
    }
  }
}
