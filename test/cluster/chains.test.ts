import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fetchStatus } from '../../src/cli/admin-json.js';
import type { MeshClient } from '../../src/client/index.js';
import { isMeshError } from '../../src/lib/index.js';
import { chainReplicaProblems, historyLines, type ReplicaRecord } from '../support/chain-history.js';
import { ChainAppenders, loopOrderProblems, nanosecondsNow } from './chain-appenders.js';
import { CHAIN_CALL_TIMEOUT_MS, clientOf, createChain, eventually, readAll } from './chain-cluster.js';
import { exitCode, meshos, UP_TIMEOUT_MS } from './meshos-process.js';
import { ProcessCluster } from './process-cluster.js';
import { WorkerProcesses } from './worker-processes.js';

const NODES = [1, 2, 3];
const LEADER_TIMEOUT_MS = 30_000;
/** Acknowledged appends wanted before the leader is killed, and again after the new leader took over. */
const APPENDS_BEFORE_KILL = 30;
const APPENDS_AFTER_FAILOVER = 30;
const APPENDERS = 3;
/** Appends each appender keeps in flight (pipelined on its client's append stream to a node). */
const LANES_PER_APPENDER = 4;
/** Each appender stops after this many attempts even if the test never tells it to. */
const MAX_APPENDS_PER_CLIENT = 2_000;
/** ...or once they have run this long. */
const APPENDERS_MAX_MS = 180_000;

describe('chains on three meshos processes', () => {
  let cluster: ProcessCluster | undefined;
  const clients: MeshClient[] = [];
  afterAll(async () => {
    for (const client of clients) client.close();
    await cluster?.stopAll();
  });

  it('serves a chain end to end: appends through every node, read back from every node, a leader killed', async () => {
    cluster = await ProcessCluster.create(NODES.length);
    cluster.startAll();
    await cluster.waitForLeader(LEADER_TIMEOUT_MS);
    const client = new Map<number, MeshClient>();
    for (const id of NODES) {
      const connected = await clientOf(cluster, id);
      clients.push(connected);
      client.set(id, connected);
    }
    const on = (id: number): MeshClient => client.get(id)!;

    // Appends through every node reach the leader; every node reads them back in one order.
    await createChain(on(1), 'orders', 3);
    const created = await on(2).chains.status('orders');
    expect(created.replicas.map((replica) => replica.node).sort()).toEqual(NODES);
    expect(created.epoch).toBe(1);
    const written: string[] = [];
    for (const id of NODES) {
      for (let count = 0; count < 5; count++) {
        const value = `via-${id}-${count}`;
        await eventually(`append ${value}`, async () => {
          try {
            await on(id).chains.append('orders', value, { timeoutMs: CHAIN_CALL_TIMEOUT_MS });
            return true;
          } catch (error) {
            // Not written: try again (a leader still claiming its epoch says so).
            if (isMeshError(error) && ['CHAIN_NOT_LEADER', 'CHAIN_UNAVAILABLE'].includes(error.code))
              return undefined;
            throw error;
          }
        });
        written.push(value);
      }
    }
    // The CLI reaches the same service: an append through node 3, the leader's view as JSON.
    const cliAppend = meshos(['chain', 'append', 'orders', 'via-cli', '--endpoints', cluster.plan(3).client]);
    expect(await exitCode(cliAppend, UP_TIMEOUT_MS)).toBe(0);
    written.push('via-cli');
    const cliStatus = meshos(['chain', 'status', 'orders', '--json', '--endpoints', cluster.plan(1).client]);
    expect(await exitCode(cliStatus, UP_TIMEOUT_MS)).toBe(0);
    const statusJson = JSON.parse(cliStatus.output()) as {
      name: string;
      epoch: number;
      leader: number;
      acks: string;
      replicas: { node: number; offset: number; lag: number; healthy: boolean }[];
    };
    expect(statusJson).toMatchObject({ name: 'orders', epoch: 1, leader: created.leader, acks: 'quorum' });
    expect(statusJson.replicas.map((replica) => replica.node).sort()).toEqual(NODES);
    for (const id of NODES) {
      await eventually(`node ${id} reads every record of orders`, async () => {
        const records = await readAll(on(id), 'orders');
        return records.map((record) => record.value).join() === written.join() ? true : undefined;
      });
    }

    // Appenders run while the chain's leader is killed; a new leader takes over in a new epoch.
    // Each keeps LANES_PER_APPENDER appends in flight on its client's append stream: every
    // acknowledged one is read back once at its offset, each loop's in the order it made them.
    await createChain(on(1), 'events', 3);
    const before = await eventually('events has a leader', async () => {
      const status = await on(1).chains.status('events');
      return status.leader === 0 ? undefined : status;
    });
    const doomed = before.leader as number;
    const survivors = NODES.filter((id) => id !== doomed);
    // Each appender talks to nodes that stay up, so its calls measure the chain, not the client.
    const appenders = new ChainAppenders({
      endpoints: survivors.map((id) => cluster!.plan(id).client),
      chain: 'events',
      clients: APPENDERS,
      lanes: LANES_PER_APPENDER,
      maxAppendsPerClient: MAX_APPENDS_PER_CLIENT,
      maxDurationMs: APPENDERS_MAX_MS,
      appendTimeoutMs: CHAIN_CALL_TIMEOUT_MS,
    });
    const operations = appenders.operations;
    await eventually('appends acknowledged before the kill', async () =>
      appenders.acknowledged() >= APPENDS_BEFORE_KILL ? true : undefined,
    );
    const killedAtMs = Date.now();
    // For the report only: whether the control plane lost its Raft leader too.
    const raftLeaderAtKill = (await fetchStatus(cluster.plan(doomed).admin, 5_000))?.leaderId;
    const killedAtNs = nanosecondsNow();
    await cluster.kill(doomed);
    const after = await eventually('a new leader of events', async () => {
      const status = await on(survivors[0]!).chains.status('events');
      return status.epoch > before.epoch && status.leader !== doomed && status.leader !== 0
        ? status
        : undefined;
    });
    const acknowledgedAtFailover = appenders.acknowledged();
    await eventually('appends acknowledged after the failover', async () =>
      appenders.acknowledged() >= acknowledgedAtFailover + APPENDS_AFTER_FAILOVER ? true : undefined,
    );
    const failoverMs = Date.now() - killedAtMs;

    // The killed node comes back and catches up while the appenders still run.
    cluster.start(doomed);
    const restarted = await clientOf(cluster, doomed);
    clients.push(restarted);
    client.set(doomed, restarted);
    await appenders.stop();

    const copies = await eventually('every replica holds the same records', async () => {
      const read = new Map<string, ReplicaRecord[]>();
      for (const id of NODES) read.set(`n${id}`, await readAll(on(id), 'events'));
      return chainReplicaProblems('events', operations, read).length === 0 ? read : undefined;
    });
    writeFileSync(path.join(cluster.root, 'events-history.jsonl'), historyLines(operations));
    expect(chainReplicaProblems('events', operations, copies)).toEqual([]);
    expect(loopOrderProblems(operations)).toEqual([]);
    const okCount = operations.filter((operation) => operation.status === 'ok').length;
    const firstAckAfterKillNs = Math.min(
      ...operations
        .filter((operation) => operation.status === 'ok' && operation.callTs > killedAtNs)
        .map((operation) => operation.returnTs ?? Number.POSITIVE_INFINITY),
    );
    expect(copies.get(`n${doomed}`)!.length).toBeGreaterThanOrEqual(okCount);
    expect(after.epoch).toBeGreaterThan(before.epoch);
    console.log(
      `chains failover: leader n${doomed} killed, epoch ${before.epoch} -> ${after.epoch} (leader n${after.leader}), ` +
        `${okCount} acknowledged, ${operations.length - okCount} not; ` +
        `${Math.round((firstAckAfterKillNs - killedAtNs) / 1e6)} ms from kill -9 to the first acknowledged append sent after it ` +
        `(Raft leader at the kill: n${String(raftLeaderAtKill)}), ` +
        `${failoverMs} ms to ${APPENDS_AFTER_FAILOVER} more; history ${cluster.root}/events-history.jsonl`,
    );
  }, 240_000);
});

describe('chains on three voters and a worker', () => {
  let cluster: ProcessCluster | undefined;
  let workers: WorkerProcesses | undefined;
  const clients: MeshClient[] = [];
  afterAll(async () => {
    for (const client of clients) client.close();
    await workers?.stopAll();
    await cluster?.stopAll();
  });

  it('places a replica on the worker, which follows the leader to its commit offset', async () => {
    cluster = await ProcessCluster.create(NODES.length);
    cluster.startAll();
    await cluster.waitForLeader(LEADER_TIMEOUT_MS);
    workers = WorkerProcesses.onVoters(cluster, { leaseTtlSeconds: 5 });
    const worker = await workers.add('w1');
    const workerId = await workers.nodeId('w1');
    const client = await clientOf(cluster, 2);
    clients.push(client);

    // Four replicas on four nodes: the worker must hold one.
    await createChain(client, 'wide', 4);
    const created = await client.chains.status('wide');
    expect(created.replicas.map((replica) => replica.node).sort((a, b) => a - b)).toEqual([
      ...NODES,
      workerId,
    ]);
    for (let count = 0; count < 10; count++) {
      await eventually(`append ${count}`, async () => {
        try {
          await client.chains.append('wide', `r${count}`, { timeoutMs: CHAIN_CALL_TIMEOUT_MS });
          return true;
        } catch (error) {
          if (isMeshError(error) && ['CHAIN_NOT_LEADER', 'CHAIN_UNAVAILABLE'].includes(error.code))
            return undefined;
          throw error;
        }
      });
    }
    const leaderView = await client.chains.status('wide');
    const fromLeader = leaderView.replicas.find((replica) => replica.node === workerId);
    expect(fromLeader).toBeDefined();
    // The worker's own view: it holds the chain and has learned the leader's commit offset.
    await eventually('the worker holds every committed record', async () => {
      const status = (await fetchStatus(worker.admin, 1_000)) as {
        chains?: { chains: { name: string; commitOffset: number; endOffset: number }[] };
      };
      const wide = status?.chains?.chains.find((chain) => chain.name === 'wide');
      return wide !== undefined &&
        wide.commitOffset >= leaderView.commitOffset &&
        wide.endOffset >= leaderView.commitOffset
        ? true
        : undefined;
    });
    const metrics = await (await fetch(`http://${worker.admin}/metrics`)).text();
    expect(metrics).toMatch(/meshos_chain_replicas_held 1\b/);
  }, 180_000);
});
