import { describe, expect, it } from 'vitest';
import { ManualClock, MemoryDisk, SeededRandom, StepDurations } from '../../../src/lib/index.js';
import {
  RESTARTABLE_SERVICE_MAX_RESTARTS,
  RESTARTABLE_SERVICE_PERIOD_MS,
  SERVICE,
  serviceChild,
  voterServices,
} from '../../../src/mesh/index.js';
import { compileOrThrow, restartSet } from '../../../src/supervisor/index.js';

function voterTree() {
  const services = voterServices({
    config: {
      id: 1,
      name: 'n1',
      clusterId: 'unit',
      dataDirectory: '/nowhere',
      peerAddress: { host: '127.0.0.1', port: 0 },
      clientAddress: { host: '127.0.0.1', port: 0 },
      adminAddress: { host: '127.0.0.1', port: 0 },
      initialPeers: new Map(),
      insecure: true,
    },
    parts: {},
    disk: new MemoryDisk(),
    steps: new StepDurations(),
    clock: new ManualClock(),
    random: new SeededRandom(1),
    adminSource: {
      health: () => ({ ok: true, detail: {} }),
      readiness: () => ({ ok: true, detail: {} }),
      status: () => ({}),
    },
  });
  return compileOrThrow({
    name: 'node',
    children: services.map((service) => serviceChild(service, undefined)),
  });
}

describe("a voter node's supervision tree", () => {
  it('starts the lock first and the client-facing ports last, and stops in exactly the reverse order', () => {
    const tree = voterTree();
    expect(tree.startOrder).toEqual([
      SERVICE.lock,
      SERVICE.identity,
      SERVICE.transport,
      SERVICE.raft,
      SERVICE.etcdApi,
      SERVICE.admin,
      SERVICE.controlPlane,
      SERVICE.membership,
    ]);
    expect(tree.stopOrder).toEqual([...tree.startOrder].reverse());
  });

  it('never restarts what holds Raft state in place, and restarts the client API and admin port within a budget', () => {
    const policies = Object.fromEntries(
      voterTree().children.map((child) => [
        child.name,
        [child.restart.maxRestarts, child.restart.onExhausted],
      ]),
    );
    const restartable = [RESTARTABLE_SERVICE_MAX_RESTARTS, 'critical'];
    expect(policies).toEqual({
      [SERVICE.lock]: [0, 'critical'],
      [SERVICE.identity]: [0, 'critical'],
      [SERVICE.transport]: [0, 'critical'],
      [SERVICE.raft]: [0, 'critical'],
      [SERVICE.etcdApi]: restartable,
      [SERVICE.admin]: restartable,
      [SERVICE.controlPlane]: restartable,
      [SERVICE.membership]: restartable,
    });
    const api = voterTree().children.find((child) => child.name === SERVICE.etcdApi);
    expect(api?.restart.periodMs).toBe(RESTARTABLE_SERVICE_PERIOD_MS);
  });

  it('restarting the client API touches only the membership that names it; Raft takes everything after it', () => {
    const tree = voterTree();
    expect(restartSet(tree, SERVICE.etcdApi)).toEqual([SERVICE.etcdApi, SERVICE.membership]);
    expect(restartSet(tree, SERVICE.admin)).toEqual([SERVICE.admin, SERVICE.membership]);
    expect(restartSet(tree, SERVICE.membership)).toEqual([SERVICE.membership]);
    expect(restartSet(tree, SERVICE.raft)).toEqual([
      SERVICE.raft,
      SERVICE.etcdApi,
      SERVICE.admin,
      SERVICE.controlPlane,
      SERVICE.membership,
    ]);
  });
});
