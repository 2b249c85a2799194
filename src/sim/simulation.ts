import { AssertionError, type Random, SeededRandom } from '../lib/index.js';
import type { Message, NodeId } from '../raft/index.js';
import type { ClientRequest, ClientResponse } from './client-protocol.js';
import { drawBelow, drawBetween } from './draw.js';
import {
  CHAOS_INTERVAL_MIN_US,
  CRASH_DOWNTIME_MAX_US,
  CRASH_DOWNTIME_MIN_US,
  deriveFaultPlan,
  emptyFaultCounts,
  FAULT_NAMES,
  type FaultCounts,
  type FaultName,
  type FaultPlan,
  FSYNC_MAX_US,
  FSYNC_MIN_US,
  LEADER_CRASH_DELAY_MAX_US,
  LEADER_ISOLATE_AT_ONCE_PROBABILITY,
  LEADER_ISOLATE_SOON_MAX_US,
  LEADER_ISOLATION_MAX_US,
  LEADER_ISOLATION_MIN_US,
  PARTITION_MAX_US,
  PARTITION_MIN_US,
  PAUSE_MAX_US,
  PAUSE_MIN_US,
  SLOW_FSYNC_MAX_US,
} from './fault-plan.js';
import { InvariantChecker, InvariantViolation } from './invariants.js';
import { type CheckResult, checkHistory, type HistoryOperation } from './linearizability/index.js';
import { Scheduler } from './scheduler.js';
import { SimNetwork } from './sim-network.js';
import { SimRaftHost, type SimRaftSettings } from './sim-raft-host.js';
import { Trace } from './trace.js';
import { type AcknowledgedWrite, type ClusterAccess, SimClient } from './workload.js';

/** Nominal interval between two Raft ticks. */
export const TICK_INTERVAL_US = 10_000;
export const ELECTION_TICKS = 10;
export const HEARTBEAT_TICKS = 3;
/** After faults stop, a leader must be elected and a new entry committed within this long. */
export const LIVENESS_BOUND_US = 10_000_000;
/** After the liveness probe commits, in-flight client operations get this long to finish. */
export const SETTLE_BOUND_US = 5_000_000;
/** Final quiet period so followers apply what the leader committed. */
export const QUIESCE_US = 500_000;
export const DEFAULT_CLIENT_COUNT = 5;
export const DEFAULT_STEPS = 20_000;
export const DEFAULT_TRACE_LINES = 5_000;
/** Search budget per key when checking a seed's history. */
export const LINEARIZABILITY_STEPS_PER_KEY = 1_000_000;
const KEYS = ['k0', 'k1', 'k2'] as const;
const LIVENESS_KEY = 'liveness';

export interface SimulationOptions {
  readonly seed: number;
  /** Events in the fault phase. */
  readonly steps?: number;
  /** 3 or 5 when not given (drawn from the seed). */
  readonly nodeCount?: number;
  readonly clientCount?: number;
  readonly faults?: readonly FaultName[];
  /** Run the deliberately broken commit rule (the simulator must catch it). */
  readonly unsafeCommitByCountingOlderTerms?: boolean;
  /** Answer gets from any node's local state, skipping ReadIndex (the checker must catch it). */
  readonly unsafeLocalReads?: boolean;
  /** Trace lines kept for the failure artifact (the digest covers all). */
  readonly traceLines?: number;
  readonly checkLinearizability?: boolean;
  /**
   * Whether a sender learns that the network lost its message (default true), as a TCP
   * transport learns of a broken link, and reports the peer unreachable to Raft. False models
   * silent loss, where only Raft's own retransmission can recover.
   */
  readonly reportLostMessages?: boolean;
}

export interface Violation {
  readonly invariant: string;
  readonly message: string;
}

export interface SimulationResult {
  readonly seed: number;
  readonly nodeCount: number;
  readonly events: number;
  /** Highest log index applied anywhere. */
  readonly commits: number;
  readonly simulatedUs: number;
  readonly violation: Violation | undefined;
  readonly faultCounts: FaultCounts;
  readonly history: readonly HistoryOperation[];
  readonly linearizability: CheckResult | undefined;
  readonly traceDigest: string;
  readonly trace: Trace;
  readonly settings: SimRaftSettings;
}

/** Raft settings drawn from the seed, so runs cover small appends and narrow windows too. */
function drawSettings(random: Random, unsafeCommit: boolean, unsafeLocalReads: boolean): SimRaftSettings {
  const appendChoices = [1, 1, 128, 1_024, 1_048_576];
  return {
    electionTicks: ELECTION_TICKS,
    heartbeatTicks: HEARTBEAT_TICKS,
    preVote: random.chance(0.5),
    checkQuorum: random.chance(0.5),
    maxInflightMessages: random.nextIntBetween(1, 32),
    maxInflightBytes: 1_048_576,
    maxAppendBytes: appendChoices[random.nextInt(appendChoices.length)]!,
    unsafeCommitByCountingOlderTerms: unsafeCommit,
    unsafeLocalReads,
  };
}

/**
 * One seeded simulation run: a fault phase of `steps` events with the workload running and
 * invariants checked throughout, then a liveness phase (everything healed and restarted)
 * that must elect a leader and commit a new entry in bounded simulated time, then the
 * end-of-run checks (no acknowledged write lost, linearizable history).
 */
export function runSimulation(options: SimulationOptions): SimulationResult {
  const seed = options.seed;
  const root = new SeededRandom(seed);
  const trace = new Trace(options.traceLines ?? DEFAULT_TRACE_LINES);
  const scheduler = new Scheduler(trace);
  const nodeCount = options.nodeCount ?? (root.fork('shape').chance(0.5) ? 3 : 5);
  const faults = options.faults ?? FAULT_NAMES;
  const plan = deriveFaultPlan(root.fork('fault-plan'), faults, nodeCount);
  const settings = drawSettings(
    root.fork('raft-settings'),
    options.unsafeCommitByCountingOlderTerms ?? false,
    options.unsafeLocalReads ?? false,
  );
  const counts = emptyFaultCounts();
  counts['clock-drift'] = plan.tickRateByNode.filter((rate) => rate !== 1).length;
  const invariants = new InvariantChecker();
  const nodeIds: NodeId[] = [];
  for (let id = 1; id <= nodeCount; id++) nodeIds.push(id);
  const quorum = Math.floor(nodeCount / 2) + 1;
  const history: HistoryOperation[] = [];
  const acknowledged: AcknowledgedWrite[] = [];
  const chaosRandom = root.fork('chaos');
  const leaderCrashRandom = root.fork('leader-crash');
  const partialBroadcastRandom = root.fork('partial-broadcast');
  let faultsActive = true;
  trace.record(
    `seed=${seed} nodes=${nodeCount} churn=${plan.churn} faults=${[...plan.enabled].join(',')} settings=${JSON.stringify(settings)}`,
  );

  const hosts = new Map<NodeId, SimRaftHost>();
  const reportLost = options.reportLostMessages ?? true;
  const onLost = (message: Message): void => {
    if (!reportLost) return;
    scheduler.schedule(
      network.sampleDelayUs(),
      'unreachable',
      () => hosts.get(message.from)?.reportUnreachable(message.to),
      message.from,
      message.to,
    );
  };
  const deliver = (message: Message): void => {
    const host = hosts.get(message.to);
    if (host === undefined) return;
    if (!host.isUp) {
      onLost(message);
      return;
    }
    if (host.isPausedAt(scheduler.nowUs)) {
      scheduler.schedule(host.pausedUntil - scheduler.nowUs, `deliver-after-pause n${host.id}`, () =>
        deliver(message),
      );
      return;
    }
    host.receive(message);
  };
  const network = new SimNetwork(scheduler, root.fork('network'), plan, counts, deliver, onLost);

  const downCount = (): number => [...hosts.values()].filter((host) => !host.isUp).length;
  const crash = (host: SimRaftHost, reason: FaultName): void => {
    if (!host.isUp || !faultsActive || downCount() >= nodeCount - quorum) return;
    counts[reason]++;
    scheduler.trace.record(`${scheduler.nowUs} crash n${host.id} (${reason})`);
    host.crash();
    const downtime = chaosRandom.nextIntBetween(CRASH_DOWNTIME_MIN_US, CRASH_DOWNTIME_MAX_US);
    scheduler.schedule(downtime, `restart n${host.id}`, () => {
      if (!host.isUp) host.start();
    });
  };

  const partition = (
    knob: 'partition' | 'asymmetric-partition',
    links: [NodeId, NodeId][],
    durationUs: number,
    what: string,
  ): void => {
    counts[knob]++;
    for (const [from, to] of links) network.block(from, to);
    scheduler.trace.record(`${scheduler.nowUs} ${knob} ${what}`);
    scheduler.schedule(durationUs, `heal ${knob} ${what}`, () => {
      for (const [from, to] of links) network.unblock(from, to);
    });
  };
  const isolate = (node: NodeId, durationUs: number): void => {
    const links: [NodeId, NodeId][] = [];
    for (const other of nodeIds) if (other !== node) links.push([node, other], [other, node]);
    partition('partition', links, durationUs, `[${node}] alone`);
  };

  for (const id of nodeIds) {
    const diskRandom = root.fork(`disk-${id}`);
    const tickRate = plan.tickRateByNode[id - 1] ?? 1;
    const host = new SimRaftHost(
      id,
      { voters: nodeIds, learners: [], outgoingVoters: [] },
      {
        scheduler,
        random: root.fork(`node-${id}`),
        settings,
        invariants,
        tickIntervalUs: Math.round(TICK_INTERVAL_US * tickRate),
        send: (message) => {
          network.send(message);
          // Cut the leader off right after the first copy of a new entry leaves: the entry
          // sits on the leader and one follower only (figure 8's partial replication).
          if (
            faultsActive &&
            message.type === 'append' &&
            message.entries.length > 0 &&
            message.entries[message.entries.length - 1]!.term === message.term &&
            !network.isBlocked(message.from, message.to) &&
            partialBroadcastRandom.chance(plan.partialBroadcastProbability)
          ) {
            isolate(
              message.from,
              partialBroadcastRandom.nextIntBetween(LEADER_ISOLATION_MIN_US, LEADER_ISOLATION_MAX_US),
            );
          }
        },
        fsyncDelayUs: () => fsyncDelay(diskRandom, plan, counts, faultsActive),
        tornWriteEntries: (entryCount) => diskRandom.nextInt(entryCount + 1),
        onLeaderCommit: (leader) => {
          // A leader cut off right after committing, before followers hear of the commit.
          if (faultsActive && leaderCrashRandom.chance(plan.leaderCommitIsolateProbability)) {
            isolate(
              leader,
              leaderCrashRandom.nextIntBetween(LEADER_ISOLATION_MIN_US, LEADER_ISOLATION_MAX_US),
            );
          }
        },
        onLeader: (leader) => {
          if (!faultsActive) return;
          const target = hosts.get(leader)!;
          if (leaderCrashRandom.chance(plan.leaderCrashProbability)) {
            scheduler.schedule(
              leaderCrashRandom.nextInt(LEADER_CRASH_DELAY_MAX_US),
              `leader-crash n${leader}`,
              () => crash(target, 'leader-crash'),
            );
          } else if (leaderCrashRandom.chance(plan.leaderIsolateProbability)) {
            const isolationUs = leaderCrashRandom.nextIntBetween(
              LEADER_ISOLATION_MIN_US,
              LEADER_ISOLATION_MAX_US,
            );
            if (leaderCrashRandom.chance(LEADER_ISOLATE_AT_ONCE_PROBABILITY)) {
              // Cut off at the moment of election: its first entry (the no-op) stays its own.
              isolate(leader, isolationUs);
              return;
            }
            // Otherwise soon, often while it is still bringing followers' logs in line.
            const delayUs = leaderCrashRandom.chance(0.5)
              ? leaderCrashRandom.nextInt(LEADER_ISOLATE_SOON_MAX_US)
              : leaderCrashRandom.nextInt(LEADER_CRASH_DELAY_MAX_US);
            scheduler.schedule(delayUs, `leader-isolate n${leader}`, () => {
              if (faultsActive) isolate(leader, isolationUs);
            });
          }
        },
      },
    );
    hosts.set(id, host);
  }
  for (const host of hosts.values()) host.start();

  const access: ClusterAccess = {
    nodeIds,
    submit(node: NodeId, request: ClientRequest, onResponse: (response: ClientResponse) => void) {
      const arrive = (): void => {
        const host = hosts.get(node)!;
        if (!host.isUp) return;
        if (host.isPausedAt(scheduler.nowUs)) {
          scheduler.schedule(host.pausedUntil - scheduler.nowUs, `request-after-pause n${node}`, arrive);
          return;
        }
        host.handleClientRequest(request, (response) => {
          scheduler.schedule(
            network.sampleDelayUs(),
            clientLabel('response', request.clientId),
            () => onResponse(response),
            node,
            request.sequence,
            request.attempt,
          );
        });
      };
      scheduler.schedule(
        network.sampleDelayUs(),
        clientLabel('request', request.clientId),
        arrive,
        node,
        request.sequence,
        request.attempt,
      );
    },
  };
  const clientCount = options.clientCount ?? DEFAULT_CLIENT_COUNT;
  const clients: SimClient[] = [];
  for (let number = 0; number < clientCount; number++) {
    clients.push(
      new SimClient(number, root.fork(`client-${number}`), scheduler, access, KEYS, history, acknowledged),
    );
  }
  for (const client of clients) client.start();

  const chaosKnobs = (['partition', 'asymmetric-partition', 'crash', 'pause'] as const).filter((name) =>
    plan.enabled.has(name),
  );
  const scheduleChaos = (): void => {
    if (chaosKnobs.length === 0) return;
    scheduler.schedule(
      chaosRandom.nextIntBetween(CHAOS_INTERVAL_MIN_US, plan.chaosIntervalMaxUs),
      'chaos',
      () => {
        if (!faultsActive) return;
        injectChaos(chaosKnobs[chaosRandom.nextInt(chaosKnobs.length)]!);
        scheduleChaos();
      },
    );
  };
  const injectChaos = (knob: (typeof chaosKnobs)[number]): void => {
    const all = [...hosts.values()];
    switch (knob) {
      case 'crash':
        crash(all[chaosRandom.nextInt(all.length)]!, 'crash');
        return;
      case 'pause': {
        const host = all[chaosRandom.nextInt(all.length)]!;
        if (!host.isUp) return;
        counts.pause++;
        host.pause(scheduler.nowUs + chaosRandom.nextIntBetween(PAUSE_MIN_US, PAUSE_MAX_US));
        scheduler.trace.record(`${scheduler.nowUs} pause n${host.id}`);
        return;
      }
      case 'partition':
      case 'asymmetric-partition': {
        // Half the time the current leader is cut off on its own: it keeps taking writes it
        // cannot replicate, which is what makes diverging uncommitted suffixes (figure 8).
        const leader = all.find((host) => host.isLeader);
        const shuffled = shuffle(chaosRandom, nodeIds);
        const isolateLeader = leader !== undefined && chaosRandom.chance(0.5);
        const sideSize = isolateLeader ? 1 : 1 + chaosRandom.nextInt(Math.max(1, Math.floor(nodeCount / 2)));
        const side = isolateLeader ? [leader.id] : shuffled.slice(0, sideSize);
        const rest = shuffled.filter((id) => !side.includes(id));
        const links: [NodeId, NodeId][] = [];
        const inbound = chaosRandom.chance(0.5);
        for (const a of side) {
          for (const b of rest) {
            if (knob === 'partition') links.push([a, b], [b, a]);
            else links.push(inbound ? [b, a] : [a, b]);
          }
        }
        const durationUs = chaosRandom.nextIntBetween(PARTITION_MIN_US, PARTITION_MAX_US);
        partition(knob, links, durationUs, `[${side.join(',')}] | [${rest.join(',')}]`);
        return;
      }
    }
  };
  scheduleChaos();

  const steps = options.steps ?? DEFAULT_STEPS;
  let violation: Violation | undefined;
  const probe = new SimClient(
    clientCount,
    root.fork('liveness-probe'),
    scheduler,
    access,
    [LIVENESS_KEY],
    history,
    acknowledged,
  );
  try {
    while (scheduler.eventCount < steps && scheduler.runNext(Number.POSITIVE_INFINITY)) {
      // The fault phase: events run until the step budget is spent.
    }
    // Liveness phase: heal everything, restart everyone, stop injecting.
    faultsActive = false;
    network.faultsActive = false;
    network.healAll();
    for (const host of hosts.values()) {
      host.resume();
      if (!host.isUp) host.start();
    }
    for (const client of clients) client.stopIssuing();
    scheduler.trace.record(`${scheduler.nowUs} liveness phase`);
    for (const host of hosts.values()) scheduler.trace.record(`  ${host.describe()}`);
    const livenessStartUs = scheduler.nowUs;
    probe.stopIssuing();
    probe.issue({ kind: 'put', key: LIVENESS_KEY, value: `probe-${seed}` });
    while (probe.busy && scheduler.runNext(livenessStartUs + LIVENESS_BOUND_US)) {
      // Run until the probe's write is acknowledged.
    }
    if (probe.busy) {
      const leaders = [...hosts.values()].filter((host) => host.isLeader).map((host) => host.id);
      throw new InvariantViolation(
        'liveness',
        `no new entry committed within ${LIVENESS_BOUND_US / 1_000_000} s of healing (leaders: ${leaders.join(',') || 'none'}); ${[...hosts.values()].map((host) => host.describe()).join('; ')}`,
      );
    }
    const settleEndUs = scheduler.nowUs + SETTLE_BOUND_US;
    while (clients.some((client) => client.busy) && scheduler.runNext(settleEndUs)) {
      // Let in-flight operations finish.
    }
    const quietEndUs = scheduler.nowUs + QUIESCE_US;
    while (scheduler.runNext(quietEndUs)) {
      // Let followers apply.
    }
    checkAcknowledgedWrites(hosts, acknowledged);
  } catch (error) {
    if (error instanceof InvariantViolation) {
      violation = { invariant: error.invariant, message: error.message };
    } else if (error instanceof AssertionError) {
      violation = { invariant: 'raft-assertion', message: `${error.message}\n${error.stack ?? ''}` };
    } else {
      throw error;
    }
    scheduler.trace.record(`${scheduler.nowUs} VIOLATION ${violation.message}`);
  }
  for (const client of clients) client.abandon();
  probe.abandon();
  const linearizability =
    options.checkLinearizability === false || violation !== undefined
      ? undefined
      : checkHistory(history, { maxStepsPerKey: LINEARIZABILITY_STEPS_PER_KEY });
  if (linearizability?.verdict === 'illegal') {
    violation = {
      invariant: 'linearizability',
      message: linearizability.counterexample ?? 'history is not linearizable',
    };
  }
  return {
    seed,
    nodeCount,
    events: scheduler.eventCount,
    commits: invariants.highestCommitted,
    simulatedUs: scheduler.nowUs,
    violation,
    faultCounts: counts,
    history,
    linearizability,
    traceDigest: trace.digest(),
    trace,
    settings,
  };
}

const clientLabels = new Map<string, { readonly request: string; readonly response: string }>();

/** Trace label of a client request or response (numbers after it: node, sequence, attempt). */
function clientLabel(kind: 'request' | 'response', clientId: string): string {
  let labels = clientLabels.get(clientId);
  if (labels === undefined) {
    labels = { request: `request ${clientId}`, response: `response ${clientId}` };
    clientLabels.set(clientId, labels);
  }
  return labels[kind];
}

function fsyncDelay(random: Random, plan: FaultPlan, counts: FaultCounts, faultsActive: boolean): number {
  const delay = drawBetween(random, FSYNC_MIN_US, FSYNC_MAX_US);
  if (faultsActive && random.chance(plan.slowFsyncProbability)) {
    counts['slow-fsync']++;
    return delay + drawBelow(random, SLOW_FSYNC_MAX_US);
  }
  return delay;
}

function shuffle<T>(random: Random, items: readonly T[]): T[] {
  const out = [...items];
  for (let index = out.length - 1; index > 0; index--) {
    const other = random.nextInt(index + 1);
    [out[index], out[other]] = [out[other]!, out[index]!];
  }
  return out;
}

/** Every acknowledged write must be in the most advanced state machine's history of writes. */
function checkAcknowledgedWrites(
  hosts: ReadonlyMap<NodeId, SimRaftHost>,
  acknowledged: readonly AcknowledgedWrite[],
): void {
  let best: SimRaftHost | undefined;
  for (const host of hosts.values()) {
    if (best === undefined || host.stateMachine.applied > best.stateMachine.applied) best = host;
  }
  if (best === undefined) return;
  const machine = best.stateMachine;
  for (const write of acknowledged) {
    if (write.index > machine.applied || !machine.hasWritten(write.value)) {
      throw new InvariantViolation(
        'acknowledged-write-lost',
        `${write.clientId} was told ${write.key}=${JSON.stringify(write.value)} committed at ${write.index}, but the most advanced state machine (applied ${machine.applied}) never wrote it`,
        { node: best.id, index: write.index },
      );
    }
  }
}
