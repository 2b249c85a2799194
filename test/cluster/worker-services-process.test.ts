import { afterAll, describe, expect, it } from 'vitest';
import { EXIT_NODE_FAILED, FAULT_INJECTION_ENVIRONMENT_VARIABLE } from '../../src/cli/node-commands.js';
import { SERVICE, type ServiceStatus } from '../../src/mesh/index.js';
import { until } from '../support/until.js';
import { adminServiceStatus, exitCode, meshos, UP_TIMEOUT_MS } from './meshos-process.js';
import { ProcessCluster } from './process-cluster.js';
import { MembershipWatcher, meshosNodes, WorkerProcesses } from './worker-processes.js';

/**
 * A restarted membership registers again before its old lease runs out (it never revokes); the
 * TTL leaves that restart seconds even on a machine loaded by other test runs.
 */
const LEASE_TTL_SECONDS = 10;
const START_TIMEOUT_MS = 30_000;

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

function crash(admin: string, service: string): Promise<Response> {
  return fetch(`http://${admin}/faults/crash/${service}`, { method: 'POST' });
}

async function restartedTo(admin: string, service: string, restarts: number): Promise<void> {
  await until(async () => {
    const entry = await adminServiceStatus(admin, service);
    return entry?.phase === 'running' && entry.restarts === restarts;
  }, `${service} running after ${restarts} restarts`);
}

describe('a worker process with fault injection', () => {
  it('restarts crashed membership and admin port while staying registered, and exits 4 when its transport crashes', async () => {
    const cluster = await ProcessCluster.create(1);
    cleanups.push(() => cluster.stopAll());
    cluster.startAll();
    await cluster.waitForLeader(START_TIMEOUT_MS);
    const workers = WorkerProcesses.onVoters(cluster, {
      leaseTtlSeconds: LEASE_TTL_SECONDS,
      environment: { [FAULT_INJECTION_ENVIRONMENT_VARIABLE]: '1' },
    });
    cleanups.push(() => workers.stopAll());
    const watcher = await MembershipWatcher.start(cluster.clientEndpoints);
    cleanups.push(() => watcher.close());
    const admin = (await workers.add('w1')).admin;
    const id = await workers.nodeId('w1');
    await until(() => watcher.view.get(id) !== undefined, `worker ${id} registered`, START_TIMEOUT_MS);

    expect((await crash(admin, 'no-such-service')).status).toBe(404);
    expect((await crash(admin, SERVICE.membership)).status).toBe(202);
    await restartedTo(admin, SERVICE.membership, 1);
    expect((await crash(admin, SERVICE.admin)).status).toBe(202);
    await restartedTo(admin, SERVICE.admin, 1);
    // Restarted after the admin port its record names.
    await restartedTo(admin, SERVICE.membership, 2);

    // Still registered: re-registered on the same key, so the mesh never saw it leave.
    const listed = (await meshosNodes([cluster.plan(1).admin])).find((node) => node.id === id);
    expect(listed?.role).toBe('worker');
    expect(listed?.addresses.admin).toBe(admin);
    expect(watcher.history(id)).toEqual(['join']);

    const json = meshos(['status', '--admin', admin, '--json']);
    expect(await exitCode(json, UP_TIMEOUT_MS)).toBe(0);
    const [tree] = JSON.parse(json.output()) as Array<{ phase: string; services: ServiceStatus[] }>;
    expect(tree?.phase).toBe('running');
    expect(tree?.services.map((entry) => [entry.name, entry.phase, entry.restarts, entry.policy])).toEqual([
      [SERVICE.lock, 'running', 0, 'critical'],
      [SERVICE.identity, 'running', 0, 'critical'],
      [SERVICE.transport, 'running', 0, 'critical'],
      [SERVICE.controlPlane, 'running', 0, 'restartable'],
      [SERVICE.admin, 'running', 1, 'restartable'],
      [SERVICE.clientPort, 'running', 0, 'restartable'],
      [SERVICE.membership, 'running', 2, 'restartable'],
      [SERVICE.maintenance, 'running', 2, 'restartable'],
      // Restarted with the membership it follows.
      [SERVICE.proximity, 'running', 2, 'restartable'],
      [SERVICE.chains, 'running', 2, 'restartable'],
      [SERVICE.daemons, 'running', 2, 'restartable'],
      [SERVICE.reconcile, 'running', 2, 'restartable'],
      [SERVICE.blobs, 'running', 2, 'restartable'],
    ]);
    const table = meshos(['status', '--admin', admin]);
    expect(await exitCode(table, UP_TIMEOUT_MS)).toBe(0);
    expect(table.output()).toMatch(/membership\s+running\s+2\s+restartable\s+injected fault in 'membership'/);
    const metrics = await (await fetch(`http://${admin}/metrics`)).text();
    expect(metrics).toContain(`meshos_service_restarts{service="${SERVICE.membership}"} 2`);
    expect(metrics).toContain(`meshos_service_running{service="${SERVICE.transport}"} 1`);

    expect((await crash(admin, SERVICE.transport)).status).toBe(202);
    const worker = workers.process('w1');
    await until(() => !worker.alive, 'the worker process exited', UP_TIMEOUT_MS);
    expect(worker.exitCode).toBe(EXIT_NODE_FAILED);
    expect(worker.output.join('')).toContain(
      `worker ${id} stopped: supervisor 'node' gave up: child '${SERVICE.transport}' failed and is never restarted: injected fault in '${SERVICE.transport}'`,
    );
  }, 120_000);
});
