import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ManualClock, MemoryDisk, SeededRandom, StepDurations } from '../../../src/lib/index.js';
import {
  type NodeService,
  RESTARTABLE_SERVICE_MAX_RESTARTS,
  RESTARTABLE_SERVICE_PERIOD_MS,
  SERVICE,
  serviceChild,
  voterServices,
  workerServices,
} from '../../../src/mesh/index.js';
import { compileOrThrow, restartSet } from '../../../src/supervisor/index.js';

/** Membership and the services that stand on it, in start order: the tail of both trees. */
const MEMBERSHIP_AND_ON = [
  SERVICE.membership,
  SERVICE.maintenance,
  SERVICE.proximity,
  SERVICE.chains,
  SERVICE.daemons,
  SERVICE.reconcile,
  SERVICE.blobs,
];

const common = {
  parts: {},
  disk: new MemoryDisk(),
  clock: new ManualClock(),
  random: new SeededRandom(1),
  adminSource: {
    health: () => ({ ok: true, detail: {} }),
    readiness: () => ({ ok: true, detail: {} }),
    status: () => ({}),
  },
  registry: () => new Registry(),
};

function compiled(services: readonly NodeService[]) {
  return compileOrThrow({
    name: 'node',
    children: services.map((service) => serviceChild(service, undefined)),
  });
}

/** Each service's restart budget and what happens when it is spent. */
function restartBudgets(tree: ReturnType<typeof compiled>): Record<string, unknown> {
  return Object.fromEntries(
    tree.children.map((child) => [child.name, [child.restart.maxRestarts, child.restart.onExhausted]]),
  );
}

const RESTARTABLE = [RESTARTABLE_SERVICE_MAX_RESTARTS, 'critical'];
/** What both roles never restart in place: the lock, the identity and the transport. */
const CRITICAL_BASE = {
  [SERVICE.lock]: [0, 'critical'],
  [SERVICE.identity]: [0, 'critical'],
  [SERVICE.transport]: [0, 'critical'],
};

function workerTree() {
  return compiled(
    workerServices({
      ...common,
      config: {
        clusterId: 'unit',
        dataDirectory: '/nowhere',
        peerAddress: { host: '127.0.0.1', port: 0 },
        clientAddress: { host: '127.0.0.1', port: 0 },
        adminAddress: { host: '127.0.0.1', port: 0 },
        controlPlaneEndpoints: ['127.0.0.1:1'],
        membership: { zone: '', capacity: {}, leaseTtlSeconds: 5 },
        insecure: true,
      },
      connect: () => Promise.reject(new Error('not opened by a compile')),
    }),
  );
}

function voterTree() {
  const services = voterServices({
    ...common,
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
    steps: new StepDurations(),
  });
  return compiled(services);
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
      ...MEMBERSHIP_AND_ON,
    ]);
    expect(tree.stopOrder).toEqual([...tree.startOrder].reverse());
  });

  it('never restarts what holds Raft state in place, and restarts the client API and admin port within a budget', () => {
    const policies = restartBudgets(voterTree());
    expect(policies).toEqual({
      ...CRITICAL_BASE,
      [SERVICE.raft]: [0, 'critical'],
      [SERVICE.etcdApi]: RESTARTABLE,
      [SERVICE.admin]: RESTARTABLE,
      [SERVICE.controlPlane]: RESTARTABLE,
      [SERVICE.membership]: RESTARTABLE,
      [SERVICE.maintenance]: RESTARTABLE,
      [SERVICE.proximity]: RESTARTABLE,
      [SERVICE.chains]: RESTARTABLE,
      [SERVICE.daemons]: RESTARTABLE,
      [SERVICE.reconcile]: RESTARTABLE,
      [SERVICE.blobs]: RESTARTABLE,
    });
    const api = voterTree().children.find((child) => child.name === SERVICE.etcdApi);
    expect(api?.restart.periodMs).toBe(RESTARTABLE_SERVICE_PERIOD_MS);
  });

  it('restarting the client API touches only the membership that names it (and chains on it); Raft takes everything after it', () => {
    const tree = voterTree();
    // The client port reaches the chains service through `parts`, so it does not depend on it;
    // chains read the matrix through `parts` too, so a proximity restart leaves them running.
    expect(restartSet(tree, SERVICE.etcdApi)).toEqual([SERVICE.etcdApi, ...MEMBERSHIP_AND_ON]);
    expect(restartSet(tree, SERVICE.admin)).toEqual([SERVICE.admin, ...MEMBERSHIP_AND_ON]);
    expect(restartSet(tree, SERVICE.membership)).toEqual(MEMBERSHIP_AND_ON);
    expect(restartSet(tree, SERVICE.proximity)).toEqual([SERVICE.proximity]);
    expect(restartSet(tree, SERVICE.chains)).toEqual([SERVICE.chains, SERVICE.daemons, SERVICE.reconcile]);
    expect(restartSet(tree, SERVICE.raft)).toEqual([
      SERVICE.raft,
      SERVICE.etcdApi,
      SERVICE.admin,
      SERVICE.controlPlane,
      ...MEMBERSHIP_AND_ON,
    ]);
  });
});

describe("a worker node's supervision tree", () => {
  it('starts the lock, identity and transport first, membership and chains last, and stops in the reverse order', () => {
    const tree = workerTree();
    expect(tree.startOrder).toEqual([
      SERVICE.lock,
      SERVICE.identity,
      SERVICE.transport,
      SERVICE.controlPlane,
      SERVICE.admin,
      SERVICE.clientPort,
      ...MEMBERSHIP_AND_ON,
    ]);
    expect(tree.stopOrder).toEqual([...tree.startOrder].reverse());
  });

  it('restarts the control-plane client, admin and client ports, membership and proximity, never what holds the id and ports', () => {
    const policies = restartBudgets(workerTree());
    expect(policies).toEqual({
      ...CRITICAL_BASE,
      [SERVICE.controlPlane]: RESTARTABLE,
      [SERVICE.admin]: RESTARTABLE,
      [SERVICE.clientPort]: RESTARTABLE,
      [SERVICE.membership]: RESTARTABLE,
      [SERVICE.maintenance]: RESTARTABLE,
      [SERVICE.proximity]: RESTARTABLE,
      [SERVICE.chains]: RESTARTABLE,
      [SERVICE.daemons]: RESTARTABLE,
      [SERVICE.reconcile]: RESTARTABLE,
      [SERVICE.blobs]: RESTARTABLE,
    });
  });

  it('a control-plane, admin or client port restart takes only membership, proximity and chains with it', () => {
    const tree = workerTree();
    expect(restartSet(tree, SERVICE.controlPlane)).toEqual([SERVICE.controlPlane, ...MEMBERSHIP_AND_ON]);
    expect(restartSet(tree, SERVICE.admin)).toEqual([SERVICE.admin, ...MEMBERSHIP_AND_ON]);
    expect(restartSet(tree, SERVICE.clientPort)).toEqual([SERVICE.clientPort, ...MEMBERSHIP_AND_ON]);
    expect(restartSet(tree, SERVICE.membership)).toEqual(MEMBERSHIP_AND_ON);
    expect(restartSet(tree, SERVICE.proximity)).toEqual([SERVICE.proximity]);
    expect(restartSet(tree, SERVICE.chains)).toEqual([SERVICE.chains, SERVICE.daemons, SERVICE.reconcile]);
    expect(restartSet(tree, SERVICE.transport)).toEqual([SERVICE.transport, ...MEMBERSHIP_AND_ON]);
  });
});
