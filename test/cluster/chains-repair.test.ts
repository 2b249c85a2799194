import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { MeshClient } from '../../src/client/index.js';
import { chainReplicaProblems, historyLines, type ReplicaRecord } from '../support/chain-history.js';
import { until } from '../support/until.js';
import { ChainAppenders, nanosecondsNow } from './chain-appenders.js';
import {
  chainHealed,
  clientOf,
  createChain,
  firstChainStatus,
  readCommitted,
  replicaCopy,
} from './chain-cluster.js';
import { ProcessCluster } from './process-cluster.js';

const CHAIN = 'repaired';
const NODES = 5;
const REPLICAS = 3;
/** Short, so the test sees a repair; the node default is 60 s. */
const REPAIR_GRACE_MS = 4_000;
const APPENDERS = 3;
// Paced so the load outlasts the repair (14-24 s measured, up to REPAIR_TIMEOUT_MS): unpaced, the
// appenders spent their count in about 17 s on a quiet machine and none were left to show the
// repaired set acknowledging appends. The time bound ends the load first (150 s at 50/s each).
const APPEND_PACE_MS = 20;
const MAX_APPENDS_PER_CLIENT = 8_000;
const LOAD_MAX_MS = 150_000;
const APPEND_TIMEOUT_MS = 3_000;
const ACKS_BEFORE_KILL = 40;
const ACKS_AFTER_REPAIR = 40;
/** Lease expiry (5 s), the grace period, plan intervals (5 s) and a learner's catch-up, on a loaded machine. */
const REPAIR_TIMEOUT_MS = 120_000;
const CLUSTER_TIMEOUT_MS = 60_000;
const STARTUP_TIMEOUT_MS = 90_000;

/**
 * A replica's node killed for good: once it has been gone past the grace period the chain
 * coordinator adds a learner on a node that held none, the leader catches it up, and it is
 * promoted in the dead node's place by compare-and-swap, while appenders keep writing.
 */
describe('a chain whose replica node is gone for good', () => {
  let cluster: ProcessCluster | undefined;
  const clients = new Map<number, MeshClient>();
  afterEach(async () => {
    for (const client of clients.values()) client.close();
    clients.clear();
    await cluster?.stopAll();
  });

  it('5 nodes: a new replica is placed, caught up and promoted; every acknowledged append once, in one order, on every replica', async () => {
    cluster = await ProcessCluster.create(NODES, {
      nodeArguments: ['--chain-repair-grace-ms', String(REPAIR_GRACE_MS)],
    });
    cluster.startAll();
    await cluster.waitForLeader(STARTUP_TIMEOUT_MS);
    for (const plan of cluster.plans) clients.set(plan.id, await clientOf(cluster, plan.id));
    // Create answers once the leader claimed its epoch: a majority healthy there and in a status
    // asked at once through another node.
    const answer = await createChain(clients.get(1)!, CHAIN, REPLICAS);
    const majority = Math.floor(REPLICAS / 2) + 1;
    if (answer !== undefined) {
      expect(answer.replicas.filter((replica) => replica.healthy).length).toBeGreaterThanOrEqual(majority);
      const immediate = await clients.get(2)!.chains.status(CHAIN);
      expect(immediate.replicas.filter((replica) => replica.healthy).length).toBeGreaterThanOrEqual(majority);
    }
    await until(
      () => chainHealed(clients, CHAIN, REPLICAS),
      'the chain to have 3 healthy replicas',
      CLUSTER_TIMEOUT_MS,
    );
    const created = (await firstChainStatus(clients, CHAIN))!;
    const original = created.replicas.map((replica) => replica.node);
    // A follower: the repair, not a failover, is what this test shows.
    const victim = original.find((node) => node !== created.leader)!;
    const survivors = cluster.plans.map((plan) => plan.id).filter((id) => id !== victim);
    const survivorClients = new Map([...clients].filter(([id]) => id !== victim));

    const appenders = new ChainAppenders({
      endpoints: survivors.map((id) => cluster!.plan(id).client),
      chain: CHAIN,
      clients: APPENDERS,
      maxAppendsPerClient: MAX_APPENDS_PER_CLIENT,
      maxDurationMs: LOAD_MAX_MS,
      appendTimeoutMs: APPEND_TIMEOUT_MS,
      paceMs: APPEND_PACE_MS,
    });
    let repairedAt = 0;
    let killedAt = 0;
    try {
      await until(
        () => appenders.acknowledged() >= ACKS_BEFORE_KILL,
        'appends before the kill',
        CLUSTER_TIMEOUT_MS,
      );
      killedAt = nanosecondsNow();
      await cluster.kill(victim);
      await until(
        async () => {
          const status = await firstChainStatus(survivorClients, CHAIN);
          const replicas = status?.replicas.map((replica) => replica.node) ?? [];
          return (
            status !== undefined &&
            status.leader !== 0 &&
            (status.learners ?? []).length === 0 &&
            replicas.length === REPLICAS &&
            !replicas.includes(victim) &&
            status.replicas.every((replica) => replica.healthy)
          );
        },
        `a replica in place of n${victim}, promoted and healthy`,
        REPAIR_TIMEOUT_MS,
      );
      repairedAt = nanosecondsNow();
      await until(
        () => appenders.acknowledged(repairedAt) >= ACKS_AFTER_REPAIR,
        'appends acknowledged by the repaired replica set',
        CLUSTER_TIMEOUT_MS,
      );
    } finally {
      await appenders.stop();
    }
    console.log(
      `n${victim} killed; its replacement promoted and healthy ${((repairedAt - killedAt) / 1e9).toFixed(1)} s later (grace ${REPAIR_GRACE_MS} ms)`,
    );
    await until(
      () => chainHealed(survivorClients, CHAIN, REPLICAS),
      'every replica of the new set at the commit offset',
      CLUSTER_TIMEOUT_MS,
    );
    const final = (await firstChainStatus(survivorClients, CHAIN))!;
    const replicaNodes = final.replicas.map((replica) => replica.node);
    const added = replicaNodes.filter((node) => !original.includes(node));
    expect(added).toHaveLength(1);
    expect(replicaNodes.sort()).toEqual([...original.filter((node) => node !== victim), ...added].sort());
    // Promotion starts a new epoch: at least one more than the chain was created with.
    expect(final.epoch).toBeGreaterThan(created.epoch);

    const operations = appenders.operations;
    const directory = path.resolve('artifacts', 'cluster');
    mkdirSync(directory, { recursive: true });
    const historyFile = path.join(directory, 'chains-repair-history.jsonl');
    writeFileSync(historyFile, historyLines(operations));
    console.log(`chain append history (${operations.length} appends) written to ${historyFile}`);

    // Every surviving node reads the chain back, then every replica of the final set from its disk.
    const copies = new Map<string, readonly ReplicaRecord[]>();
    for (const [node, nodeClient] of survivorClients) {
      let read: ReplicaRecord[] = [];
      await until(
        async () => {
          const answer = await readCommitted(nodeClient, CHAIN).catch(() => undefined);
          if (answer === undefined) return false;
          read = answer.records;
          return answer.nextOffset >= final.commitOffset;
        },
        `node ${node} to read up to the commit offset ${final.commitOffset}`,
        CLUSTER_TIMEOUT_MS,
      );
      copies.set(`read via n${node}`, read);
    }
    await cluster.stopAll();
    for (const node of replicaNodes)
      copies.set(`n${node} on disk`, await replicaCopy(cluster.plan(node).data, CHAIN));

    expect(appenders.acknowledged()).toBeGreaterThanOrEqual(ACKS_BEFORE_KILL + ACKS_AFTER_REPAIR);
    expect(chainReplicaProblems(CHAIN, operations, copies)).toEqual([]);
  }, 420_000);
});
