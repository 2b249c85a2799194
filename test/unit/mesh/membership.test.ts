import { afterEach, describe, expect, it } from 'vitest';
import {
  type ControlPlane,
  nodeKey,
  openControlPlane,
  WORKER_ID_COUNTER_KEY,
} from '../../../src/control/index.js';
import { ManualClock, SeededRandom } from '../../../src/lib/index.js';
import {
  allocateWorkerNodeId,
  FIRST_WORKER_NODE_ID,
  MAX_DIALED_NODES,
  Membership,
  type MembershipChange,
  MembershipView,
  type NodeRecord,
  NodeRegistration,
  nodesToDial,
  nodesToMeasure,
} from '../../../src/mesh/index.js';
import { InMemoryNetwork } from '../../../src/transport/index.js';
import { LEASE_EXPIRY_CHECK_INTERVAL_MS, LocalKvBackend } from '../../support/local-kv-backend.js';
import { until } from '../../support/until.js';
import { memoryAddress, memoryTransport } from '../transport/helpers.js';

const TTL_SECONDS = 3;
const STEP_MS = 50;

function record(id: number): NodeRecord {
  return {
    id,
    name: `w${id}`,
    role: 'worker',
    addresses: { peer: `127.0.0.1:${7000 + (id % 1000)}`, admin: `127.0.0.1:${8000 + (id % 1000)}` },
    zone: 'z1',
    capacity: { cpus: 1 },
    version: '0.1.0',
    startedAt: 1,
  };
}

/** One in-process control-plane store on a manual clock; each node opens its own plane on it. */
class Harness {
  readonly clock = new ManualClock();
  readonly backend = new LocalKvBackend({ clock: this.clock });
  readonly planes: ControlPlane[] = [];
  readonly closers: (() => Promise<void>)[] = [];
  private seed = 1;

  async plane(): Promise<ControlPlane> {
    const plane = await openControlPlane({
      kind: 'in-process',
      backend: this.backend,
      clock: this.clock,
      random: new SeededRandom(this.seed++),
    });
    this.planes.push(plane);
    return plane;
  }

  async register(id: number): Promise<{ registration: NodeRegistration; plane: ControlPlane }> {
    const plane = await this.plane();
    const registration = new NodeRegistration({
      plane,
      record: record(id),
      leaseTtlSeconds: TTL_SECONDS,
      clock: this.clock,
      random: new SeededRandom(this.seed++),
    });
    registration.start();
    this.closers.push(() => registration.stop());
    await until(() => registration.isRegistered, `node ${id} registered`);
    return { registration, plane };
  }

  async view(
    suspicionLapseMs = TTL_SECONDS * 1_000,
  ): Promise<{ view: MembershipView; changes: MembershipChange[] }> {
    const view = new MembershipView({
      plane: await this.plane(),
      clock: this.clock,
      random: new SeededRandom(this.seed++),
      suspicionLapseMs,
    });
    const changes: MembershipChange[] = [];
    view.onChange((change) => changes.push(change));
    view.start();
    this.closers.push(() => view.close());
    await view.whenLoaded();
    return { view, changes };
  }

  /** Moves the clock in small steps, letting keep-alives and expiry checks run between them. */
  async advance(totalMs: number): Promise<void> {
    for (let elapsed = 0; elapsed < totalMs; elapsed += STEP_MS) {
      this.clock.advance(STEP_MS);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  async close(): Promise<void> {
    for (const close of this.closers.reverse()) await close();
    for (const plane of this.planes) await plane.close();
    this.backend.close();
  }
}

const ids = (view: MembershipView): number[] => view.nodes().map((node) => node.record.id);
const kinds = (changes: readonly MembershipChange[]): string[] =>
  changes.map((change) => `${change.type} ${change.node.record.id}`);

let harness: Harness;
afterEach(async () => {
  await harness.close();
});

describe('node registration and the membership view', () => {
  it('lists nodes registered before it started and sees later joins', async () => {
    harness = new Harness();
    await harness.register(11);
    const { view, changes } = await harness.view();
    expect(ids(view)).toEqual([11]);
    await harness.register(12);
    await until(() => view.size === 2, 'the second node seen');
    expect(kinds(changes)).toEqual(['join 11', 'join 12']);
    expect(view.get(12)?.record).toEqual(record(12));
    expect(view.get(12)?.health).toBe('alive');
  });

  it('a registration stopped while its put is in flight keeps the record; one that leaves deletes it', async () => {
    harness = new Harness();
    for (const ending of ['stop', 'leave'] as const) {
      const plane = await harness.plane();
      let registration: NodeRegistration | undefined;
      let ended: Promise<void> | undefined;
      // The put reaches the store, and the service is stopped before its answer comes back.
      const racing: ControlPlane = Object.create(plane, {
        put: {
          value: async (...args: Parameters<ControlPlane['put']>) => {
            const answer = await plane.put(...args);
            ended = ending === 'stop' ? registration!.stop() : registration!.leave();
            return answer;
          },
        },
      });
      const id = ending === 'stop' ? 21 : 22;
      registration = new NodeRegistration({
        plane: racing,
        record: record(id),
        leaseTtlSeconds: TTL_SECONDS,
        clock: harness.clock,
        random: new SeededRandom(id),
      });
      registration.start();
      await until(() => ended !== undefined, `node ${id}'s put sent`);
      await ended;
      const stored = await plane.get(nodeKey(id));
      // A stopped service leaves its record for the next registration to take over.
      if (ending === 'stop') expect(stored).toBeDefined();
      else expect(stored).toBeUndefined();
    }
  });

  it('keeps a live node registered across many TTLs: its keep-alive renews the lease', async () => {
    harness = new Harness();
    const { registration } = await harness.register(11);
    const { view, changes } = await harness.view();
    await harness.advance(TTL_SECONDS * 1_000 * 4);
    expect(ids(view)).toEqual([11]);
    expect(kinds(changes)).toEqual(['join 11']);
    expect(registration.registrations).toBe(1);
    expect(registration.leaseLosses).toBe(0);
  });

  it('sees a node whose keep-alive stopped (a crash) leave once its lease expires, not before', async () => {
    harness = new Harness();
    const { plane } = await harness.register(11);
    await harness.register(12);
    const { view, changes } = await harness.view();
    // A crash: the plane's keep-alives stop and nothing revokes the lease, granted at time 0.
    await plane.close();
    await harness.advance(TTL_SECONDS * 1_000 - STEP_MS);
    expect(ids(view)).toEqual([11, 12]);
    await harness.advance(LEASE_EXPIRY_CHECK_INTERVAL_MS + STEP_MS * 2);
    await until(() => view.size === 1, 'node 11 gone');
    expect(ids(view)).toEqual([12]);
    expect(kinds(changes)).toEqual(['join 11', 'join 12', 'leave 11']);
  });

  it('sees a node leave at once: the lease is revoked', async () => {
    harness = new Harness();
    const { registration } = await harness.register(11);
    const { view, changes } = await harness.view();
    await registration.leave();
    await until(() => view.size === 0, 'node 11 gone');
    expect(kinds(changes)).toEqual(['join 11', 'leave 11']);
  });

  it('keeps the record after a stop without leave until the next registration takes the key over', async () => {
    harness = new Harness();
    const { registration } = await harness.register(11);
    const { view, changes } = await harness.view();
    const firstLease = registration.leaseId!;
    await registration.stop();
    const { registration: restarted } = await harness.register(11);
    await until(() => view.get(11)?.leaseId === restarted.leaseId, 'the new registration seen');
    expect(restarted.leaseId).not.toBe(firstLease);
    // The old lease expires without taking the record with it.
    await harness.advance(TTL_SECONDS * 1_000 + LEASE_EXPIRY_CHECK_INTERVAL_MS + STEP_MS * 2);
    expect(ids(view)).toEqual([11]);
    expect(kinds(changes)).toEqual(['join 11', 'update 11']);
  });

  it('registers again with a new lease when the keep-alive loses its lease', async () => {
    harness = new Harness();
    const { registration, plane } = await harness.register(11);
    const { view, changes } = await harness.view();
    const firstLease = registration.leaseId!;
    // The control plane loses the lease (as after a partition longer than the TTL).
    await plane.revokeLease(firstLease);
    await until(() => view.size === 0, 'the lost registration seen');
    await harness.advance(TTL_SECONDS * 1_000);
    await until(() => registration.registrations === 2 && view.size === 1, 'the node registered again');
    expect(registration.leaseLosses).toBe(1);
    expect(registration.leaseId).not.toBe(firstLease);
    expect(view.get(11)?.leaseId).toBe(registration.leaseId);
    expect(kinds(changes)).toEqual(['join 11', 'leave 11', 'join 11']);
  });

  it('treats a closed connection as a hint: suspect, still listed, cleared by evidence or time', async () => {
    harness = new Harness();
    await harness.register(11);
    const { view, changes } = await harness.view();
    view.suspect(11);
    expect(view.get(11)?.health).toBe('suspect');
    view.trust(11);
    expect(view.get(11)?.health).toBe('alive');
    view.suspect(11);
    await harness.advance(TTL_SECONDS * 1_000 + STEP_MS);
    expect(view.get(11)?.health).toBe('alive');
    expect(kinds(changes)).toEqual(['join 11', 'suspect 11', 'trusted 11', 'suspect 11', 'trusted 11']);
    view.suspect(404);
    expect(view.size).toBe(1);
  });

  it('skips and counts records under nodes/ that do not decode', async () => {
    harness = new Harness();
    const plane = await harness.plane();
    await plane.put(nodeKey(5), new TextEncoder().encode('{"id":5}'));
    await plane.put(nodeKey(6), new TextEncoder().encode(JSON.stringify(record(7))));
    const { view } = await harness.view();
    expect(view.size).toBe(0);
    expect(view.badRecords).toBe(2);
  });
});

describe('the peers membership dials', () => {
  it("adds the registered nodes to the transport beside Raft's peers, and a membership change keeps them", async () => {
    harness = new Harness();
    const network = new InMemoryNetwork();
    const transport = memoryTransport(network, harness.clock, 1);
    transport.setPeerSet('raft', new Map([[2, memoryAddress(2)]]));
    const membership = new Membership({
      plane: await harness.plane(),
      record: {
        ...record(1),
        role: 'voter',
        addresses: { peer: 'node-1:7000', client: '127.0.0.1:9001', admin: '127.0.0.1:8001' },
      },
      leaseTtlSeconds: TTL_SECONDS,
      transport,
      dialRegisteredNodes: true,
      clock: harness.clock,
      random: new SeededRandom(1),
    });
    membership.start();
    harness.closers.push(() => membership.stop());
    await harness.register(5);
    await until(() => transport.linkedPeers().includes(5), 'node 5 dialed');
    expect(transport.linkedPeers().sort()).toEqual([2, 5]);
    await harness.register(6);
    await until(() => transport.linkedPeers().includes(6), 'node 6 dialed');
    // Raft's voter 2 is registered nowhere, and still linked after every membership change.
    expect(transport.linkedPeers().sort()).toEqual([2, 5, 6]);
  });
});

describe('which nodes a worker dials', () => {
  it('dials every other node while they are few', () => {
    expect(nodesToDial(3, [1, 2, 3, 4], 8)).toEqual([1, 2, 4]);
  });

  it('dials a bounded, stable share of many, spread so that no node is dialed by everyone', () => {
    const ids = Array.from({ length: 300 }, (_, index) => FIRST_WORKER_NODE_ID + index);
    const inbound = new Map<number, number>();
    for (const self of ids) {
      const chosen = nodesToDial(self, ids, MAX_DIALED_NODES);
      expect(chosen).toHaveLength(MAX_DIALED_NODES);
      expect(chosen).not.toContain(self);
      for (const id of chosen) inbound.set(id, (inbound.get(id) ?? 0) + 1);
    }
    // About MAX_DIALED_NODES each on average; none near the 299 a full mesh would give.
    expect(Math.max(...inbound.values())).toBeLessThan(MAX_DIALED_NODES * 3);
    // A node joining or leaving changes little of what the others dial.
    const before = nodesToDial(ids[0]!, ids, MAX_DIALED_NODES);
    const after = nodesToDial(ids[0]!, ids.slice(0, -1), MAX_DIALED_NODES);
    expect(before.filter((id) => after.includes(id)).length).toBeGreaterThanOrEqual(MAX_DIALED_NODES - 1);
  });
});

describe('which nodes a node measures (pings)', () => {
  const idsOf = (count: number) => Array.from({ length: count }, (_, index) => index + 1);

  it('measures every other node while every node dials every other', () => {
    const ids = idsOf(MAX_DIALED_NODES + 1);
    for (const self of ids) expect(nodesToMeasure(self, ids)).toEqual(ids.filter((id) => id !== self));
  });

  it('in a 40-node mesh, measures only the nodes it dials that dial it back, both ways alike', () => {
    const ids = idsOf(40);
    const measured = new Map(ids.map((self) => [self, nodesToMeasure(self, ids)]));
    let oneWayPairs = 0;
    for (const self of ids) {
      const dialed = nodesToDial(self, ids);
      for (const peer of dialed) {
        const dialsBack = nodesToDial(peer, ids).includes(self);
        // A peer that does not dial back could never answer a ping: it is not pinged at all.
        expect(measured.get(self)!.includes(peer)).toBe(dialsBack);
        if (!dialsBack) oneWayPairs += 1;
      }
      for (const peer of measured.get(self)!) expect(measured.get(peer)).toContain(self);
    }
    // Beyond MAX_DIALED_NODES + 1 nodes, some dialed pairs are one-way by design.
    expect(oneWayPairs).toBeGreaterThan(0);
    // Each node still measures most of what it dials (about 32 * 32 / 39 of 32 here).
    for (const self of ids) expect(measured.get(self)!.length).toBeGreaterThan(MAX_DIALED_NODES / 2);
  });
});

describe('worker id allocation', () => {
  it('hands out distinct ids from FIRST_WORKER_NODE_ID up, also to workers starting at once', async () => {
    harness = new Harness();
    const plane = await harness.plane();
    expect(await allocateWorkerNodeId(plane)).toBe(FIRST_WORKER_NODE_ID);
    const planes = await Promise.all([1, 2, 3, 4, 5].map(() => harness.plane()));
    const allocated = await Promise.all(planes.map((each) => allocateWorkerNodeId(each)));
    expect(new Set(allocated).size).toBe(5);
    expect([...allocated].sort((a, b) => a - b)).toEqual(
      [1, 2, 3, 4, 5].map((n) => FIRST_WORKER_NODE_ID + n),
    );
  });

  it('refuses a counter that holds something else', async () => {
    harness = new Harness();
    const plane = await harness.plane();
    await plane.put(WORKER_ID_COUNTER_KEY, new TextEncoder().encode('seven'));
    await expect(allocateWorkerNodeId(plane)).rejects.toMatchObject({ code: 'WORKER_ID_ALLOCATION' });
  });
});
