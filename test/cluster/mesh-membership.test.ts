/**
 * Membership across real processes: voters and workers register under leases, `meshos nodes`
 * lists them, a worker killed with -9 leaves once its lease expires (not before, and no later
 * than its TTL plus the store's expiry and watch delays) and comes back with the same id. Once
 * with MeshOS voters as the control plane, once with an external etcd 3.4 cluster and no voter.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fetchAdminJson } from '../../src/cli/admin-json.js';
import { FIRST_WORKER_NODE_ID, type NodeListing } from '../../src/mesh/index.js';
import { createClusterCa } from '../../src/transport/index.js';
import { EtcdCluster } from '../support/etcd-cluster.js';
import { until } from '../support/until.js';
import { ProcessCluster } from './process-cluster.js';
import { MembershipWatcher, meshosNodes, WorkerProcesses } from './worker-processes.js';

const LEASE_TTL_SECONDS = 3;
/**
 * After the TTL: the store's expiry check (MeshOS's leader every 100 ms, etcd every 500 ms),
 * the revoke's commit and the watch delivery, on a machine shared with other test runs.
 */
const LEAVE_MARGIN_MS = 4_000;
const START_TIMEOUT_MS = 30_000;
const TEST_TIMEOUT_MS = 120_000;

/** The listing of `id` from an admin port's /nodes, or undefined when it is not listed. */
async function listed(admin: string, id: number): Promise<NodeListing | undefined> {
  const report = await fetchAdminJson(admin, '/nodes', 1_000);
  return (report?.nodes as NodeListing[] | undefined)?.find((node) => node.id === id);
}

async function listedCount(admin: string): Promise<number> {
  const report = await fetchAdminJson(admin, '/nodes', 1_000);
  return (report?.nodes as NodeListing[] | undefined)?.length ?? 0;
}

/**
 * kill -9 of `victim`; checks that the watcher sees it leave no earlier than its lease could
 * expire and no later than TTL + margin, that a peer marked it suspect meanwhile (the closed
 * connection is a hint; it stayed listed), and that a restart brings it back with its id.
 */
async function killAndRestart(
  workers: WorkerProcesses,
  watcher: MembershipWatcher,
  victim: string,
  peer: string,
): Promise<void> {
  const id = await workers.nodeId(victim);
  const peerAdmin = workers.plan(peer).admin;
  const queriedAt = Date.now();
  const before = await listed(peerAdmin, id);
  expect(before?.health).toBe('alive');
  const remainingSeconds = before?.leaseRemainingSeconds ?? 0;
  expect(remainingSeconds).toBeGreaterThan(0);

  await workers.kill(victim);
  const killedAt = Date.now();
  let seenSuspect = false;
  await until(
    async () => {
      if ((await listed(peerAdmin, id))?.health === 'suspect') seenSuspect = true;
      return watcher.leftAt(id) !== undefined;
    },
    `node ${id} to leave after kill -9`,
    LEASE_TTL_SECONDS * 1_000 + LEAVE_MARGIN_MS + 2_000,
  );
  const leftAt = watcher.leftAt(id)!;
  // The lease had at least remainingSeconds - 1 s left when it was read (the store rounds up).
  expect(leftAt - queriedAt).toBeGreaterThanOrEqual((remainingSeconds - 1) * 1_000);
  expect(leftAt - killedAt).toBeLessThanOrEqual(LEASE_TTL_SECONDS * 1_000 + LEAVE_MARGIN_MS);
  expect(seenSuspect).toBe(true);
  await until(async () => (await listed(peerAdmin, id)) === undefined, `node ${id} gone from ${peer}'s view`);

  workers.start(victim);
  expect(await workers.nodeId(victim)).toBe(id);
  await until(() => watcher.view.get(id) !== undefined, `node ${id} back`, START_TIMEOUT_MS);
  expect(watcher.history(id).slice(-2)).toEqual(['leave', 'join']);
}

describe('mesh membership across processes', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  });

  it(
    '3 voters and 3 workers: all listed, a killed worker leaves within its lease TTL and returns with its id',
    async () => {
      const cluster = await ProcessCluster.create(3);
      cleanups.push(() => cluster.stopAll());
      cluster.startAll();
      await cluster.waitForLeader(START_TIMEOUT_MS);
      const workers = WorkerProcesses.onVoters(cluster, { leaseTtlSeconds: LEASE_TTL_SECONDS });
      cleanups.push(() => workers.stopAll());
      const watcher = await MembershipWatcher.start(cluster.clientEndpoints);
      cleanups.push(() => watcher.close());
      for (const label of ['w1', 'w2', 'w3']) await workers.add(label, ['--zone', `zone-${label}`]);
      await until(
        () => watcher.view.size === 6,
        `6 registered nodes\n${workers.describeOutput()}`,
        START_TIMEOUT_MS,
      );
      // `meshos nodes` answers the same from a voter's and a worker's admin port.
      for (const admin of [cluster.plan(1).admin, workers.plan('w3').admin]) {
        await until(async () => (await listedCount(admin)) === 6, `6 nodes listed by ${admin}`);
        const nodes = await meshosNodes([admin]);
        expect(nodes.filter((node) => node.role === 'voter').map((node) => node.id)).toEqual([1, 2, 3]);
        const workerNodes = nodes.filter((node) => node.role === 'worker');
        expect(workerNodes.map((node) => node.zone).sort()).toEqual(['zone-w1', 'zone-w2', 'zone-w3']);
        // A worker registers the client port it serves (workers answer MeshOS's own services).
        expect(workerNodes.map((node) => node.addresses.client).sort()).toEqual(
          ['w1', 'w2', 'w3'].map((label) => workers.plan(label).client).sort(),
        );
        for (const node of workerNodes) expect(node.id).toBeGreaterThanOrEqual(FIRST_WORKER_NODE_ID);
        for (const node of nodes) {
          expect(node.health).toBe('alive');
          expect(node.leaseRemainingSeconds).toBeGreaterThan(0);
        }
      }

      await killAndRestart(workers, watcher, 'w2', 'w1');
      expect(watcher.view.size).toBe(6);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'an external 3-member etcd over mutual TLS and 4 workers, no MeshOS voter: the same',
    async () => {
      const etcd = await EtcdCluster.start('members', { tls: true });
      cleanups.push(() => etcd.close());
      const endpoints = etcd.endpoints.map((url) => url.replace(/^https?:\/\//, ''));
      const root = await mkdtemp(path.join(os.tmpdir(), 'meshos-workers-'));
      const certificates = path.join(root, 'certs');
      await createClusterCa(certificates, 'etcd-mesh');
      const etcdTls = etcd.clientTls!;
      const tlsFile = async (name: string, pem: string): Promise<string> => {
        const file = path.join(root, name);
        await writeFile(file, pem);
        return file;
      };
      const workers = new WorkerProcesses({
        root,
        clusterId: 'etcd-mesh',
        certificates,
        controlPlane: endpoints,
        leaseTtlSeconds: LEASE_TTL_SECONDS,
        commonArguments: [
          '--control-plane-cacert',
          await tlsFile('etcd-ca.pem', etcdTls.caCertificatePem!),
          '--control-plane-cert',
          await tlsFile('etcd-client.pem', etcdTls.certificatePem!),
          '--control-plane-key',
          await tlsFile('etcd-client-key.pem', etcdTls.privateKeyPem!),
        ],
      });
      cleanups.push(() => workers.stopAll());
      const watcher = await MembershipWatcher.start(endpoints, etcdTls);
      cleanups.push(() => watcher.close());
      const labels = ['w1', 'w2', 'w3', 'w4'];
      for (const label of labels) await workers.add(label);
      await until(
        () => watcher.view.size === 4,
        `4 registered workers\n${workers.describeOutput()}`,
        START_TIMEOUT_MS,
      );
      const ids = await Promise.all(labels.map((label) => workers.nodeId(label)));
      expect(new Set(ids).size).toBe(4);

      const admin = workers.plan('w4').admin;
      await until(async () => (await listedCount(admin)) === 4, 'the 4 workers listed by w4');
      const nodes = await meshosNodes([admin]);
      expect(nodes.map((node) => node.id).sort((a, b) => a - b)).toEqual([...ids].sort((a, b) => a - b));
      expect(nodes.every((node) => node.role === 'worker' && node.health === 'alive')).toBe(true);

      await killAndRestart(workers, watcher, 'w3', 'w1');
      expect(watcher.view.size).toBe(4);
    },
    TEST_TIMEOUT_MS,
  );
});
