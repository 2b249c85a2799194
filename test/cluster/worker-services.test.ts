/**
 * A WorkerNode's services as a supervision tree, in this process on real ports and disk, over
 * an in-process control plane: a start that fails halfway releases what it took, a crashed
 * membership or control-plane client is restarted while the worker stays registered, and a
 * crash of the transport stops the worker with the reason.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ControlPlane, openControlPlane } from '../../src/control/index.js';
import { SystemClock, systemRandom } from '../../src/lib/index.js';
import { findFreeLoopbackPort } from '../../src/lib/node/index.js';
import {
  DataDirectoryLock,
  type MembershipChange,
  MembershipView,
  NodeRegistration,
  SERVICE,
  ServiceFaults,
  WorkerNode,
  type WorkerNodeConfig,
} from '../../src/mesh/index.js';
import { LocalKvBackend } from '../support/local-kv-backend.js';
import { until } from '../support/until.js';
import { canListen, expectStartFailsOnTakenPort } from './failed-start.js';

const clock = new SystemClock();
const backend = new LocalKvBackend({ clock });
const roots: string[] = [];
const closers: (() => Promise<void>)[] = [];

afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => {});
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

async function plane(): Promise<ControlPlane> {
  const opened = await openControlPlane({ kind: 'in-process', backend, clock, random: systemRandom() });
  closers.push(() => opened.close());
  return opened;
}

async function workerConfig(overrides: Partial<WorkerNodeConfig> = {}): Promise<WorkerNodeConfig> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'meshos-worker-services-'));
  roots.push(root);
  return {
    clusterId: 'worker-services-test',
    dataDirectory: path.join(root, 'w'),
    peerAddress: { host: '127.0.0.1', port: await findFreeLoopbackPort() },
    clientAddress: { host: '127.0.0.1', port: 0 },
    adminAddress: { host: '127.0.0.1', port: 0 },
    // Not dialled: the tests lend the worker an in-process control plane.
    controlPlaneEndpoints: ['127.0.0.1:1'],
    membership: { zone: 'test', capacity: {}, leaseTtlSeconds: 5 },
    insecure: true,
    ...overrides,
  };
}

async function startWorker(config: WorkerNodeConfig, faults?: ServiceFaults): Promise<WorkerNode> {
  const worker = await WorkerNode.start(config, {
    controlPlane: await plane(),
    ...(faults === undefined ? {} : { faults }),
  });
  closers.push(() => worker.stop());
  return worker;
}

/** A watcher of the mesh's nodes, recording every join and leave. */
async function watchMembers(): Promise<{ view: MembershipView; changes: MembershipChange[] }> {
  const view = new MembershipView({
    plane: await plane(),
    clock,
    random: systemRandom(),
    suspicionLapseMs: 60_000,
  });
  const changes: MembershipChange[] = [];
  view.onChange((change) => changes.push(change));
  closers.push(() => view.close());
  view.start();
  await view.whenLoaded();
  return { view, changes };
}

/** Node `id` registered on its own plane (stopped, not revoked, when the tests end). */
async function register(id: number): Promise<{ id: number; registration: NodeRegistration }> {
  const registration = new NodeRegistration({
    plane: await plane(),
    record: {
      id,
      name: `other-${id}`,
      role: 'worker',
      addresses: { peer: '127.0.0.1:1', admin: '127.0.0.1:2' },
      zone: 'test',
      capacity: {},
      version: '0.1.0',
      startedAt: 1,
    },
    leaseTtlSeconds: 5,
    clock,
    random: systemRandom(),
  });
  registration.start();
  closers.push(() => registration.stop());
  return { id, registration };
}

function restarts(worker: WorkerNode, name: string): number | undefined {
  const entry = worker.serviceStatus().services.find((service) => service.name === name);
  return entry?.phase === 'running' ? entry.restarts : undefined;
}

describe('the worker as a supervision tree', () => {
  it('a start that fails at the admin port stops what started: lock and peer port are free again', async () => {
    const config = await workerConfig();
    // The lock, identity and transport start before the admin port.
    await expectStartFailsOnTakenPort('ADMIN_LISTEN', config, (port) =>
      startWorker({ ...config, adminAddress: { host: '127.0.0.1', port } }),
    );

    // The id allocated by the failed start was kept: the next start is the same worker.
    const members = await watchMembers();
    const worker = await startWorker(config);
    await until(() => members.view.get(worker.id) !== undefined, 'the worker registered');
    expect(worker.serviceStatus().services.map((service) => [service.name, service.phase])).toEqual([
      [SERVICE.lock, 'running'],
      [SERVICE.identity, 'running'],
      [SERVICE.transport, 'running'],
      [SERVICE.controlPlane, 'running'],
      [SERVICE.admin, 'running'],
      [SERVICE.clientPort, 'running'],
      [SERVICE.membership, 'running'],
      [SERVICE.maintenance, 'running'],
      [SERVICE.proximity, 'running'],
      [SERVICE.chains, 'running'],
      [SERVICE.daemons, 'running'],
      [SERVICE.reconcile, 'running'],
      [SERVICE.blobs, 'running'],
    ]);
    await worker.stop();
    expect(await canListen(config.peerAddress)).toBe(true);
    // Well inside the 5 s lease TTL: the stop revoked the lease, it did not let it lapse.
    await until(() => members.view.get(worker.id) === undefined, 'the stopped worker left at once', 2_000);
  });

  it('restarts crashed membership and control-plane client while the worker stays registered', async () => {
    const faults = new ServiceFaults();
    const members = await watchMembers();
    const worker = await startWorker(await workerConfig(), faults);
    await until(() => members.view.get(worker.id) !== undefined, 'the worker registered');

    expect(faults.crash(SERVICE.membership)).toBe(true);
    await until(() => restarts(worker, SERVICE.membership) === 1, 'membership restarted');
    await until(() => worker.membership.registration.isRegistered, 'registered again');

    expect(faults.crash(SERVICE.controlPlane)).toBe(true);
    await until(
      () => restarts(worker, SERVICE.controlPlane) === 1 && restarts(worker, SERVICE.membership) === 2,
      'the control-plane client restarted, and membership with it',
    );
    await until(() => worker.membership.registration.isRegistered, 'registered again');
    expect(restarts(worker, SERVICE.transport)).toBe(0);
    expect(worker.failure()).toBeUndefined();
    // Re-registered on the same key: never seen leaving.
    const own = members.changes.filter((change) => change.node.record.id === worker.id);
    expect(own.some((change) => change.type === 'leave')).toBe(false);
    expect(members.view.get(worker.id)?.record.role).toBe('worker');
  });

  it('reports each node joining once across a membership restart, and a leave during it', async () => {
    const faults = new ServiceFaults();
    const worker = await startWorker(await workerConfig(), faults);
    const seen: MembershipChange[] = [];
    worker.onMembershipChange((change) => seen.push(change));
    const history = (id: number): string[] =>
      seen
        .filter((change) => change.node.record.id === id && change.type !== 'update')
        .map((change) => change.type);
    const stays = await register(2_000_001);
    const goes = await register(2_000_002);
    await until(() => history(stays.id).length > 0 && history(goes.id).length > 0, 'both nodes seen joining');

    expect(faults.crash(SERVICE.membership)).toBe(true);
    // Gone while the membership service restarts: the old view or the new one's listing tells.
    await goes.registration.leave();
    await until(() => restarts(worker, SERVICE.membership) === 1, 'membership restarted');
    await until(() => history(goes.id).includes('leave'), 'the leave relayed');
    await worker.membership.view.whenLoaded();
    // The new view listed `stays` as a join; the worker had seen it join already.
    expect(history(stays.id)).toEqual(['join']);
    expect(history(goes.id)).toEqual(['join', 'leave']);
  });

  it('a crash of the peer transport stops the worker with the reason and frees its data directory', async () => {
    const faults = new ServiceFaults();
    const config = await workerConfig();
    const worker = await startWorker(config, faults);
    const exit = worker.run(new AbortController().signal);
    expect(faults.crash(SERVICE.transport)).toBe(true);
    expect(await exit).toBe('failed');
    expect(worker.failure()?.message).toContain(`child '${SERVICE.transport}' failed and is never restarted`);
    expect(await canListen(config.peerAddress)).toBe(true);
    const lock = await DataDirectoryLock.acquire(config.dataDirectory);
    await lock.release();
  });
});
