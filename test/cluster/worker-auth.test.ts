/**
 * A worker under etcd auth, on real processes: three voters with auth on (root, and a user
 * `worker` with readwrite on /meshos/v1/ only), and a worker started with
 * `--control-plane-user worker --control-plane-password-file FILE` that joins, registers and
 * holds a chain replica. Through the WORKER's client port: a user with read-only rights on chain
 * `orders` reads it but cannot append to it or list chains; a wrong password, an unknown user
 * and a call without a user are refused and counted on the worker; a revoked role takes effect
 * there; the CLI's --user works against the worker. `meshos join --via-user root` adds a voter
 * to the cluster under auth.
 */
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MeshClient } from '../../src/client/index.js';
import { isMeshError } from '../../src/lib/index.js';
import { metric } from './admin-metrics.js';
import { CHAIN_CALL_TIMEOUT_MS, createChain, eventually } from './chain-cluster.js';
import { etcdctl } from './etcdctl.js';
import { runMeshos } from './meshos-process.js';
import { ProcessCluster } from './process-cluster.js';
import { meshosNodes, WorkerProcesses } from './worker-processes.js';

const VOTERS = 3;
const LEADER_TIMEOUT_MS = 60_000;
const CLI_TIMEOUT_MS = 30_000;
const ROOT = ['--user', 'root:root-secret'];
const REFUSALS = 'meshos_auth_refusals';

/** The typed error code a MeshOS client call was refused with ('accepted' when it was not). */
async function refusedCode(run: Promise<unknown>): Promise<string> {
  try {
    await run;
    return 'accepted';
  } catch (error) {
    return isMeshError(error) ? error.code : String(error);
  }
}

function connectAs(endpoint: string, user: string, password: string): Promise<MeshClient> {
  return MeshClient.connect({
    endpoints: [endpoint],
    timeoutMs: CHAIN_CALL_TIMEOUT_MS,
    credentials: { user, password },
  });
}

describe('a worker under etcd auth', () => {
  let cluster: ProcessCluster | undefined;
  let workers: WorkerProcesses | undefined;
  const clients: MeshClient[] = [];
  afterAll(async () => {
    for (const client of clients) client.close();
    await workers?.stopAll();
    await cluster?.stopAll();
  });

  it("joins with its control-plane user, and its client port enforces the cluster's roles", async () => {
    cluster = await ProcessCluster.create(VOTERS);
    cluster.startAll();
    await cluster.waitForLeader(LEADER_TIMEOUT_MS);
    const voters = cluster.clientEndpoints;
    await etcdctl(voters, ['user', 'add', 'root:root-secret']);
    await etcdctl(voters, ['user', 'grant-role', 'root', 'root']);
    // The worker's rights: the control plane's keys, nothing else.
    await etcdctl(voters, ['role', 'add', 'mesh-worker']);
    await etcdctl(voters, [
      'role',
      'grant-permission',
      'mesh-worker',
      'readwrite',
      '/meshos/v1/',
      '--prefix',
    ]);
    await etcdctl(voters, ['user', 'add', 'worker:worker-secret']);
    await etcdctl(voters, ['user', 'grant-role', 'worker', 'mesh-worker']);
    await etcdctl(voters, ['role', 'add', 'orders-reader']);
    await etcdctl(voters, ['role', 'grant-permission', 'orders-reader', 'read', '/meshos/v1/chains/orders']);
    await etcdctl(voters, ['user', 'add', 'reader:reader-secret']);
    await etcdctl(voters, ['user', 'grant-role', 'reader', 'orders-reader']);
    expect(await etcdctl(voters, ['auth', 'enable'])).toContain('Authentication Enabled');

    const passwordFile = path.join(cluster.root, 'worker-password');
    await writeFile(passwordFile, 'worker-secret\n', { mode: 0o600 });
    workers = WorkerProcesses.onVoters(cluster, { leaseTtlSeconds: 5 });
    const worker = await workers.add('w1', [
      '--control-plane-user',
      'worker',
      '--control-plane-password-file',
      passwordFile,
    ]);
    // Its id was allocated and its record written through the control plane as `worker`.
    const workerId = await workers.nodeId('w1');
    await eventually('the worker registered', async () =>
      (await meshosNodes([cluster!.plan(1).admin])).some((node) => node.id === workerId) ? true : undefined,
    );

    // Root, authenticated through the worker's port (Authenticate forwarded), creates a chain on
    // all four nodes: the worker holds a replica (its chain coordination writes pass).
    const root = await connectAs(worker.client, 'root', 'root-secret');
    clients.push(root);
    await createChain(root, 'orders', VOTERS + 1);
    await createChain(root, 'payments', VOTERS);
    expect((await root.chains.status('orders')).replicas.map((replica) => replica.node)).toContain(workerId);
    await eventually('an append to orders', () => root.chains.append('orders', 'order-1'));

    // The reader, through the worker only: read yes; append, other chains, lists and daemons no.
    const reader = await connectAs(worker.client, 'reader', 'reader-secret');
    clients.push(reader);
    const deniedBefore = await metric(worker.admin, REFUSALS, 'code="AUTH_PERMISSION_DENIED"');
    expect((await reader.chains.read('orders')).records.length).toBeGreaterThan(0);
    expect(await refusedCode(reader.chains.append('orders', 'forged'))).toBe('AUTH_PERMISSION_DENIED');
    expect(await refusedCode(reader.chains.read('payments'))).toBe('AUTH_PERMISSION_DENIED');
    expect(await refusedCode(reader.chains.list())).toBe('AUTH_PERMISSION_DENIED');
    expect(await refusedCode(reader.daemons.list())).toBe('AUTH_PERMISSION_DENIED');
    expect(await metric(worker.admin, REFUSALS, 'code="AUTH_PERMISSION_DENIED"')).toBeGreaterThanOrEqual(
      deniedBefore + 4,
    );
    // Root's rights hold through the worker too.
    expect((await root.chains.list()).map((chain) => chain.name)).toEqual(
      expect.arrayContaining(['orders', 'payments']),
    );

    // A wrong password and an unknown user are refused by the worker, and counted there.
    const failedBefore = await metric(worker.admin, REFUSALS, 'code="AUTH_FAILED"');
    expect(await refusedCode(connectAs(worker.client, 'reader', 'wrong'))).toBe('AUTH_FAILED');
    expect(await refusedCode(connectAs(worker.client, 'mallory', 'anything'))).toBe('AUTH_FAILED');
    expect(await metric(worker.admin, REFUSALS, 'code="AUTH_FAILED"')).toBeGreaterThanOrEqual(
      failedBefore + 2,
    );
    // No user at all, and a forged token.
    const anonymous = await MeshClient.connect({
      endpoints: [worker.client],
      timeoutMs: CHAIN_CALL_TIMEOUT_MS,
    });
    clients.push(anonymous);
    expect(await refusedCode(anonymous.chains.read('orders'))).toBe('AUTH_USER_EMPTY');
    expect(await metric(worker.admin, REFUSALS, 'code="AUTH_USER_EMPTY"')).toBeGreaterThanOrEqual(1);

    // The CLI's --user against the worker.
    const cliRead = await runMeshos(
      ['chain', 'read', 'orders', '--json', '--user', 'reader:reader-secret'],
      worker.client,
      CLI_TIMEOUT_MS,
    );
    expect(cliRead.code, cliRead.output).toBe(0);
    expect(cliRead.output).toContain('order-1');
    const cliAppend = await runMeshos(
      ['chain', 'append', 'orders', 'x', '--user', 'reader', '--password', 'reader-secret'],
      worker.client,
      CLI_TIMEOUT_MS,
    );
    expect(cliAppend.code).toBe(1);
    expect(cliAppend.output).toContain('AUTH_PERMISSION_DENIED');

    // A revoked role takes effect on the worker's port (it reads the auth revision at most 1 s old).
    await etcdctl(voters, [...ROOT, 'user', 'revoke-role', 'reader', 'orders-reader']);
    await eventually('the revoke reaches the worker', async () =>
      (await refusedCode(reader.chains.read('orders'))) === 'AUTH_PERMISSION_DENIED' ? true : undefined,
    );

    // The worker still works as `worker`: its replica keeps up with appends made through a voter.
    const viaVoter = await MeshClient.connect({
      endpoints: voters,
      timeoutMs: CHAIN_CALL_TIMEOUT_MS,
      credentials: { user: 'root', password: 'root-secret' },
    });
    clients.push(viaVoter);
    const appended = await eventually('an append through a voter', () =>
      viaVoter.chains.append('orders', 'order-2'),
    );
    await eventually('the worker replica has order-2', async () => {
      const status = await root.chains.status('orders');
      const replica = status.replicas.find((candidate) => candidate.node === workerId);
      return replica !== undefined && replica.offset > appended.lastOffset ? true : undefined;
    });

    // `meshos join` asks as root (adding and promoting a member is root's) and becomes a voter.
    const rootPasswordFile = path.join(cluster.root, 'root-password');
    await writeFile(rootPasswordFile, 'root-secret\n', { mode: 0o600 });
    await cluster.join(VOTERS + 1, 1, {
      promote: true,
      extraArguments: ['--via-user', 'root', '--via-password-file', rootPasswordFile],
    });
    await eventually('the joined node is a voter', async () => {
      const members = await etcdctl(voters, [...ROOT, 'member', 'list']);
      const joined = members.split('\n').find((line) => line.includes(`n${VOTERS + 1}`));
      return joined?.trim().endsWith('false') ? true : undefined;
    });
  }, 300_000);
});
