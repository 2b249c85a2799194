import { type AcksPolicy, type ChainLog, learnerCaughtUp } from '../../../src/chains/index.js';
import { isMeshError, ManualClock, type NodeId, type Random } from '../../../src/lib/index.js';
import { type ChainAppendOperation, chainReplicaProblems, type ReplicaRecord } from '../chain-history.js';
import { CALM_LINKS, ChainCluster, committedHistory, type LinkFaults } from './chain-cluster.js';
import { MemoryChainLog, type MemoryRetention } from './memory-chain-log.js';

/** One randomized run's shape; every draw inside it comes from `seed`. */
export interface FaultRunOptions {
  readonly seed: number;
  readonly acks: AcksPolicy;
  readonly replicaCount: number;
  /** Fault actions in the safety phase. */
  readonly steps: number;
  readonly links: LinkFaults;
  /**
   * Opens each replica's log (the disk `ChainLog`, say) instead of the test bed's
   * `MemoryChainLog`; such runs have no crashes (their logs cannot crash here).
   */
  readonly openLog?: (id: NodeId, clock: ManualClock) => Promise<ChainLog>;
  /** Retention of the test bed's logs (bounded by what each replica knows is committed). */
  readonly retention?: MemoryRetention;
  /**
   * Replica-set changes as the coordinator makes them: a spare node added as a learner (or
   * removed again), and a caught-up learner promoted in place of a crashed replica that is not
   * the leader, starting a new epoch.
   */
  readonly membershipChanges?: boolean;
}

/** What a run did and found: `problems` is empty when every invariant held. */
export interface FaultRunReport {
  readonly problems: string[];
  readonly acknowledged: number;
  readonly epochs: number;
  readonly crashes: number;
  readonly partitions: number;
  readonly pauses: number;
  readonly messagesDropped: number;
  /** Learners promoted in place of a crashed replica. */
  readonly promotions: number;
  /** The highest start offset a replica's log reached (retention at work). */
  readonly maxStartOffset: number;
}

/** Simulated time the liveness phase may take to elect a leader and acknowledge an append. */
const LIVENESS_LIMIT_MS = 20_000;
const CHAIN_NAME = 'chain-a';

/**
 * The randomized fault run: a safety phase of `steps` actions (appends through whichever
 * replica believes it leads, crashes that keep a random prefix of unsynced writes, restarts,
 * pauses, partitions that also cut the control plane, heals, time passing) over lossy,
 * duplicating, reordering links, with the safety checks of `ChainCluster` after every
 * millisecond; then a liveness phase (everything healed and running, calm links) that must elect
 * a leader, acknowledge a final append and bring every replica to the leader's commit offset;
 * then the check of every replica's copy against what appenders were told.
 */
export async function runChainFaults(options: FaultRunOptions): Promise<FaultRunReport> {
  const replicas = Array.from({ length: options.replicaCount }, (_, index) => index + 1);
  const spares = options.membershipChanges === true ? [options.replicaCount + 1] : [];
  const nodes = [...replicas, ...spares];
  const clock = new ManualClock(0);
  const logs = new Map<NodeId, ChainLog>();
  if (options.openLog !== undefined) for (const id of nodes) logs.set(id, await options.openLog(id, clock));
  const cluster = new ChainCluster({
    replicas,
    spares,
    acks: options.acks,
    seed: options.seed,
    links: options.links,
    clock,
    logs,
    ...(options.retention === undefined ? {} : { retention: options.retention }),
  });
  const canCrash = logs.size === 0;
  const random = cluster.random.fork('actions');
  const operations: ChainAppendOperation[] = [];
  /** The epoch each acknowledged value was acknowledged in. */
  const acknowledgedEpoch = new Map<string, number>();
  let counter = 0;
  let crashes = 0;
  let partitions = 0;
  let pauses = 0;
  let promotions = 0;
  let maxStartOffset = 0;

  const append = (node: NodeId, count: number): void => {
    const values = Array.from({ length: count }, () => `v${counter++}`);
    const callTs = cluster.clock.nowMs() * 1e6;
    const indexes = values.map(
      (value) => operations.push({ client: node, chain: CHAIN_NAME, value, status: 'info', callTs }) - 1,
    );
    void cluster.append(node, values).then((outcome) => {
      const returnTs = cluster.clock.nowMs() * 1e6;
      indexes.forEach((operationIndex, position) => {
        const operation = operations[operationIndex] as ChainAppendOperation;
        if (!(outcome instanceof Error)) {
          acknowledgedEpoch.set(operation.value, outcome.epoch);
          operations[operationIndex] = {
            ...operation,
            status: 'ok',
            offset: outcome.firstOffset + position,
            returnTs,
          };
        } else if (!isMeshError(outcome, 'CHAIN_APPEND_OUTCOME_UNKNOWN')) {
          // Refused before it was written (not the leader, lease lapsed, backlog full).
          operations[operationIndex] = { ...operation, status: 'fail', returnTs };
        }
      });
    });
  };

  try {
    for (let step = 0; step < options.steps; step++) {
      const roll = random.nextInt(100);
      const node = nodes[random.nextInt(nodes.length)] as NodeId;
      const target = cluster.node(node);
      if (roll < 45) {
        const leaders = cluster.leaders();
        const through =
          leaders.length > 0 && random.chance(0.9)
            ? (leaders[random.nextInt(leaders.length)] as NodeId)
            : node;
        if (cluster.node(through).alive) append(through, 1 + random.nextInt(3));
      } else if (roll < 55 && canCrash) {
        if (target.alive) {
          crashes++;
          const unsynced = target.log instanceof MemoryChainLog ? target.log.unsyncedWriteCount : 0;
          cluster.crash(node, random.nextInt(unsynced + 1));
          // Half the time a supervisor restarts it at once (kill -9, then restart).
          if (random.chance(0.5)) cluster.restart(node);
        } else {
          cluster.restart(node);
        }
      } else if (roll < 62 || (roll < 55 && !canCrash)) {
        if (target.clock.isPaused) cluster.resume(node);
        else if (target.alive) {
          pauses++;
          cluster.pause(node);
        }
      } else if (roll < 70) {
        partitions++;
        cluster.heal();
        const side = nodes.filter(() => random.chance(0.4));
        if (side.length > 0 && side.length < nodes.length) cluster.partition(side);
      } else if (roll < 75) {
        cluster.heal();
      } else if (roll < 85 && options.membershipChanges === true) {
        if (changeMembership(cluster, random)) promotions++;
      }
      await cluster.run(1 + random.nextInt(250));
      for (const id of nodes) maxStartOffset = Math.max(maxStartOffset, cluster.node(id).log.startOffset);
    }

    // Liveness: every fault stops.
    cluster.links = CALM_LINKS;
    cluster.heal();
    for (const id of nodes) {
      cluster.restart(id);
      cluster.resume(id);
    }
    const problems = [...cluster.violations];
    let final: number | undefined;
    let finalDone = false;
    for (let waited = 0; !finalDone && waited < LIVENESS_LIMIT_MS; waited += 100) {
      const leader = cluster.leaderId();
      if (leader !== undefined && final === undefined) {
        final = counter;
        const value = `v${counter++}`;
        operations.push({
          client: leader,
          chain: CHAIN_NAME,
          value,
          status: 'info',
          callTs: cluster.clock.nowMs() * 1e6,
        });
        const operationIndex = operations.length - 1;
        void cluster.append(leader, [value]).then((outcome) => {
          if (outcome instanceof Error) {
            final = undefined;
            return;
          }
          operations[operationIndex] = {
            ...(operations[operationIndex] as ChainAppendOperation),
            status: 'ok',
            offset: outcome.firstOffset,
          };
          finalDone = true;
        });
      }
      await cluster.run(100);
    }
    if (!finalDone)
      problems.push(`no append acknowledged within ${LIVENESS_LIMIT_MS} ms after the faults stopped`);
    const leader = cluster.leaderId();
    if (leader !== undefined && finalDone) {
      const end = cluster.node(leader).log.endOffset;
      // The chain's members now: replicas and learners (a replaced node's copy is left behind).
      const members = [...cluster.definition.replicas, ...(cluster.definition.learners ?? [])];
      try {
        await cluster.runUntil(
          () =>
            members.every(
              (id) => cluster.replica(id).commitOffset === end && cluster.node(id).log.endOffset === end,
            ),
          LIVENESS_LIMIT_MS,
          'every replica and learner reaches the leader’s commit offset',
        );
      } catch (error) {
        problems.push(String(error));
      }
      const copies = new Map<string, ReplicaRecord[]>();
      const startOffsets = new Map<string, number>();
      for (const id of members) {
        const log = cluster.node(id).log;
        const records: ReplicaRecord[] = [];
        for (let offset = log.startOffset; offset < log.endOffset; offset++) {
          const entry = log.entryAt(offset);
          if (entry?.kind === 'data')
            records.push({ offset, value: new TextDecoder().decode(entry.payload) });
        }
        copies.set(`node ${id}`, records);
        startOffsets.set(`node ${id}`, log.startOffset);
      }
      // With quorum and all, every record committed anywhere was seen at its offset (retention
      // drops only checked ones): the chain's whole history, against which nothing is lost.
      if (options.acks !== 'one') copies.set('committed history', committedHistory(cluster));
      const finalEpoch = cluster.definition.epoch;
      problems.push(
        ...chainReplicaProblems(CHAIN_NAME, operations, copies, {
          startOffsets,
          // acks one: acknowledged by a leader that later lost its place, it may be gone; never
          // one acknowledged in the final epoch (its leader never lost it).
          ...(options.acks === 'one'
            ? {
                mayBeLost: (operation: ChainAppendOperation) =>
                  (acknowledgedEpoch.get(operation.value) ?? finalEpoch) < finalEpoch,
              }
            : {}),
        }),
      );
    }
    problems.push(...cluster.violations.slice(problems.length === 0 ? 0 : cluster.violations.length));
    return {
      problems: [...new Set([...problems, ...cluster.violations])],
      acknowledged: operations.filter((operation) => operation.status === 'ok').length,
      epochs: cluster.definition.epoch,
      crashes,
      partitions,
      pauses,
      messagesDropped: cluster.messagesDropped,
      promotions,
      maxStartOffset,
    };
  } finally {
    cluster.close();
    for (const log of logs.values()) await log.close();
  }
}

/**
 * One replica-set change, as the coordinator would make it: with no learner, a node outside the
 * replica set becomes one; with one, it is promoted in place of a crashed replica that is not the
 * leader once the leader's status counts it caught up as the coordinator does (`learnerCaughtUp`:
 * past the commit offset and the leader's epoch start, so every committed record, and a majority
 * of the new set still holds each), or now and then removed. Answers
 * whether a promotion was made.
 */
function changeMembership(cluster: ChainCluster, random: Random): boolean {
  const definition = cluster.definition;
  const learner = definition.learners?.[0];
  if (learner === undefined) {
    const outside = [...cluster.nodes.keys()].filter((id) => !definition.replicas.includes(id));
    const chosen = outside[random.nextInt(outside.length)];
    if (chosen !== undefined) cluster.addLearner(chosen);
    return false;
  }
  const leader = cluster.leader();
  const status = leader?.status();
  const caughtUp =
    status !== undefined &&
    status.epoch === definition.epoch &&
    status.replicas.some((member) => member.node === learner && learnerCaughtUp(status, member.matchOffset));
  const gone = definition.replicas.filter((id) => id !== definition.leader && !cluster.node(id).alive);
  const replaced = gone[random.nextInt(Math.max(1, gone.length))];
  if (caughtUp && replaced !== undefined) return cluster.promoteLearner(learner, replaced);
  if (random.chance(0.2)) cluster.removeLearner(learner);
  return false;
}
