import { CONTROL_CALL_TIMEOUT_MS } from '../control/limits.js';
import { type Random, SeededRandom } from '../lib/index.js';
import type { Entry, NodeId } from '../raft/index.js';
import type { NodeStateMachine } from '../server/index.js';
import { readDurableLog } from './durable-log.js';
import {
  deriveFaultPlan,
  emptyFaultCounts,
  FAULT_NAMES,
  type FaultCounts,
  type FaultName,
  type FaultPlan,
} from './fault-plan.js';
import { HostTimerGuard } from './host-timer-guard.js';
import type { Life } from './incarnation.js';
import { InvariantChecker } from './invariants.js';
import { type CheckResult, checkHistory, type HistoryOperation } from './linearizability/index.js';
import { MicrotaskDrain } from './microtasks.js';
import { compareReplicas, hashBytes, type ReplicaComparison } from './replica-check.js';
import { Scheduler } from './scheduler.js';
import { ChainRun, type ChainRunReport } from './sim-chain-run.js';
import { SimChaos } from './sim-chaos.js';
import { CLIENT_ATTEMPT_TIMEOUT_US, SimClient } from './sim-client.js';
import type { SimDaemonGroup } from './sim-daemon-plans.js';
import { DAEMON_DEPLOY_BOUND_US, DaemonRun, type DaemonRunReport } from './sim-daemon-run.js';
import type { UnsafeMemberReads } from './sim-daemons.js';
import { SimNetwork } from './sim-network.js';
import { DATA_DIRECTORY, type NodeObserver, type NodeSettings, SimNode } from './sim-node.js';
import { SimPeerLinks } from './sim-peer-links.js';
import { SimRequestChannels } from './sim-request-channels.js';
import { Trace } from './trace.js';

export const DEFAULT_STEPS = 20_000;
const DEFAULT_CLIENT_COUNT = 4;
const DEFAULT_TRACE_LINES = 2_000;
/** The fault phase also ends after this much simulated time, whatever the event count. */
const FAULT_PHASE_MAX_US = 30_000_000;
/** After faults stop, a leader must commit a new write within this long. */
const LIVENESS_BOUND_US = 10_000_000;
const LIVENESS_PROBE_INTERVAL_US = 50_000;
/** In-flight client operations get this long to finish after the liveness write. */
const SETTLE_BOUND_US = 5_000_000;
/** Replicas get this long to apply everything committed before their states are compared. */
const CONVERGE_BOUND_US = 5_000_000;
/**
 * More when daemons run: a node stopping gracefully when the run heals first closes its daemons
 * service, whose coordinator waits for its control-plane calls in flight (a failover's
 * compare-and-swap, the seat's lease revoke), each bounded by `CONTROL_CALL_TIMEOUT_MS`.
 */
const DAEMON_CONVERGE_EXTRA_US = CONTROL_CALL_TIMEOUT_MS * 1_000;
/**
 * Events allowed from healing to the end. A healthy cluster needs a fraction of this (ticks,
 * heartbeats and the last operations over at most 20 s simulated); more is a message storm.
 */
const HEALED_PHASE_MAX_EVENTS = 100_000;
/** Share of the chaos's leader crashes and cut-offs aimed at a chain's leader when chains run. */
const CHAIN_LEADER_TARGET_PROBABILITY = 0.5;
/** Chains are created before the faults begin; this long at most. */
const CHAIN_CREATE_BOUND_US = 10_000_000;
/** More events allowed after healing when chains run (their heartbeats, probes and catch-up). */
const CHAIN_HEALED_PHASE_EXTRA_EVENTS = 200_000;
/** Longest gap between two chaos actions when daemons run (see `pacedForDaemons`). */
const DAEMON_CHAOS_INTERVAL_MAX_US = 2_000_000;
/** More again when daemons run (senders finishing, probes, members catching up). */
const DAEMON_HEALED_PHASE_EXTRA_EVENTS = 200_000;
/**
 * Promise continuations one event may set off. The busiest events run a few thousand (a
 * snapshot install, a chain's catch-up); millions mean a loop that awaits only promises.
 */
const MAX_CONTINUATIONS_PER_EVENT = 2_000_000;
/** Every this many events, leaders' replication progress is compared with their followers' logs. */
const PROGRESS_CHECK_EVERY_EVENTS = 1_000;
/** Every this many indexes, each replica's serialized state is hashed and compared. */
const CHECKPOINT_EVERY_ENTRIES = 16;
/** Search budget per key for the history check. */
const LINEARIZABILITY_STEPS_PER_KEY = 1_000_000;
const KEYS = ['k0', 'k1', 'k2', 'k3'] as const;
const LIVENESS_KEY = 'liveness';
const TICK_INTERVAL_MS = 10;
const ELECTION_TICKS = 10;
const HEARTBEAT_TICKS = 3;

export interface SimulationOptions {
  readonly seed: number;
  /** Events in the fault phase. */
  readonly steps?: number;
  /** 3 or 5; drawn from the seed when absent. */
  readonly nodeCount?: number;
  readonly clientCount?: number;
  readonly faults?: readonly FaultName[];
  /** Trace lines kept for the failure artifact (the digest covers all). */
  readonly traceLines?: number;
  /**
   * Probability that a client write is delivered again later (a retransmitting proxy or a
   * forward that outlived its timeout). Off by default: see docs/SIMULATION.md.
   */
  readonly requestReplayProbability?: number;
  /** Followers forward writes to the leader over the simulated network; drawn from the seed when absent. */
  readonly forwardWrites?: boolean;
  /** Whether a sender learns that the network lost its message (default true, as over TCP). */
  readonly reportLostMessages?: boolean;
  /** Check the history at the end (default true; benchmarks of the simulator turn it off). */
  readonly checkLinearizability?: boolean;
  /** Self-test: disks acknowledge fsyncs without making writes durable (the checks must catch it). */
  readonly unsafeDiskIgnoresSyncs?: boolean;
  /** Self-test: leaders commit older-term entries by counting replicas (figure 8). */
  readonly unsafeCommitByCountingOlderTerms?: boolean;
  /**
   * Largest append message in bytes; drawn from the seed when absent. 1 sends entries one
   * at a time, which the figure-8 self-test needs: batched appends hide the broken rule.
   */
  readonly maxAppendBytes?: number;
  /** Self-test: clients read serializably, from one node's local state, skipping ReadIndex. */
  readonly unsafeLocalReads?: boolean;
  /**
   * Run chains beside the Raft KV (docs/SIMULATION.md "Chains"): the production chain host on
   * every machine, its control plane the simulated Raft KV, appenders and the chain checks.
   */
  readonly chains?: boolean;
  /** Self-test (with `chains`): replicas acknowledge appends alone, whatever the acks policy. */
  readonly unsafeChainAcks?: boolean;
  /**
   * Run deployed daemons on the chains (docs/SIMULATION.md "Daemons"; implies `chains`): the
   * production daemons service on every machine, standby groups, senders and the daemon checks.
   */
  readonly daemons?: boolean;
  /** Self-test (implies `daemons`): members read their inbound chain with a safety rule broken. */
  readonly unsafeDaemonReads?: UnsafeMemberReads;
  /**
   * The daemon group kinds deployed (implies `daemons`; default standby groups only):
   * docs/SIMULATION.md "Daemons".
   */
  readonly daemonGroups?: readonly SimDaemonGroup[];
}

export interface Violation {
  readonly invariant: string;
  readonly message: string;
  readonly atUs: number;
}

export interface SimulationResult {
  readonly seed: number;
  readonly nodeCount: number;
  readonly events: number;
  readonly simulatedUs: number;
  /** Highest index applied anywhere. */
  readonly commits: number;
  readonly applies: number;
  readonly crashes: number;
  readonly gracefulStops: number;
  /** Liveness-probe writes that got no answer within a client timeout (see docs). */
  readonly unansweredProbes: number;
  readonly leadershipTransfers: number;
  readonly checkpointsCompared: number;
  /** Times a node's log was read back from its disk for log matching and leader completeness. */
  readonly durableLogsRead: number;
  /** Replayed client writes the nodes refused as older than their session's latest. */
  readonly staleRequestsRefused: number;
  readonly violation: Violation | undefined;
  readonly faultCounts: FaultCounts;
  readonly history: readonly HistoryOperation[];
  readonly linearizability: CheckResult | undefined;
  readonly replicas: ReplicaComparison | undefined;
  readonly traceDigest: string;
  readonly trace: Trace;
  readonly settings: NodeSettings;
  readonly forwardWrites: boolean;
  /** The chains part of the run, when it ran chains. */
  readonly chains: ChainRunReport | undefined;
  /** The daemons part of the run, when it ran daemons. */
  readonly daemons: DaemonRunReport | undefined;
}

/** Whether a run deploys daemons: asked for, or implied by a daemons self-test or group kinds. */
function runsDaemons(options: SimulationOptions): boolean {
  return (
    options.daemons === true || options.unsafeDaemonReads !== undefined || options.daemonGroups !== undefined
  );
}

/**
 * The fault plan of a run with daemons: the same knobs, at a daemon's pace. A failover takes a
 * suspicion delay, a compare-and-swap and a chain append (about a second), so the chaos acts
 * about once a second rather than every 50-800 ms, and the churn aimed at Raft's narrowest
 * windows (new leaders crashed or cut off within milliseconds) is left to the runs without
 * daemons: under it the control plane is down most of the time and no event gets through.
 */
function pacedForDaemons(plan: FaultPlan): FaultPlan {
  return {
    ...plan,
    churn: false,
    chaosIntervalMaxUs: DAEMON_CHAOS_INTERVAL_MAX_US,
    leaderCrashProbability: 0,
    leaderIsolateProbability: 0,
    partialBroadcastProbability: 0,
  };
}

function drawSettings(random: Random, plan: FaultPlan, options: SimulationOptions): NodeSettings {
  const snapshotChoices = [8, 32, 200, 100_000];
  const appendChoices = [1, 128, 1_024, undefined, undefined];
  return {
    tickIntervalMs: TICK_INTERVAL_MS,
    electionTicks: ELECTION_TICKS,
    heartbeatTicks: HEARTBEAT_TICKS,
    snapshotEveryEntries: snapshotChoices[random.nextInt(snapshotChoices.length)]!,
    logEntriesKeptAfterSnapshot: random.nextIntBetween(0, 10),
    maxAppendBytes: options.maxAppendBytes ?? appendChoices[random.nextInt(appendChoices.length)],
    slowFsyncProbability: plan.slowFsyncProbability,
    ...(options.unsafeDiskIgnoresSyncs === true ? { unsafeDiskIgnoresSyncs: true } : {}),
    ...(options.unsafeCommitByCountingOlderTerms === true ? { unsafeCommitByCountingOlderTerms: true } : {}),
  };
}

/**
 * A seeded run of the production node code (`RaftNode`, `NodeStateMachine`,
 * `RaftKvBackend`, the real log store) on the simulator's clock, network and memory disks,
 * in named phases: set-up (constructor), the fault phase, the liveness phase (healed), the
 * end checks, and the report.
 */
export class Simulation {
  readonly seed: number;
  readonly scheduler: Scheduler;
  readonly trace: Trace;
  readonly nodes: SimNode[] = [];
  readonly history: HistoryOperation[] = [];
  readonly counts = emptyFaultCounts();
  readonly settings: NodeSettings;
  readonly nodeCount: number;
  readonly forwardWrites: boolean;
  private readonly root: SeededRandom;
  private readonly plan: FaultPlan;
  private readonly network: SimNetwork;
  private readonly links: SimPeerLinks;
  private readonly channels: SimRequestChannels;
  private readonly chaos: SimChaos;
  private readonly chainRun: ChainRun | undefined;
  private readonly daemonRun: DaemonRun | undefined;
  private readonly chainChaosRandom: Random;
  private readonly invariants = new InvariantChecker();
  private readonly clients: SimClient[] = [];
  private readonly checkpoints = new Map<number, { hash: number; node: NodeId }>();
  /** Terms whose leader's log was already read back from its disk. */
  private readonly establishedTerms = new Set<number>();
  private durableLogsRead = 0;
  private checkpointsCompared = 0;
  private violation: Violation | undefined;
  /** Events allowed in all; set when the run heals. */
  private eventLimit = Number.POSITIVE_INFINITY;
  private unansweredProbes = 0;
  private linearizability: CheckResult | undefined;
  private replicas: ReplicaComparison | undefined;
  /** Set while the run goes (see `run`). */
  private microtasks: MicrotaskDrain | undefined;

  /** Set-up: draws the run's shape from the seed and builds machines, network and clients. */
  constructor(private readonly options: SimulationOptions) {
    this.seed = options.seed;
    this.root = new SeededRandom(options.seed);
    this.trace = new Trace(options.traceLines ?? DEFAULT_TRACE_LINES);
    this.scheduler = new Scheduler(this.trace);
    this.nodeCount = options.nodeCount ?? (this.root.fork('shape').chance(0.5) ? 3 : 5);
    const plan = deriveFaultPlan(this.root.fork('fault-plan'), options.faults ?? FAULT_NAMES, this.nodeCount);
    this.plan = runsDaemons(options) ? pacedForDaemons(plan) : plan;
    this.counts['clock-drift'] = this.plan.tickRateByNode.filter((rate) => rate !== 1).length;
    this.settings = drawSettings(this.root.fork('settings'), this.plan, options);
    this.links = new SimPeerLinks(this.scheduler, options.reportLostMessages ?? true);
    this.network = new SimNetwork(
      this.scheduler,
      this.root.fork('network'),
      this.plan,
      this.counts,
      (message) => this.links.deliver(message),
      (message) => this.links.lost(message),
    );
    this.links.attach(this.network);
    this.chaos = new SimChaos(
      {
        scheduler: this.scheduler,
        network: this.network,
        nodes: this.nodes,
        plan: this.plan,
        counts: this.counts,
        trace: this.trace,
        leader: () => this.chaosLeader(),
      },
      this.root.fork('chaos'),
    );
    this.links.onSent = (message) => this.chaos.onMessageSent(message);
    this.channels = new SimRequestChannels(
      this.scheduler,
      this.network,
      (id) => this.node(id).process,
      this.root.fork('replay'),
      options.requestReplayProbability ?? 0,
      this.counts,
    );
    const daemons = runsDaemons(options);
    const chains = options.chains === true || daemons;
    // The chains' control plane writes from every node: followers must forward them.
    this.forwardWrites = options.forwardWrites ?? (chains || this.root.fork('forward').chance(0.5));
    this.chainChaosRandom = this.root.fork('chain-chaos');
    this.daemonRun = daemons ? this.newDaemonRun(options.unsafeDaemonReads, options.daemonGroups) : undefined;
    this.chainRun = chains
      ? new ChainRun({
          scheduler: this.scheduler,
          network: this.network,
          channels: this.channels,
          nodes: this.nodes,
          random: this.root.fork('chains'),
          trace: this.trace,
          unsafeAcknowledgeAlone: options.unsafeChainAcks === true,
          fail: (invariant, message) => this.fail(invariant, message),
          runUntil: (done, untilUs) => this.runUntil(done, untilUs),
          isolate: (node, durationUs) => this.chaos.isolate(node, durationUs),
          ...(this.daemonRun === undefined ? {} : { services: this.daemonRun.daemons }),
        })
      : undefined;
    this.buildNodes();
    this.chainRun?.plan();
    this.daemonRun?.plan();
    this.buildClients();
    this.trace.record(
      `seed=${this.seed} nodes=${this.nodeCount} churn=${this.plan.churn} faults=${[...this.plan.enabled].join(',')} forward=${this.forwardWrites} ${this.chainRun === undefined ? '' : 'chains=on '}${this.daemonRun === undefined ? '' : 'daemons=on '}settings=${JSON.stringify(this.settings)}`,
    );
  }

  private newDaemonRun(
    unsafeMemberReads: UnsafeMemberReads | undefined,
    groups: readonly SimDaemonGroup[] | undefined,
  ): DaemonRun {
    return new DaemonRun({
      ...(groups === undefined ? {} : { groups }),
      scheduler: this.scheduler,
      network: this.network,
      channels: this.channels,
      nodes: this.nodes,
      random: this.root.fork('daemons'),
      trace: this.trace,
      ...(unsafeMemberReads === undefined ? {} : { unsafeMemberReads }),
      rttMs: (from, to) => this.chainRun?.chains.rttMs(from, to) ?? 1,
      chainsOf: (node) => this.chainRun?.chains.processOf(node),
      fail: (invariant, message) => this.fail(invariant, message),
      runUntil: (done, untilUs) => this.runUntil(done, untilUs),
      isolate: (node, durationUs) => this.chaos.isolate(node, durationUs),
      pause: (node, durationUs) => this.chaos.pauseFor(this.node(node), durationUs),
      crash: (node) => this.chaos.crash(this.node(node), 'crash'),
    });
  }

  private buildNodes(): void {
    const voters: NodeId[] = [];
    for (let id = 1; id <= this.nodeCount; id++) voters.push(id);
    const observer = this.observer();
    const forwardFor = this.forwardWrites ? (life: Life) => this.channels.forwardChannel(life) : undefined;
    for (const id of voters) {
      this.nodes.push(
        new SimNode(
          id,
          voters,
          this.scheduler,
          this.links,
          this.root.fork(`node-${id}`),
          this.settings,
          this.plan.tickRateByNode[id - 1] ?? 1,
          observer,
          forwardFor,
          this.chainRun?.chains,
        ),
      );
    }
  }

  private buildClients(): void {
    const clientCount = this.options.clientCount ?? DEFAULT_CLIENT_COUNT;
    for (let index = 0; index < clientCount; index++) {
      this.clients.push(
        new SimClient(
          index,
          {
            scheduler: this.scheduler,
            nodeIds: this.nodes.map((node) => node.id),
            keys: KEYS,
            unsafeLocalReads: this.options.unsafeLocalReads === true,
            request: (node, work, answer, isWrite) => this.channels.request(node, work, answer, isWrite),
            record: (operation) => this.recordOperation(operation),
          },
          this.root.fork(`client-${index}`),
        ),
      );
    }
  }

  private fail(invariant: string, message: string): void {
    if (this.violation !== undefined) return;
    this.violation = { invariant, message, atUs: this.scheduler.nowUs };
    this.trace.record(`violation ${invariant}: ${message}`);
  }

  /** Calls into the checker from inside production callbacks must never throw into them. */
  private guarded(action: () => void): void {
    try {
      action();
    } catch (error) {
      const invariant = (error as { invariant?: string }).invariant ?? 'internal';
      this.fail(invariant, error instanceof Error ? error.message : String(error));
    }
  }

  private observer(): NodeObserver {
    return {
      onLeader: (node, term) => {
        this.trace.record(`leader ${node} term ${term}`);
        this.guarded(() => this.invariants.onLeader(node, term));
        this.chaos.onLeaderElected(this.node(node));
      },
      onApply: (node, entry) => this.onApply(node, entry),
      afterApply: (node, entry, machine) => this.checkpoint(node, entry, machine),
      onApplyFailure: (node, entry, error) =>
        this.fail(
          'apply-failure',
          `node ${node} threw while applying index ${entry.index} (term ${entry.term}) and stopped for good: ${
            error instanceof Error
              ? `${(error as { code?: string }).code ?? error.name}: ${error.message}`
              : String(error)
          }`,
        ),
      onStarted: (node, incarnation) => this.trace.record(`started ${node} incarnation ${incarnation}`),
      onStartFailure: (node, error) =>
        this.fail(
          'recovery-failure',
          `node ${node} could not start from its disk: ${error instanceof Error ? error.message : String(error)}`,
        ),
      onSlowFsync: () => {
        this.counts['slow-fsync']++;
      },
    };
  }

  private onApply(node: NodeId, entry: Entry): void {
    const raftNode = this.node(node).process?.node;
    const leaderTerm = raftNode?.isLeader() === true ? raftNode.leaderInfo().term : undefined;
    this.guarded(() => this.invariants.onApply(node, entry, leaderTerm));
    // A leader applying an entry of its own term has it durable, and everything before it.
    if (leaderTerm === entry.term && !this.establishedTerms.has(leaderTerm)) {
      this.establishedTerms.add(leaderTerm);
      void this.checkDurableLog(node, leaderTerm);
    }
  }

  /**
   * Reads `node`'s log back from its disk through the store's recovery and checks log
   * matching against the other nodes' logs; for a leader (`leaderTerm`), leader completeness.
   */
  private async checkDurableLog(node: NodeId, leaderTerm?: number): Promise<void> {
    try {
      const log = await readDurableLog(this.node(node).disk, DATA_DIRECTORY, this.scheduler);
      this.durableLogsRead++;
      this.guarded(() => {
        this.invariants.onDurableLog(node, log);
        if (leaderTerm !== undefined) this.invariants.onLeaderEstablished(node, leaderTerm, log);
      });
    } catch (error) {
      this.fail(
        'harness',
        `reading node ${node}'s log back: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  private checkpoint(node: NodeId, entry: Entry, machine: NodeStateMachine): void {
    if (entry.index % CHECKPOINT_EVERY_ENTRIES !== 0) return;
    void this.checkDurableLog(node);
    const hash = hashBytes(machine.snapshot());
    const seen = this.checkpoints.get(entry.index);
    if (seen === undefined) {
      this.checkpoints.set(entry.index, { hash, node });
      return;
    }
    this.checkpointsCompared++;
    if (seen.hash !== hash) {
      this.fail(
        'deterministic-apply',
        `after applying index ${entry.index}, node ${node}'s state differs from node ${seen.node}'s`,
      );
    }
  }

  private recordOperation(operation: HistoryOperation): void {
    this.history.push(operation);
    this.trace.record(JSON.stringify(operation));
  }

  private node(id: NodeId): SimNode {
    return this.nodes[id - 1]!;
  }

  /** The leader of the highest term among running processes. */
  private leader(): SimNode | undefined {
    let best: SimNode | undefined;
    let bestTerm = -1;
    for (const node of this.nodes) {
      const process = node.process;
      if (process === undefined || !process.node.isLeader()) continue;
      const term = process.node.leaderInfo().term;
      if (term > bestTerm) {
        best = node;
        bestTerm = term;
      }
    }
    return best;
  }

  /**
   * The leader the chaos aims at: the Raft leader, or when chains run, half the time the
   * leader of a random chain (their failover has its own narrow windows).
   */
  private chaosLeader(): SimNode | undefined {
    if (this.chainRun === undefined || !this.chainChaosRandom.chance(CHAIN_LEADER_TARGET_PROBABILITY))
      return this.leader();
    const leaders = this.chainRun.leaderNodes();
    const chosen = leaders[this.chainChaosRandom.nextInt(Math.max(1, leaders.length))];
    return chosen === undefined ? this.leader() : this.node(chosen);
  }

  /** Runs events until `done` holds or simulated time reaches `untilUs`. */
  private async runUntil(
    done: () => boolean,
    untilUs: number,
    maxEvents = Number.POSITIVE_INFINITY,
  ): Promise<void> {
    const scheduler = this.scheduler;
    const stopAt = Math.min(scheduler.eventCount + maxEvents, this.eventLimit);
    while (this.violation === undefined && !done() && scheduler.eventCount < stopAt) {
      if (!scheduler.runNext(untilUs)) {
        scheduler.advanceTo(untilUs);
        return;
      }
      // The promise continuations this event queued run at its simulated time.
      if ((await this.microtasks?.drain(MAX_CONTINUATIONS_PER_EVENT)) === false) {
        this.fail(
          'busy-loop',
          `more than ${MAX_CONTINUATIONS_PER_EVENT} promise continuations after event ${scheduler.eventCount}: a loop that never waits on time or I/O`,
        );
        return;
      }
      if (scheduler.eventCount % PROGRESS_CHECK_EVERY_EVENTS === 0) {
        this.checkAcknowledgedAppends();
        this.chainRun?.check();
        this.daemonRun?.check();
      }
    }
    if (scheduler.eventCount >= this.eventLimit) {
      // A storm is a symptom; name the cause when it is a lost acknowledgement (see docs).
      this.checkAcknowledgedAppends();
      this.fail('liveness', `more than ${HEALED_PHASE_MAX_EVENTS} events after healing: a message storm`);
    }
  }

  /**
   * A follower acknowledges appends only once they are durable, so while it stays in the
   * leader's term its log must reach what the leader recorded as matched (a crash may not
   * take acknowledged entries away). A leader's progress can only move down by a new term.
   */
  private checkAcknowledgedAppends(): void {
    const leader = this.leader()?.process?.node;
    if (leader === undefined) return;
    const status = leader.status();
    if (status.progress === undefined) return;
    for (const [peer, progress] of status.progress) {
      const follower = peer === status.id ? undefined : this.node(peer).process?.node;
      if (follower === undefined) continue;
      const followerStatus = follower.status();
      if (followerStatus.term !== status.term || followerStatus.lastIndex >= progress.match) continue;
      this.fail(
        'acknowledged-append-lost',
        `leader ${status.id} of term ${status.term} recorded node ${peer} as holding its log through ${progress.match}, but node ${peer}'s log (same term) ends at ${followerStatus.lastIndex}: entries it acknowledged were lost`,
      );
      return;
    }
  }

  async run(): Promise<SimulationResult> {
    this.microtasks = new MicrotaskDrain();
    const timers = new HostTimerGuard((timer, stack) =>
      this.fail(
        'host-timer',
        `the run called the host's ${timer}, a seam the simulator does not fill: ${stack}`,
      ),
    );
    try {
      await this.runFaultPhase();
      if (this.violation === undefined) await this.runLivenessPhase();
      if (this.violation === undefined) await this.runEndChecks();
    } catch (error) {
      this.fail('harness', error instanceof Error ? (error.stack ?? error.message) : String(error));
    } finally {
      timers.close();
      this.microtasks.close();
      this.microtasks = undefined;
    }
    return this.report();
  }

  /** The fault phase: the workload runs and chaos strikes until the step budget is spent. */
  private async runFaultPhase(): Promise<void> {
    for (const node of this.nodes) node.boot();
    if (this.chainRun !== undefined) await this.createChains(this.chainRun);
    if (this.daemonRun !== undefined && this.violation === undefined)
      await this.deployDaemons(this.daemonRun);
    if (this.violation !== undefined) return;
    for (const client of this.clients) client.start();
    this.chainRun?.start();
    this.daemonRun?.start();
    this.chaos.start();
    await this.runUntil(() => false, FAULT_PHASE_MAX_US, this.options.steps ?? DEFAULT_STEPS);
  }

  /**
   * Chains exist before the faults begin, as in a deployment: they are created through the
   * nodes' chain requests while the network is calm (a churn seed would otherwise keep the
   * control plane too busy to create them until it heals).
   */
  private async createChains(chainRun: ChainRun): Promise<void> {
    this.network.faultsActive = false;
    this.chaos.active = false;
    chainRun.create();
    await this.runUntil(() => chainRun.created, this.scheduler.nowUs + CHAIN_CREATE_BOUND_US);
    if (!chainRun.created && this.violation === undefined)
      this.fail(
        'chain-liveness',
        `the chains were not created within ${CHAIN_CREATE_BOUND_US} us on a calm network`,
      );
    this.network.faultsActive = true;
    this.chaos.active = true;
  }

  /** Daemons are deployed before the faults begin too, through the nodes' daemon requests. */
  private async deployDaemons(daemonRun: DaemonRun): Promise<void> {
    this.network.faultsActive = false;
    this.chaos.active = false;
    daemonRun.deploy();
    await this.runUntil(() => daemonRun.deployed, this.scheduler.nowUs + DAEMON_DEPLOY_BOUND_US);
    if (!daemonRun.deployed && this.violation === undefined)
      this.fail(
        'daemon-liveness',
        `the daemons were not deployed within ${DAEMON_DEPLOY_BOUND_US} us on a calm network`,
      );
    this.network.faultsActive = true;
    this.chaos.active = true;
  }

  /**
   * The liveness phase: no more faults, every machine up again; a leader must commit a fresh
   * write, clients must finish what they started, and every replica must catch up.
   */
  private async runLivenessPhase(): Promise<void> {
    this.heal();
    await this.livenessProbe();
    if (this.violation !== undefined) return;
    const clientsIdle = (): boolean => this.clients.every((client) => client.idle);
    await this.runUntil(clientsIdle, this.scheduler.nowUs + SETTLE_BOUND_US);
    if (this.violation !== undefined) return;
    if (!clientsIdle()) {
      this.fail('liveness', 'client operations still unfinished long after the cluster healed');
      return;
    }
    const convergeBoundUs = CONVERGE_BOUND_US + (this.daemonRun === undefined ? 0 : DAEMON_CONVERGE_EXTRA_US);
    await this.runUntil(() => this.converged(), this.scheduler.nowUs + convergeBoundUs);
    if (this.violation === undefined && !this.converged())
      this.fail('liveness', 'replicas did not converge on one applied index after healing');
    if (this.violation === undefined) await this.chainRun?.liveness();
    if (this.violation === undefined) await this.daemonRun?.liveness();
  }

  private heal(): void {
    this.chaos.active = false;
    this.channels.faultsActive = false;
    this.network.faultsActive = false;
    this.network.healAll();
    for (const node of this.nodes) {
      node.boot();
      if (node.process !== undefined) node.process.life.pausedUntilUs = 0;
    }
    for (const client of this.clients) client.running = false;
    this.chainRun?.heal();
    this.daemonRun?.heal();
    this.trace.record('heal');
    this.eventLimit =
      this.scheduler.eventCount +
      HEALED_PHASE_MAX_EVENTS +
      (this.chainRun === undefined ? 0 : CHAIN_HEALED_PHASE_EXTRA_EVENTS) +
      (this.daemonRun === undefined ? 0 : DAEMON_HEALED_PHASE_EXTRA_EVENTS);
  }

  /** Every node up, and all applied through the same index. */
  private converged(): boolean {
    let applied: number | undefined;
    for (const node of this.nodes) {
      const process = node.process;
      if (process === undefined) return false;
      if (applied === undefined) applied = process.node.applied;
      else if (process.node.applied !== applied) return false;
    }
    return applied !== undefined && applied >= this.invariants.highestCommitted;
  }

  /** A leader must commit a fresh write within the liveness bound. */
  private async livenessProbe(): Promise<void> {
    const deadline = this.scheduler.nowUs + LIVENESS_BOUND_US;
    let committed = false;
    let attempt = 0;
    /** The attempt awaiting an answer, and since when (0: none). */
    let inFlight = 0;
    let inFlightSinceUs = 0;
    const probe = (): void => {
      if (committed) return;
      // Like any client, give up on an attempt that gets no answer: a proposal made on a
      // leader that was deposed right after can wait until its index is reached again.
      if (inFlight !== 0 && this.scheduler.nowUs - inFlightSinceUs >= CLIENT_ATTEMPT_TIMEOUT_US) {
        this.unansweredProbes++;
        inFlight = 0;
      }
      const leader = this.leader();
      if (leader?.process !== undefined && inFlight === 0) {
        attempt++;
        const mine = attempt;
        inFlight = mine;
        inFlightSinceUs = this.scheduler.nowUs;
        const value = new TextEncoder().encode(`probe-${attempt}`);
        leader.process.backend
          .execute({ type: 'put', key: new TextEncoder().encode(LIVENESS_KEY), value })
          .then(
            () => {
              committed = true;
            },
            () => {},
          )
          .finally(() => {
            if (inFlight === mine) inFlight = 0;
          });
      }
      this.scheduler.schedule(LIVENESS_PROBE_INTERVAL_US, 'liveness probe', probe);
    };
    probe();
    await this.runUntil(() => committed, deadline);
    if (!committed && this.violation === undefined) {
      this.fail('liveness', `no leader committed a new write within ${LIVENESS_BOUND_US} us of healing`);
    }
  }

  /**
   * End checks: every node's log on disk matches the others', the history is linearizable,
   * and every replica holds the same bytes.
   */
  private async runEndChecks(): Promise<void> {
    for (const node of this.nodes) await this.checkDurableLog(node.id);
    if (this.violation !== undefined) return;
    if (this.options.checkLinearizability !== false) {
      this.linearizability = checkHistory(this.history, { maxStepsPerKey: LINEARIZABILITY_STEPS_PER_KEY });
      if (this.linearizability.verdict === 'illegal') {
        this.fail('linearizability', this.linearizability.counterexample ?? 'history is not linearizable');
        return;
      }
    }
    const states = [];
    for (const node of this.nodes) {
      const process = node.process;
      if (process === undefined) continue;
      states.push({
        node: node.id,
        appliedIndex: process.node.applied,
        snapshot: process.machine.snapshot(),
      });
    }
    this.replicas = compareReplicas(states);
    if (this.replicas.mismatch !== undefined) {
      this.fail('replica-identity', this.replicas.mismatch);
      return;
    }
    await this.chainRun?.endChecks();
    if (this.violation === undefined) await this.daemonRun?.endChecks();
  }

  private report(): SimulationResult {
    return {
      seed: this.seed,
      nodeCount: this.nodeCount,
      events: this.scheduler.eventCount,
      simulatedUs: this.scheduler.nowUs,
      commits: this.invariants.highestCommitted,
      applies: this.invariants.applies,
      crashes: this.nodes.reduce((sum, node) => sum + node.crashes, 0),
      unansweredProbes: this.unansweredProbes,
      gracefulStops: this.nodes.reduce((sum, node) => sum + node.gracefulStops, 0),
      leadershipTransfers: this.chaos.leadershipTransfers,
      checkpointsCompared: this.checkpointsCompared,
      durableLogsRead: this.durableLogsRead,
      staleRequestsRefused: this.channels.staleRequestsRefused,
      violation: this.violation,
      faultCounts: this.counts,
      history: this.history,
      linearizability: this.linearizability,
      replicas: this.replicas,
      traceDigest: this.trace.digest(),
      trace: this.trace,
      settings: this.settings,
      forwardWrites: this.forwardWrites,
      chains: this.chainRun?.result(),
      daemons: this.daemonRun?.result(),
    };
  }
}

/** Runs one seed to the end. */
export function runSimulation(options: SimulationOptions): Promise<SimulationResult> {
  return new Simulation(options).run();
}
