import type { AcksPolicy, ChainLog } from '../../../src/chains/index.js';
import { isMeshError, ManualClock, type NodeId } from '../../../src/lib/index.js';
import { type ChainAppendOperation, chainReplicaProblems, type ReplicaRecord } from '../chain-history.js';
import { CALM_LINKS, ChainCluster, type LinkFaults } from './chain-cluster.js';
import { MemoryChainLog } from './memory-chain-log.js';

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
  const clock = new ManualClock(0);
  const logs = new Map<NodeId, ChainLog>();
  if (options.openLog !== undefined)
    for (const id of replicas) logs.set(id, await options.openLog(id, clock));
  const cluster = new ChainCluster({
    replicas,
    acks: options.acks,
    seed: options.seed,
    links: options.links,
    clock,
    logs,
  });
  const canCrash = logs.size === 0;
  const random = cluster.random.fork('actions');
  const operations: ChainAppendOperation[] = [];
  let counter = 0;
  let crashes = 0;
  let partitions = 0;
  let pauses = 0;

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
      const node = replicas[random.nextInt(replicas.length)] as NodeId;
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
        const side = replicas.filter(() => random.chance(0.4));
        if (side.length > 0 && side.length < replicas.length) cluster.partition(side);
      } else if (roll < 75) {
        cluster.heal();
      }
      await cluster.run(1 + random.nextInt(250));
    }

    // Liveness: every fault stops.
    cluster.links = CALM_LINKS;
    cluster.heal();
    for (const id of replicas) {
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
      try {
        await cluster.runUntil(
          () =>
            replicas.every(
              (id) => cluster.replica(id).commitOffset === end && cluster.node(id).log.endOffset === end,
            ),
          LIVENESS_LIMIT_MS,
          'every replica reaches the leader’s commit offset',
        );
      } catch (error) {
        problems.push(String(error));
      }
      const copies = new Map<string, ReplicaRecord[]>();
      for (const id of replicas) {
        const log = cluster.node(id).log;
        const records: ReplicaRecord[] = [];
        for (let offset = 0; offset < log.endOffset; offset++) {
          const entry = log.entryAt(offset);
          if (entry?.kind === 'data')
            records.push({ offset, value: new TextDecoder().decode(entry.payload) });
        }
        copies.set(`node ${id}`, records);
      }
      problems.push(...chainReplicaProblems(CHAIN_NAME, operations, copies));
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
    };
  } finally {
    cluster.close();
    for (const log of logs.values()) await log.close();
  }
}
