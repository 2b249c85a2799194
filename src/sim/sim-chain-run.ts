import type { AcksPolicy, ChainReplicaMessage, HostedReplica } from '../chains/index.js';
import { assert, type NodeId, type Random } from '../lib/index.js';
import { type ChainAppendOperation, chainReplicaProblems, type ReplicaRecord } from './chain-history.js';
import { ChainInvariants, type ChainProblem } from './chain-invariants.js';
import type { Scheduler } from './scheduler.js';
import {
  CHAIN_APPEND_TIMEOUT_MS,
  ChainAppender,
  type ChainClientEnvironment,
  ChainCreator,
  type ChainPlan,
  operationOf,
} from './sim-chain-workload.js';
import { type ChainServices, SimChains } from './sim-chains.js';
import { chainFrameKind, SimChannelLinks } from './sim-channel-links.js';
import type { SimNetwork } from './sim-network.js';
import type { SimNode } from './sim-node.js';
import type { SimRequestChannels } from './sim-request-channels.js';
import type { Trace } from './trace.js';

/** Chains of a run, each with this many appenders. */
const CHAIN_COUNT = 3;
const APPENDERS_PER_CHAIN = 2;
/** Replicas per chain (fewer on a smaller cluster). */
const CHAIN_REPLICAS = 3;
/** After healing, each chain must acknowledge a fresh append within this long. */
const CHAIN_LIVENESS_BOUND_US = 15_000_000;
const CHAIN_PROBE_INTERVAL_US = 100_000;
/** Appenders get this long to finish what they started after healing. */
const CHAIN_SETTLE_BOUND_US = 5_000_000;
/** Every replica must reach its leader's log and commit offset within this long after the probes. */
const CHAIN_CONVERGE_BOUND_US = 10_000_000;
/**
 * Every so often in the fault phase a chain's leader is cut off for longer than followers wait
 * before they suspect it (`LEADER_STALE_MS`), so the chain fails over while the old leader
 * still runs: the fencing by epochs and the lease must keep it from acknowledging.
 */
const CHAIN_ISOLATION_EVERY_MIN_US = 1_000_000;
const CHAIN_ISOLATION_EVERY_MAX_US = 3_000_000;
const CHAIN_ISOLATION_MIN_US = 1_200_000;
const CHAIN_ISOLATION_MAX_US = 3_000_000;
/** Records read per step when a replica's committed prefix is checked. */
const CHECK_READ_RECORDS = 4_096;
const CHECK_READ_BYTES = 64 * 1024 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What the simulation lends a part of a run (the chains, the daemons). */
export interface RunPartEnvironment {
  readonly scheduler: Scheduler;
  readonly network: SimNetwork;
  readonly channels: SimRequestChannels;
  /** Filled once the machines are built. */
  readonly nodes: readonly SimNode[];
  readonly random: Random;
  readonly trace: Trace;
  fail(invariant: string, message: string): void;
  runUntil(done: () => boolean, untilUs: number): Promise<void>;
  /** Cuts a node off from all others for a while (the chaos's partition, counted as one). */
  isolate(node: NodeId, durationUs: number): void;
}

/** What the simulation lends the chains part of a run. */
export interface ChainRunEnvironment extends RunPartEnvironment {
  readonly unsafeAcknowledgeAlone: boolean;
  /** What each process runs on its chains (the daemons part of a run). */
  readonly services?: ChainServices;
}

export interface ChainRunReport {
  readonly chains: readonly ChainPlan[];
  /** Appends acknowledged to the replicas' callers (batches). */
  readonly acknowledgements: number;
  /** Values acknowledged to appenders (`ok` in the history). */
  readonly acknowledgedValues: number;
  readonly committedOffsetsCompared: number;
  /** The highest epoch any chain reached. */
  readonly highestEpoch: number;
  /** Chain leaders cut off past the followers' patience by the chain chaos. */
  readonly chainLeaderIsolations: number;
  readonly history: readonly ChainAppendOperation[];
}

/**
 * The chains part of a simulated run (docs/SIMULATION.md "Chains"): the production chain host
 * on every machine (`SimChains`), chains created through the nodes' chain requests, appenders
 * recording a history, the checks while the run goes, a liveness phase after healing, and the
 * end check of every replica's copy against the history.
 */
export class ChainRun {
  readonly chains: SimChains;
  readonly history: ChainAppendOperation[] = [];
  private readonly plans: ChainPlan[] = [];
  private readonly invariants = new ChainInvariants();
  private readonly appenders: ChainAppender[] = [];
  private readonly creator: ChainCreator;
  private readonly client: ChainClientEnvironment;
  /** How far each open replica's committed prefix was checked. */
  private readonly checkedUpTo = new WeakMap<HostedReplica<ChainReplicaMessage>, number>();
  private readonly checking = new WeakSet<HostedReplica<ChainReplicaMessage>>();
  private highestEpoch = 0;
  private chaosActive = false;
  private chainIsolations = 0;

  constructor(private readonly environment: ChainRunEnvironment) {
    const { random, scheduler } = environment;
    const links = new SimChannelLinks(scheduler, environment.network, 'chains', chainFrameKind);
    const nodeIds = (): NodeId[] => environment.nodes.map((node) => node.id);
    this.chains = new SimChains({
      scheduler,
      links,
      isUp: (node) => environment.nodes[node - 1]?.process !== undefined,
      place: async ({ name }) => {
        const plan = this.plans.find((candidate) => candidate.name === name);
        assert(plan !== undefined, () => `no plan for chain ${name}`);
        return { replicas: plan.replicas, leader: plan.leader };
      },
      observer: {
        onAcknowledged: (chain, node, append) => {
          this.highestEpoch = Math.max(this.highestEpoch, append.epoch);
          this.report(this.invariants.onAcknowledged(chain, node, append.epoch));
        },
      },
      random: random.fork('matrix'),
      unsafeAcknowledgeAlone: environment.unsafeAcknowledgeAlone,
      ...(environment.services === undefined ? {} : { services: environment.services }),
    });
    this.client = {
      scheduler,
      get nodeIds() {
        return nodeIds();
      },
      chainsOf: (process) => this.chains.processOf(process.life.node),
      request: (node, work, answer) => environment.channels.requestProcess(node, work, answer, true),
      record: (operation) => {
        this.history.push(operation);
        environment.trace.record(JSON.stringify(operation));
      },
      trace: (line) => environment.trace.record(line),
    };
    this.creator = new ChainCreator(this.client, this.plans, random.fork('creator'));
  }

  /** Draws the chains (names, acks, placement) once the machines exist. */
  plan(): void {
    const random = this.environment.random.fork('plans');
    const ids = this.environment.nodes.map((node) => node.id);
    this.chains.setNodes(ids);
    for (let index = 0; index < CHAIN_COUNT; index++) {
      const shuffled = [...ids];
      for (let at = shuffled.length - 1; at > 0; at--) {
        const other = random.nextInt(at + 1);
        [shuffled[at], shuffled[other]] = [shuffled[other]!, shuffled[at]!];
      }
      const replicas = shuffled.slice(0, Math.min(CHAIN_REPLICAS, ids.length));
      const acks: AcksPolicy = random.chance(0.5) ? 'quorum' : 'all';
      this.plans.push({ name: `chain-${index}`, acks, replicas, leader: replicas[0]! });
    }
    this.environment.trace.record(`chains ${JSON.stringify(this.plans)}`);
    for (const [index, plan] of this.plans.entries())
      for (let appender = 0; appender < APPENDERS_PER_CHAIN; appender++) {
        const client = index * APPENDERS_PER_CHAIN + appender;
        this.appenders.push(
          new ChainAppender(
            client,
            plan.name,
            this.client,
            this.environment.random.fork(`appender-${client}`),
          ),
        );
      }
  }

  /** Creates the chains through the nodes' chain requests (before the faults begin). */
  create(): void {
    this.creator.start();
  }

  get created(): boolean {
    return this.creator.done;
  }

  /** The fault phase's workload and chain chaos: appenders start, chain leaders get cut off. */
  start(): void {
    for (const appender of this.appenders) appender.start();
    this.chaosActive = true;
    this.scheduleIsolation(this.environment.random.fork('chain-isolation'));
  }

  private scheduleIsolation(random: Random): void {
    const { scheduler } = this.environment;
    scheduler.schedule(
      random.nextIntBetween(CHAIN_ISOLATION_EVERY_MIN_US, CHAIN_ISOLATION_EVERY_MAX_US),
      'chain chaos',
      () => {
        if (!this.chaosActive) return;
        const leaders = this.leaderNodes();
        const target = leaders[random.nextInt(Math.max(1, leaders.length))];
        if (target !== undefined) {
          this.chainIsolations++;
          this.environment.trace.record(`chain chaos: isolate chain leader ${target}`);
          this.environment.isolate(
            target,
            random.nextIntBetween(CHAIN_ISOLATION_MIN_US, CHAIN_ISOLATION_MAX_US),
          );
        }
        this.scheduleIsolation(random);
      },
    );
  }

  /** Faults are over: appenders finish what they started and stop. */
  heal(): void {
    this.chaosActive = false;
    for (const appender of this.appenders) appender.running = false;
  }

  private report(problem: ChainProblem | undefined): void {
    if (problem !== undefined) this.environment.fail(problem.invariant, problem.message);
  }

  /** The running replicas: node, chain name and replica. */
  private *openReplicas(): Generator<[NodeId, string, HostedReplica<ChainReplicaMessage>]> {
    for (const node of this.environment.nodes) {
      const process = node.process;
      const chains = process === undefined ? undefined : this.chains.processOf(node.id);
      if (
        process === undefined ||
        chains === undefined ||
        process.life.pausedUntilUs > this.environment.scheduler.nowUs
      )
        continue;
      for (const [name, replica] of chains.host.replicas()) yield [node.id, name, replica];
    }
  }

  /** The checks while the run goes: one leader per epoch, committed prefixes agree. */
  check(): void {
    for (const [node, name, replica] of this.openReplicas()) {
      const status = replica.status();
      if (status.leading) this.report(this.invariants.onLeading(name, node, status.epoch));
      this.highestEpoch = Math.max(this.highestEpoch, status.epoch);
      if (!this.checking.has(replica)) void this.checkCommitted(node, name, replica);
    }
  }

  /** Reads what `replica` committed since its last check and compares it with the others'. */
  private async checkCommitted(
    node: NodeId,
    name: string,
    replica: HostedReplica<ChainReplicaMessage>,
  ): Promise<void> {
    this.checking.add(replica);
    try {
      let from = this.checkedUpTo.get(replica) ?? replica.status().startOffset;
      const commit = replica.commitOffset;
      while (from < commit) {
        const count = Math.min(commit - from, CHECK_READ_RECORDS);
        const entries = await replica.read(from, count, CHECK_READ_BYTES);
        const to = from + count;
        this.report(
          this.invariants.onCommittedRange(
            name,
            node,
            from,
            to,
            entries.filter((entry) => entry.offset < to),
          ),
        );
        from = to;
        this.checkedUpTo.set(replica, from);
      }
    } catch {
      // A replica closed or failed under the read: its next incarnation is checked afresh.
    } finally {
      this.checking.delete(replica);
    }
  }

  /**
   * After healing: appenders finish, every chain exists and acknowledges a fresh append, and
   * every replica reaches its leader's log and commit offset.
   */
  async liveness(): Promise<void> {
    const { environment } = this;
    const idle = (): boolean => this.appenders.every((appender) => appender.idle);
    await environment.runUntil(idle, environment.scheduler.nowUs + CHAIN_SETTLE_BOUND_US);
    if (!idle()) {
      environment.fail('chain-liveness', 'chain appends still unfinished long after healing');
      return;
    }
    for (const plan of this.plans) {
      if (!(await this.probe(plan.name))) {
        environment.fail(
          'chain-liveness',
          `chain ${plan.name} acknowledged no append within ${CHAIN_LIVENESS_BOUND_US} us of healing: ${this.describeProgress()}`,
        );
        return;
      }
    }
    await environment.runUntil(() => this.converged(), environment.scheduler.nowUs + CHAIN_CONVERGE_BOUND_US);
    if (!this.converged())
      environment.fail('chain-liveness', `chain replicas did not converge: ${this.describeProgress()}`);
  }

  /** Appends a probe through each node in turn until one is acknowledged. */
  private async probe(name: string): Promise<boolean> {
    const { environment } = this;
    const scheduler = environment.scheduler;
    let acknowledged = false;
    let inFlight = false;
    let attempt = 0;
    const deadline = scheduler.nowUs + CHAIN_LIVENESS_BOUND_US;
    const tryOnce = (): void => {
      if (acknowledged || scheduler.nowUs >= deadline) return;
      const nodes = environment.nodes;
      const node = nodes[attempt % nodes.length]!;
      const chains = this.chains.processOf(node.id);
      if (!inFlight && chains !== undefined) {
        inFlight = true;
        attempt++;
        const value = `probe-${name}-${attempt}`;
        const callTs = scheduler.nowUs * 1_000;
        chains.requests.append(name, [encoder.encode(value)], CHAIN_APPEND_TIMEOUT_MS).then(
          (result) => {
            acknowledged = true;
            this.client.record(
              operationOf(-1, name, value, 0, { ok: true, value: result }, callTs, scheduler.nowUs * 1_000),
            );
          },
          (error: unknown) => {
            inFlight = false;
            this.client.record(
              operationOf(-1, name, value, 0, { ok: false, error }, callTs, scheduler.nowUs * 1_000),
            );
          },
        );
      } else if (chains === undefined) attempt++;
      scheduler.schedule(CHAIN_PROBE_INTERVAL_US, 'chain liveness probe', tryOnce);
    };
    tryOnce();
    await environment.runUntil(() => acknowledged, deadline);
    return acknowledged;
  }

  /** The nodes whose replica leads a chain now (the chaos aims at them too). */
  leaderNodes(): NodeId[] {
    const nodes = new Set<NodeId>();
    for (const [node, , replica] of this.openReplicas()) if (replica.status().leading) nodes.add(node);
    return [...nodes].sort((left, right) => left - right);
  }

  /** Each chain's leader: the replica leading the highest epoch. */
  private leaders(): Map<string, HostedReplica<ChainReplicaMessage>> {
    const best = new Map<string, { epoch: number; replica: HostedReplica<ChainReplicaMessage> }>();
    for (const [, name, replica] of this.openReplicas()) {
      const status = replica.status();
      if (!status.leading) continue;
      const known = best.get(name);
      if (known === undefined || status.epoch > known.epoch) best.set(name, { epoch: status.epoch, replica });
    }
    return new Map([...best].map(([name, { replica }]) => [name, replica]));
  }

  /** Every replica of every chain, per node, as the chain's definition names them. */
  private replicasOf(name: string): Map<NodeId, HostedReplica<ChainReplicaMessage> | undefined> {
    const plan = this.plans.find((candidate) => candidate.name === name);
    const replicas = new Map<NodeId, HostedReplica<ChainReplicaMessage> | undefined>();
    let definitionReplicas: readonly NodeId[] = plan?.replicas ?? [];
    for (const node of this.environment.nodes) {
      const definition = this.chains.processOf(node.id)?.host.definition(name);
      if (definition !== undefined) definitionReplicas = definition.replicas;
    }
    for (const node of definitionReplicas)
      replicas.set(node, this.chains.processOf(node)?.host.replica(name));
    return replicas;
  }

  private converged(): boolean {
    const leaders = this.leaders();
    for (const plan of this.plans) {
      const leader = leaders.get(plan.name);
      if (leader === undefined) return false;
      const target = leader.status();
      if (target.commitOffset !== target.endOffset) return false;
      for (const [, replica] of this.replicasOf(plan.name)) {
        if (replica === undefined) return false;
        const status = replica.status();
        if (status.endOffset !== target.endOffset || status.commitOffset !== target.commitOffset)
          return false;
      }
    }
    return true;
  }

  private describeProgress(): string {
    const leaders = this.leaders();
    return this.plans
      .map((plan) => {
        const leader = leaders.get(plan.name)?.status();
        const replicas = [...this.replicasOf(plan.name)].map(([node, replica]) => {
          const status = replica?.status();
          return status === undefined
            ? `${node}:closed`
            : `${node}:end ${status.endOffset} commit ${status.commitOffset} epoch ${status.epoch}`;
        });
        return `${plan.name} leader ${leader === undefined ? 'none' : `epoch ${leader.epoch} end ${leader.endOffset} commit ${leader.commitOffset}`} [${replicas.join(', ')}]`;
      })
      .join('; ');
  }

  /** Every replica's copy against the history: one order, exactly once, acknowledged never lost. */
  async endChecks(): Promise<void> {
    for (const plan of this.plans) {
      const copies = new Map<string, ReplicaRecord[]>();
      for (const [node, replica] of this.replicasOf(plan.name)) {
        if (replica === undefined) continue;
        copies.set(`node-${node}`, await readCommitted(replica));
      }
      const problems = chainReplicaProblems(plan.name, this.history, copies);
      if (problems.length > 0) {
        this.environment.fail('chain-acknowledged-appends', problems.slice(0, 5).join('; '));
        return;
      }
    }
  }

  result(): ChainRunReport {
    return {
      chains: this.plans,
      acknowledgements: this.invariants.acknowledgements,
      acknowledgedValues: this.history.filter((operation) => operation.status === 'ok').length,
      committedOffsetsCompared: this.invariants.committedOffsetsCompared,
      highestEpoch: this.highestEpoch,
      chainLeaderIsolations: this.chainIsolations,
      history: this.history,
    };
  }
}

/** Every committed data record of a replica, in offset order. */
async function readCommitted(replica: HostedReplica<ChainReplicaMessage>): Promise<ReplicaRecord[]> {
  const records: ReplicaRecord[] = [];
  let from = replica.status().startOffset;
  for (;;) {
    const entries = await replica.read(from, CHECK_READ_RECORDS, CHECK_READ_BYTES);
    const last = entries[entries.length - 1];
    if (last === undefined) return records;
    for (const entry of entries) records.push({ offset: entry.offset, value: decoder.decode(entry.payload) });
    from = last.offset + 1;
  }
}
