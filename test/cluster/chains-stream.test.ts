/**
 * `client.chains.append` pipelines appends on one AppendStream per node. Three meshos processes;
 * two clients, each with eight appends in flight, append through the nodes that stay up while the
 * chain's leader is kill -9'd. Every acknowledged append is read back exactly once, at its
 * acknowledged offset, in one order, by every replica (the killed one restarted); each loop's
 * acknowledged appends are in the order it made them; none cut off by the kill was acknowledged.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { MeshClient } from '../../src/client/index.js';
import { chainReplicaProblems, historyLines, type ReplicaRecord } from '../support/chain-history.js';
import { ChainAppenders } from './chain-appenders.js';
import { CHAIN_CALL_TIMEOUT_MS, clientOf, createChain, eventually, readAll } from './chain-cluster.js';
import { ProcessCluster } from './process-cluster.js';

const NODES = [1, 2, 3];
const LEADER_TIMEOUT_MS = 30_000;
const CLIENTS = 2;
/** Appends each client keeps in flight on its stream. */
const LANES = 8;
const APPENDS_BEFORE_KILL = 200;
const APPENDS_AFTER_FAILOVER = 200;
const MAX_APPENDS_PER_LANE = 5_000;
const APPENDERS_MAX_MS = 180_000;

describe('pipelined appends on three meshos processes', () => {
  let cluster: ProcessCluster | undefined;
  const clients: MeshClient[] = [];
  afterAll(async () => {
    for (const client of clients) client.close();
    await cluster?.stopAll();
  });

  it('reads back every acknowledged append exactly once and in order through a leader kill', async () => {
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

    await createChain(on(1), 'piped', 3);
    const before = await eventually('piped has a leader', async () => {
      const status = await on(1).chains.status('piped');
      return status.leader === 0 ? undefined : status;
    });
    const doomed = before.leader as number;
    const survivors = NODES.filter((id) => id !== doomed);
    const appenders = new ChainAppenders({
      endpoints: survivors.map((id) => cluster!.plan(id).client),
      chain: 'piped',
      clients: CLIENTS,
      lanes: LANES,
      maxAppendsPerClient: MAX_APPENDS_PER_LANE,
      maxDurationMs: APPENDERS_MAX_MS,
      appendTimeoutMs: CHAIN_CALL_TIMEOUT_MS,
    });
    const operations = appenders.operations;
    await eventually('appends acknowledged before the kill', async () =>
      appenders.acknowledged() >= APPENDS_BEFORE_KILL ? true : undefined,
    );
    await cluster.kill(doomed);
    const after = await eventually('a new leader of piped', async () => {
      const status = await on(survivors[0]!).chains.status('piped');
      return status.epoch > before.epoch && status.leader !== doomed && status.leader !== 0
        ? status
        : undefined;
    });
    const acknowledgedAtFailover = appenders.acknowledged();
    await eventually('appends acknowledged after the failover', async () =>
      appenders.acknowledged() >= acknowledgedAtFailover + APPENDS_AFTER_FAILOVER ? true : undefined,
    );
    cluster.start(doomed);
    const restarted = await clientOf(cluster, doomed);
    clients.push(restarted);
    client.set(doomed, restarted);
    await appenders.stop();

    const copies = await eventually('every replica holds the same records', async () => {
      const read = new Map<string, ReplicaRecord[]>();
      for (const id of NODES) read.set(`n${id}`, await readAll(on(id), 'piped'));
      return chainReplicaProblems('piped', operations, read).length === 0 ? read : undefined;
    });
    writeFileSync(path.join(cluster.root, 'piped-history.jsonl'), historyLines(operations));
    expect(chainReplicaProblems('piped', operations, copies)).toEqual([]);
    // One loop's appends are made one after another: their offsets grow in that order.
    const disorders: string[] = [];
    for (let loop = 0; loop < CLIENTS * LANES; loop++) {
      const offsets = operations
        .filter((operation) => operation.client === loop && operation.status === 'ok')
        .sort((a, b) => a.callTs - b.callTs)
        .map((operation) => operation.offset as number);
      for (let index = 1; index < offsets.length; index++) {
        if (offsets[index]! <= offsets[index - 1]!)
          disorders.push(`loop ${loop}: ${offsets[index - 1]} then ${offsets[index]}`);
      }
    }
    expect(disorders).toEqual([]);
    const okCount = operations.filter((operation) => operation.status === 'ok').length;
    const unknown = operations.filter((operation) => operation.status === 'info').length;
    expect(okCount).toBeGreaterThanOrEqual(APPENDS_BEFORE_KILL + APPENDS_AFTER_FAILOVER);
    expect(after.epoch).toBeGreaterThan(before.epoch);
    console.log(
      `pipelined appends: leader n${doomed} killed, epoch ${before.epoch} -> ${after.epoch}; ` +
        `${okCount} acknowledged, ${unknown} of unknown outcome, ${operations.length - okCount - unknown} refused; ` +
        `history ${cluster.root}/piped-history.jsonl`,
    );
  }, 240_000);
});
