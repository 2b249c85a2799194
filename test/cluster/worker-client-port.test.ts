/**
 * A worker's client port on real processes: three voters and a worker (`meshos start --role
 * worker --client-listen`), every chains call made through the worker's port only, with the
 * client and with the CLI; etcd's API there answers UNIMPLEMENTED naming the voters.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { MeshClient } from '../../src/client/index.js';
import { isMeshError } from '../../src/lib/index.js';
import { CHAIN_CALL_TIMEOUT_MS, createChain, eventually, readAll } from './chain-cluster.js';
import { exitCode, meshos, UP_TIMEOUT_MS } from './meshos-process.js';
import { ProcessCluster } from './process-cluster.js';
import { meshosNodes, WorkerProcesses } from './worker-processes.js';

const VOTERS = 3;
const LEADER_TIMEOUT_MS = 30_000;
const RECORDS = 20;

/** Appends `value` through `client`, again while the chain is not ready to take it (not written). */
async function appendWhenReady(client: MeshClient, chain: string, value: string): Promise<void> {
  await eventually(`append ${value}`, async () => {
    try {
      await client.chains.append(chain, value, { timeoutMs: CHAIN_CALL_TIMEOUT_MS });
      return true;
    } catch (error) {
      if (isMeshError(error) && ['CHAIN_NOT_LEADER', 'CHAIN_UNAVAILABLE'].includes(error.code))
        return undefined;
      throw error;
    }
  });
}

/** Runs `meshos ARGS --endpoints ENDPOINT`, expects exit 0, answers its output. */
async function cli(endpoint: string, args: readonly string[]): Promise<string> {
  const running = meshos([...args, '--endpoints', endpoint]);
  const code = await exitCode(running, UP_TIMEOUT_MS);
  expect(code, running.output()).toBe(0);
  return running.output();
}

describe("a worker's client port", () => {
  let cluster: ProcessCluster | undefined;
  let workers: WorkerProcesses | undefined;
  let client: MeshClient | undefined;
  afterAll(async () => {
    client?.close();
    await workers?.stopAll();
    await cluster?.stopAll();
  });

  it('serves chains (create, append, read, subscribe, status, list) to the client and the CLI; refuses the KV', async () => {
    cluster = await ProcessCluster.create(VOTERS);
    cluster.startAll();
    await cluster.waitForLeader(LEADER_TIMEOUT_MS);
    workers = WorkerProcesses.onVoters(cluster, { leaseTtlSeconds: 5 });
    const worker = await workers.add('w1');
    const workerId = await workers.nodeId('w1');
    // Leader discovery on (the CLI's default): the worker does not answer Maintenance.Status.
    client = await MeshClient.connect({ endpoints: [worker.client], timeoutMs: CHAIN_CALL_TIMEOUT_MS });

    // The worker's record names its client port.
    const listed = (await meshosNodes([cluster.plan(1).admin])).find((node) => node.id === workerId);
    expect(listed?.addresses.client).toBe(worker.client);

    // Created through the worker (its origin) on all four nodes: the worker holds a replica.
    await createChain(client, 'via-worker', VOTERS + 1);
    const created = await client.chains.status('via-worker');
    expect(created.replicas.map((replica) => replica.node)).toContain(workerId);
    expect(created.epoch).toBeGreaterThanOrEqual(1);

    const subscription = client.chains.subscribe('via-worker');
    const delivered: string[] = [];
    const subscribed = (async () => {
      for await (const record of subscription) {
        delivered.push(new TextDecoder().decode(record.payload));
        if (delivered.length === RECORDS + 1) break;
      }
    })();
    const written: string[] = [];
    for (let count = 0; count < RECORDS; count++) {
      written.push(`w-${count}`);
      await appendWhenReady(client, 'via-worker', `w-${count}`);
    }
    await cli(worker.client, ['chain', 'append', 'via-worker', 'w-cli']);
    written.push('w-cli');
    await subscribed;
    expect(delivered).toEqual(written);
    expect((await readAll(client, 'via-worker')).map((record) => record.value)).toEqual(written);

    const read = JSON.parse(await cli(worker.client, ['chain', 'read', 'via-worker', '--json'])) as {
      records: { payload: string }[];
    };
    expect(read.records.map((record) => record.payload)).toEqual(written);
    const tail = await cli(worker.client, [
      'chain',
      'tail',
      'via-worker',
      '--from',
      '0',
      '--count',
      '3',
      '--json',
    ]);
    expect(
      tail
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { payload: string }).payload),
    ).toEqual(written.slice(0, 3));
    const status = JSON.parse(await cli(worker.client, ['chain', 'status', 'via-worker', '--json'])) as {
      name: string;
      replicas: { node: number; offset: number }[];
      commitOffset: number;
    };
    expect(status.name).toBe('via-worker');
    expect(status.replicas.map((replica) => replica.node).sort((a, b) => a - b)).toEqual([1, 2, 3, workerId]);
    expect(status.commitOffset).toBeGreaterThanOrEqual(written.length);
    const list = JSON.parse(await cli(worker.client, ['chain', 'list', '--json'])) as { name: string }[];
    expect(list.map((chain) => chain.name)).toContain('via-worker');

    // The CLI creates a chain through the worker too.
    await cli(worker.client, ['chain', 'create', 'by-cli', '--replicas', '3']);
    await appendWhenReady(client, 'by-cli', 'x');
    expect((await readAll(client, 'by-cli')).map((record) => record.value)).toEqual(['x']);

    // MeshOS's other services are on the same list: the worker serves Daemons too.
    expect(await eventually('the worker lists daemons', () => client!.daemons.list())).toEqual([]);

    // The etcd API is the voters': the worker says so, naming them.
    const refused = await client.get('any').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isMeshError(refused, 'UNIMPLEMENTED')).toBe(true);
    expect(String((refused as Error).message)).toContain(`node ${workerId} is a worker`);
    expect(String((refused as Error).message)).toContain(cluster.clientEndpoints.join(','));
  }, 240_000);
});
