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

const CHAIN = 'faults';
const REPLICAS = 3;
const APPENDERS = 4;
const MAX_APPENDS_PER_CLIENT = 400;
const LOAD_MAX_MS = 90_000;
const APPEND_TIMEOUT_MS = 3_000;
/** Appends acknowledged before a fault, and after it (sent after the fault began). */
const ACKS_BEFORE_FAULT = 40;
const ACKS_AFTER_FAULT = 40;
/** Longer than the epoch lease and the leader-suspicion deadline, so the paused leader is replaced. */
const PAUSE_MS = 4_000;
const CLUSTER_TIMEOUT_MS = 30_000;
/** Starting node processes on a loaded 2-core machine took 20 s for 3 nodes. */
const STARTUP_TIMEOUT_MS = 90_000;

type Fault = 'kill -9' | 'SIGSTOP';

/**
 * test/cluster/chains.test.ts kills a chain's leader on 3 nodes and reads every node back
 * through the API; this adds a 5-node mesh (3 of the 5 hold the chain), a paused leader that
 * comes back, and each replica's own log read from its disk once the nodes are stopped.
 */
describe('a chain with 3 replicas under faults of its leader', () => {
  let cluster: ProcessCluster | undefined;
  const clients = new Map<number, MeshClient>();
  afterEach(async () => {
    for (const client of clients.values()) client.close();
    clients.clear();
    await cluster?.stopAll();
  });

  async function run(fault: Fault, nodes: number): Promise<void> {
    cluster = await ProcessCluster.create(nodes);
    cluster.startAll();
    await cluster.waitForLeader(STARTUP_TIMEOUT_MS);
    for (const plan of cluster.plans) clients.set(plan.id, await clientOf(cluster, plan.id));
    // Retried while the mesh cannot place it yet (the nodes' proximity rows are not published).
    await createChain(clients.get(cluster.plans[0]!.id)!, CHAIN, REPLICAS);
    await until(
      () => chainHealed(clients, CHAIN, REPLICAS),
      'the chain to have a leader and 3 replicas',
      CLUSTER_TIMEOUT_MS,
    );

    const appenders = new ChainAppenders({
      endpoints: cluster.clientEndpoints,
      chain: CHAIN,
      clients: APPENDERS,
      maxAppendsPerClient: MAX_APPENDS_PER_CLIENT,
      maxDurationMs: LOAD_MAX_MS,
      appendTimeoutMs: APPEND_TIMEOUT_MS,
    });
    try {
      await until(
        () => appenders.acknowledged() >= ACKS_BEFORE_FAULT,
        'appends before the fault',
        CLUSTER_TIMEOUT_MS,
      );
      const before = await firstChainStatus(clients, CHAIN);
      const leader = before?.leader ?? 0;
      const epochBefore = before?.epoch ?? 0;
      expect(leader).not.toBe(0);
      const faultAt = nanosecondsNow();
      if (fault === 'kill -9') {
        await cluster.kill(leader);
      } else {
        process.kill(cluster.processes.get(leader)!.pid!, 'SIGSTOP');
      }
      // The others elect a new leader of a higher epoch and go on acknowledging appends.
      await until(
        () => appenders.acknowledged(faultAt) >= ACKS_AFTER_FAULT,
        `appends acknowledged after the ${fault} of the chain's leader`,
        CLUSTER_TIMEOUT_MS,
      );
      const survivors = cluster.plans.map((plan) => plan.id).filter((id) => id !== leader);
      await until(
        async () => {
          const during = await firstChainStatus(clients, CHAIN, survivors);
          return (
            during !== undefined &&
            during.epoch > epochBefore &&
            during.leader !== leader &&
            during.leader !== 0
          );
        },
        'a new leader of a higher epoch',
        CLUSTER_TIMEOUT_MS,
      );
      if (fault === 'kill -9') cluster.start(leader);
      else {
        await new Promise((resolve) =>
          setTimeout(resolve, Math.max(0, PAUSE_MS - (nanosecondsNow() - faultAt) / 1e6)),
        );
        process.kill(cluster.processes.get(leader)!.pid!, 'SIGCONT');
      }
      const healedAt = nanosecondsNow();
      await until(
        () => appenders.acknowledged(healedAt) >= ACKS_AFTER_FAULT,
        'appends acknowledged after the old leader came back',
        CLUSTER_TIMEOUT_MS,
      );
    } finally {
      await appenders.stop();
    }
    await until(
      () => chainHealed(clients, CHAIN, REPLICAS),
      'every replica to catch up after healing',
      CLUSTER_TIMEOUT_MS,
    );

    const operations = appenders.operations;
    const directory = path.resolve('artifacts', 'cluster');
    mkdirSync(directory, { recursive: true });
    const historyFile = path.join(
      directory,
      `chains-faults-${fault === 'kill -9' ? 'kill' : 'pause'}-history.jsonl`,
    );
    writeFileSync(historyFile, historyLines(operations));
    console.log(`chain append history (${operations.length} appends) written to ${historyFile}`);

    // What every node answers a reader, then every replica's own copy once the nodes are stopped.
    const finalStatus = await firstChainStatus(clients, CHAIN);
    const commitOffset = finalStatus?.commitOffset ?? 0;
    const copies = new Map<string, readonly ReplicaRecord[]>();
    for (const [node, nodeClient] of clients) {
      // A follower learns the commit offset from the leader's next message: wait until it has.
      let read: ReplicaRecord[] = [];
      await until(
        async () => {
          const answer = await readCommitted(nodeClient, CHAIN).catch(() => undefined);
          if (answer === undefined) return false;
          read = answer.records;
          return answer.nextOffset >= commitOffset;
        },
        `node ${node} to read up to the commit offset ${commitOffset}`,
        CLUSTER_TIMEOUT_MS,
      );
      copies.set(`read via n${node}`, read);
    }
    await cluster.stopAll();
    const replicaNodes = new Set(finalStatus?.replicas.map((replica) => replica.node));
    expect(replicaNodes.size).toBe(REPLICAS);
    for (const plan of cluster.plans) {
      if (replicaNodes.has(plan.id)) copies.set(`n${plan.id} on disk`, await replicaCopy(plan.data, CHAIN));
    }

    expect(appenders.acknowledged()).toBeGreaterThanOrEqual(ACKS_BEFORE_FAULT + 2 * ACKS_AFTER_FAULT);
    expect(chainReplicaProblems(CHAIN, operations, copies)).toEqual([]);
  }

  it('5 nodes, kill -9 of the leader: every acknowledged append once, in one order, on every replica', async () => {
    await run('kill -9', 5);
  }, 360_000);

  it('3 nodes, SIGSTOP of the leader, then SIGCONT: every acknowledged append once, in one order, on every replica', async () => {
    await run('SIGSTOP', 3);
  }, 360_000);
});
