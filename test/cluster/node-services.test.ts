/**
 * A MeshNode's services as a supervision tree, in this process on real ports and disk: a start
 * that fails halfway releases what it took, a crashed restartable service is restarted while
 * the node keeps serving, and a critical failure (injected, or a real storage failure) stops
 * the node with the reason.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Etcd3 } from 'etcd3';
import { afterAll, describe, expect, it } from 'vitest';
import { type Address, type Disk, DiskError, type DiskFile, formatAddress } from '../../src/lib/index.js';
import { findFreeLoopbackPort, NodeDisk } from '../../src/lib/node/index.js';
import {
  DataDirectoryLock,
  type MeshNode,
  type MeshNodeConfig,
  type MeshNodeDependencies,
  NodeBuilder,
  SERVICE,
  ServiceFaults,
  type ServiceStatus,
} from '../../src/mesh/index.js';
import { until } from '../support/until.js';
import { canListen, expectStartFailsOnTakenPort } from './failed-start.js';
import { adminServiceStatus } from './meshos-process.js';

const READY_TIMEOUT_MS = 20_000;
const roots: string[] = [];
const nodes: MeshNode[] = [];

afterAll(async () => {
  for (const node of nodes) await node.stop();
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

async function singleNodeConfig(overrides: Partial<MeshNodeConfig> = {}): Promise<MeshNodeConfig> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'meshos-services-'));
  roots.push(root);
  const peerAddress: Address = { host: '127.0.0.1', port: await findFreeLoopbackPort() };
  return {
    id: 1,
    name: 'n1',
    clusterId: 'services-test',
    dataDirectory: path.join(root, 'n1'),
    peerAddress,
    clientAddress: { host: '127.0.0.1', port: 0 },
    adminAddress: { host: '127.0.0.1', port: 0 },
    initialPeers: new Map([[1, peerAddress]]),
    insecure: true,
    ...overrides,
  };
}

async function startNode(config: MeshNodeConfig, dependencies: MeshNodeDependencies = {}): Promise<MeshNode> {
  const node = await new NodeBuilder(config, dependencies).start();
  nodes.push(node);
  await node.waitReady(READY_TIMEOUT_MS);
  return node;
}

function service(node: MeshNode, name: string): ServiceStatus | undefined {
  return node.serviceStatus().services.find((entry) => entry.name === name);
}

async function putThenGet(node: MeshNode, key: string, value: string): Promise<string | null> {
  const client = new Etcd3({ hosts: [formatAddress(node.endpoints.client)] });
  try {
    await client.put(key).value(value);
    return await client.get(key).string();
  } finally {
    client.close();
  }
}

/** A disk whose fdatasyncs fail once `broken` is set: a storage failure under a running node. */
class BreakableDisk implements Disk {
  broken = false;
  private readonly inner = new NodeDisk();

  async open(...args: Parameters<Disk['open']>): Promise<DiskFile> {
    const file = await this.inner.open(...args);
    const disk = this;
    return new Proxy(file, {
      get(target, property, receiver) {
        if (property === 'datasync' && disk.broken)
          return () => Promise.reject(new DiskError('datasync', target.path, new Error('EIO (injected)')));
        const value = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }
  readFile = (filePath: string) => this.inner.readFile(filePath);
  rename = (from: string, to: string) => this.inner.rename(from, to);
  fsyncDirectory = (directory: string) => this.inner.fsyncDirectory(directory);
  list = (directory: string) => this.inner.list(directory);
  remove = (filePath: string) => this.inner.remove(filePath);
  makeDirectory = (directory: string) => this.inner.makeDirectory(directory);
  exists = (filePath: string) => this.inner.exists(filePath);
}

describe('the node as a supervision tree', () => {
  it('a start that fails at the client port stops what started: lock and peer port are free again', async () => {
    const config = await singleNodeConfig();
    // The transport and Raft start before the client API.
    await expectStartFailsOnTakenPort('CLIENT_LISTEN', config, (port) =>
      new NodeBuilder({ ...config, clientAddress: { host: '127.0.0.1', port } }).start(),
    );

    const node = await startNode({ ...config, clientAddress: { host: '127.0.0.1', port: 0 } });
    expect(await putThenGet(node, 'after-failed-start', 'ok')).toBe('ok');
    // Started without fault injection, the admin port has no crash endpoint.
    const crash = await fetch(`http://${formatAddress(node.endpoints.admin)}/faults/crash/${SERVICE.admin}`, {
      method: 'POST',
    });
    expect(crash.status).toBe(404);
    await node.stop();
    expect(await canListen(config.peerAddress)).toBe(true);
  });

  it('restarts a crashed admin port and client API on the same ports while the node keeps serving', async () => {
    const faults = new ServiceFaults();
    const node = await startNode(await singleNodeConfig(), { faults });
    const admin = formatAddress(node.endpoints.admin);
    const tree = node.serviceStatus();
    expect(tree.phase).toBe('running');
    expect(tree.services.map((entry) => [entry.name, entry.phase, entry.policy, entry.restarts])).toEqual([
      [SERVICE.lock, 'running', 'critical', 0],
      [SERVICE.identity, 'running', 'critical', 0],
      [SERVICE.transport, 'running', 'critical', 0],
      [SERVICE.raft, 'running', 'critical', 0],
      [SERVICE.etcdApi, 'running', 'restartable', 0],
      [SERVICE.admin, 'running', 'restartable', 0],
      [SERVICE.controlPlane, 'running', 'restartable', 0],
      [SERVICE.membership, 'running', 'restartable', 0],
      [SERVICE.maintenance, 'running', 'restartable', 0],
      [SERVICE.proximity, 'running', 'restartable', 0],
      [SERVICE.chains, 'running', 'restartable', 0],
      [SERVICE.daemons, 'running', 'restartable', 0],
      [SERVICE.reconcile, 'running', 'restartable', 0],
      [SERVICE.blobs, 'running', 'restartable', 0],
    ]);

    expect(faults.crash(SERVICE.admin)).toBe(true);
    await until(
      () => service(node, SERVICE.admin)?.phase === 'running' && service(node, SERVICE.admin)?.restarts === 1,
      'the admin port restarted',
    );
    expect(await putThenGet(node, 'during-admin-restart', 'served')).toBe('served');
    const adminEntry = await adminServiceStatus(admin, SERVICE.admin);
    expect(adminEntry).toMatchObject({ phase: 'running', restarts: 1 });
    expect(adminEntry?.lastExitReason).toContain('injected fault');
    const metrics = await (await fetch(`http://${admin}/metrics`)).text();
    expect(metrics).toContain(`meshos_service_restarts{service="${SERVICE.admin}"} 1`);
    expect(metrics).toContain(`meshos_service_restarts{service="${SERVICE.raft}"} 0`);
    expect(metrics).toContain(`meshos_service_running{service="${SERVICE.etcdApi}"} 1`);

    expect(faults.crash(SERVICE.etcdApi)).toBe(true);
    await until(() => service(node, SERVICE.etcdApi)?.restarts === 1, 'the client API restarted');
    await until(() => service(node, SERVICE.etcdApi)?.phase === 'running', 'the client API serving');
    expect(await putThenGet(node, 'after-api-restart', 'served')).toBe('served');
    // Neither restart touched Raft or what it depends on.
    for (const name of [SERVICE.lock, SERVICE.identity, SERVICE.transport, SERVICE.raft])
      expect(service(node, name)).toMatchObject({ phase: 'running', restarts: 0 });
  });

  it('a crash of Raft stops the whole node with the reason and releases the data directory', async () => {
    const faults = new ServiceFaults();
    const config = await singleNodeConfig();
    const node = await startNode(config, { faults });
    const running = node.run(new AbortController().signal);
    expect(faults.crash(SERVICE.raft, 'simulated engine fault')).toBe(true);
    expect(await running).toBe('failed');
    expect(node.failure()?.message).toContain(`child '${SERVICE.raft}'`);
    expect(node.failure()?.message).toContain('simulated engine fault');
    expect(node.serviceStatus().phase).toBe('failed');
    expect(node.serviceStatus().services.every((entry) => entry.phase === 'stopped')).toBe(true);
    expect(await canListen(node.endpoints.client)).toBe(true);
    expect(await canListen(node.endpoints.admin)).toBe(true);
    const lock = await DataDirectoryLock.acquire(config.dataDirectory);
    await lock.release();
  });

  it('a storage failure under Raft stops the node with the disk error as the reason', async () => {
    const disk = new BreakableDisk();
    const node = await startNode(await singleNodeConfig(), { disk });
    const running = node.run(new AbortController().signal);
    expect(await putThenGet(node, 'before-the-disk-breaks', 'ok')).toBe('ok');
    disk.broken = true;
    const client = new Etcd3({ hosts: [formatAddress(node.endpoints.client)] });
    try {
      await expect(client.put('after-the-disk-broke').value('lost')).rejects.toThrow();
    } finally {
      client.close();
    }
    expect(await running).toBe('failed');
    expect(node.failure()?.message).toContain(`child '${SERVICE.raft}'`);
    expect(node.failure()?.message).toContain('EIO (injected)');
  });

  it('a restartable service that keeps crashing spends its budget and stops the node', async () => {
    const faults = new ServiceFaults();
    const node = await startNode(await singleNodeConfig(), { faults });
    const running = node.run(new AbortController().signal);
    let crashes = 0;
    await until(async () => {
      if (faults.crash(SERVICE.admin, `crash ${crashes + 1}`)) crashes++;
      return node.failure() !== undefined;
    }, 'the admin port to spend its restart budget');
    expect(await running).toBe('failed');
    // The budget allows 5 restarts in its window; the 6th crash escalates.
    expect(crashes).toBe(6);
    expect(node.failure()?.message).toContain('spent its restart budget (5 in 60000 ms)');
    expect(node.failure()?.message).toContain('crash 6');
  });
});
