/**
 * Fault injection on a real `meshos start` process (built dist/, MESHOS_FAULT_INJECTION=1): a
 * crashed admin port is restarted by the node's supervisor while clients keep being served,
 * `meshos status --admin` shows the restart, and a crash of Raft stops the process with the
 * reason and exit code 4.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Etcd3 } from 'etcd3';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT_NODE_FAILED, FAULT_INJECTION_ENVIRONMENT_VARIABLE } from '../../src/cli/node-commands.js';
import { SERVICE, type ServiceStatus } from '../../src/mesh/index.js';
import { until } from '../support/until.js';
import {
  adminServiceStatus,
  exitCode,
  killAll,
  meshos,
  type Running,
  singleNodeStartArguments,
  UP_TIMEOUT_MS,
  waitForOutput,
} from './meshos-process.js';

const started: Running[] = [];
const roots: string[] = [];

afterAll(async () => {
  await killAll(started);
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

function crash(admin: string, service: string): Promise<Response> {
  return fetch(`http://${admin}/faults/crash/${service}`, { method: 'POST' });
}

describe('meshos start with fault injection', () => {
  it('restarts a crashed admin port, shows it in meshos status, and stops with exit 4 when Raft crashes', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'meshos-faults-'));
    roots.push(root);
    const node = meshos(await singleNodeStartArguments(path.join(root, 'n1')), {
      [FAULT_INJECTION_ENVIRONMENT_VARIABLE]: '1',
    });
    started.push(node);
    const up = await waitForOutput(node, /up: client (\S+), peer \S+, admin http:\/\/(\S+)/, UP_TIMEOUT_MS);
    await waitForOutput(node, /leader is node 1/, UP_TIMEOUT_MS);
    const client = up[1]!;
    const admin = up[2]!;

    expect((await crash(admin, 'no-such-service')).status).toBe(404);
    expect((await crash(admin, SERVICE.admin)).status).toBe(202);
    await until(async () => {
      const entry = await adminServiceStatus(admin, SERVICE.admin);
      return entry?.phase === 'running' && entry.restarts === 1;
    }, 'the admin port restarted');
    const etcd = new Etcd3({ hosts: [client] });
    try {
      await etcd.put('served-through-a-restart').value('yes');
      expect(await etcd.get('served-through-a-restart').string()).toBe('yes');
    } finally {
      etcd.close();
    }

    const json = meshos(['status', '--admin', admin, '--json']);
    expect(await exitCode(json, UP_TIMEOUT_MS)).toBe(0);
    const [tree] = JSON.parse(json.output()) as Array<{ phase: string; services: ServiceStatus[] }>;
    expect(tree?.phase).toBe('running');
    expect(tree?.services.map((entry) => [entry.name, entry.phase, entry.restarts])).toEqual([
      [SERVICE.lock, 'running', 0],
      [SERVICE.identity, 'running', 0],
      [SERVICE.transport, 'running', 0],
      [SERVICE.raft, 'running', 0],
      [SERVICE.etcdApi, 'running', 0],
      [SERVICE.admin, 'running', 1],
      [SERVICE.controlPlane, 'running', 0],
      // Restarted after the admin port it names in the node's record.
      [SERVICE.membership, 'running', 1],
      [SERVICE.maintenance, 'running', 1],
      // Restarted with the membership it follows.
      [SERVICE.proximity, 'running', 1],
      [SERVICE.chains, 'running', 1],
      [SERVICE.daemons, 'running', 1],
      [SERVICE.reconcile, 'running', 1],
      [SERVICE.blobs, 'running', 1],
    ]);
    const table = meshos(['status', '--admin', admin]);
    expect(await exitCode(table, UP_TIMEOUT_MS)).toBe(0);
    expect(table.output()).toMatch(/ADMIN\s+SERVICE\s+PHASE\s+RESTARTS\s+POLICY\s+LAST EXIT/);
    expect(table.output()).toMatch(/admin-http\s+running\s+1\s+restartable\s+injected fault in 'admin-http'/);

    expect((await crash(admin, SERVICE.raft)).status).toBe(202);
    expect(await exitCode(node, UP_TIMEOUT_MS)).toBe(EXIT_NODE_FAILED);
    expect(node.output()).toContain(
      `node 1 stopped: supervisor 'node' gave up: child '${SERVICE.raft}' failed and is never restarted: injected fault in 'raft'`,
    );
  }, 90_000);
});
