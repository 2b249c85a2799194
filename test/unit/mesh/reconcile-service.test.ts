/**
 * The reconcile service in one process: the daemons services of four nodes over one in-process
 * control plane (daemon-mesh.ts), each with a `Reconciler` over the same plane and its own hub,
 * and each node's `ReconcileNode` reporting its members. Shows that one node holds the lease and
 * re-places a member whose node is gone past the grace period (with the actions it ran, in the
 * hub's event feed), that another takes over when the holder stops, that a stale term's writes
 * are refused, that a crash-looping member is backed off and then cooled down, that a single
 * daemon whose node is gone restarts elsewhere, and that a kind crashing in `process` stops its
 * member until the reconciler restarts it after its backoff.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ChainDirectory, type StatusLearnerProgress } from '../../../src/chains/index.js';
import {
  type ControlPlane,
  encodeRecord,
  RECONCILER_KEY,
  reconcileBackoffKey,
  reconcileDesiredKey,
  reconcileReportKey,
} from '../../../src/control/index.js';
import { inboundChainName, outputChainName } from '../../../src/daemons/chain-names.js';
import { decodeJournalState, journalKind } from '../../../src/daemons/index.js';
import type { DaemonKind } from '../../../src/daemons/types.js';
import { type NodeId, SystemClock, systemRandom } from '../../../src/lib/index.js';
import type { MemberNode } from '../../../src/mesh/membership-view.js';
import { daemonsOwner } from '../../../src/mesh/reconcile-daemons-owner.js';
import {
  type ReconcileEventRecord,
  ReconcileHub,
  type ReconcileTerm,
} from '../../../src/mesh/reconcile-hub.js';
import { ReconcileNode } from '../../../src/mesh/reconcile-node.js';
import { readBackoffRecord, readNodeReport } from '../../../src/mesh/reconcile-records.js';
import { ReconcileState } from '../../../src/mesh/reconcile-state.js';
import { fencedPut } from '../../../src/mesh/reconcile-writes.js';
import { Reconciler } from '../../../src/mesh/reconciler.js';
import { CRASH_LOOP_COOLDOWN_MS, CRASH_LOOP_CRASHES } from '../../../src/reconcile/index.js';
import { rejectionCode } from '../../support/error-code.js';
import { until } from '../../support/until.js';
import { bytes, type DaemonMesh, openDaemonMesh, SEND_TIMEOUT_MS, text } from './daemon-mesh.js';

const NODES: readonly NodeId[] = [1, 2, 3, 4];
const DAEMON_GRACE_MS = 300;
const PASS_INTERVAL_MS = 100;
/** The committed cooldown may end this much before the pure one (clocks read a moment apart); far above an 8 s backoff. */
const COOLDOWN_SLACK_MS = 1_000;
const TAKEOVER_TIMEOUT_MS = 15_000;
/** Five crashes with backoffs of 0.5, 1, 2 and 4 s between them, and passes on the way. */
const CRASH_LOOP_TIMEOUT_MS = 30_000;

const crashingKind: DaemonKind = {
  name: 'crashing',
  create() {
    throw new Error('this kind refuses to start');
  },
};

/** A journal whose `process` throws a plain Error on a payload `boom...`: a crash, not a refusal. */
const fragileKind: DaemonKind = {
  name: 'fragile',
  create(config, context) {
    const journal = journalKind.create(config, context);
    return {
      ...journal,
      name: journal.name,
      process: (event) => {
        if (text(event.payload).startsWith('boom')) throw new Error('this kind breaks on boom');
        return journal.process(event);
      },
      snapshot: () => journal.snapshot!(),
      restore: (state) => journal.restore!(state),
      health: () => journal.health(),
      saturation: () => journal.saturation(),
      onControl: (signal) => journal.onControl(signal),
    };
  },
};

interface ReconcileMesh {
  readonly daemons: DaemonMesh;
  readonly reconcilers: Map<NodeId, Reconciler>;
  readonly events: ReconcileEventRecord[];
  close(): Promise<void>;
}

function memberNode(id: NodeId): MemberNode {
  return {
    record: {
      id,
      name: `n${id}`,
      role: 'voter',
      addresses: { peer: '127.0.0.1:1', admin: '127.0.0.1:2' },
      zone: `zone-${id % 2}`,
      capacity: {},
      version: 'test',
      startedAt: 0,
    },
    leaseId: id,
    health: 'alive',
  };
}

async function openReconcileMesh(kinds: readonly DaemonKind[] = []): Promise<ReconcileMesh> {
  const daemons = await openDaemonMesh(NODES, { kinds });
  const clock = new SystemClock();
  const { plane } = daemons;
  const registered = (node: NodeId): boolean => NODES.includes(node) && !daemons.gone.has(node);
  const events: ReconcileEventRecord[] = [];
  const reconcilers = new Map<NodeId, Reconciler>();
  const nodes: ReconcileNode[] = [];
  const lease = await plane.grantLease(3_600);
  for (const id of NODES) {
    const hub = new ReconcileHub();
    hub.registerOwner('daemons', daemonsOwner({ plane, isRegistered: registered, clock }));
    hub.onEvent((record) => events.push(record));
    const reconciler = new Reconciler({
      plane,
      self: id,
      hub,
      openState: (handlers) =>
        new ReconcileState({
          plane,
          nodes: () => NODES.filter(registered).map(memberNode),
          onNodesChange: () => () => {},
          proximity: () => undefined,
          hub,
          clock,
          ...handlers,
        }),
      reconcileOptions: { daemonDownGraceMs: DAEMON_GRACE_MS },
      passIntervalMs: PASS_INTERVAL_MS,
      clock,
      random: systemRandom(),
    });
    reconciler.start();
    reconcilers.set(id, reconciler);
    nodes.push(
      new ReconcileNode({
        self: id,
        plane,
        members: () => daemons.node(id).members,
        leaseId: () => lease.id,
        clock,
      }),
    );
  }
  return {
    daemons,
    reconcilers,
    events,
    async close() {
      for (const node of nodes) node.stop();
      for (const reconciler of reconcilers.values()) await reconciler.stop();
      await daemons.close();
    },
  };
}

function holders(mesh: ReconcileMesh): NodeId[] {
  return [...mesh.reconcilers].filter(([, reconciler]) => reconciler.isHolding).map(([id]) => id);
}

async function holderNode(plane: ControlPlane): Promise<NodeId | undefined> {
  const entry = await plane.get(RECONCILER_KEY);
  return entry === undefined ? undefined : (JSON.parse(text(entry.value)) as { node: NodeId }).node;
}

describe('the reconcile service (one process)', () => {
  let mesh: ReconcileMesh | undefined;
  afterEach(async () => {
    await mesh?.close();
    mesh = undefined;
  });

  it('one node holds the lease; it re-places a standby whose node is gone past the grace period, and the member replays the chain', async () => {
    mesh = await openReconcileMesh();
    const { daemons } = mesh;
    await until(() => holders(mesh!).length === 1, 'one reconciler holding the lease');
    await daemons.node(1).requests.deploy({ name: 'log', kind: 'journal', group: 'standby', members: 3 });
    const before = await daemons.node(1).requests.status('log');
    const standby = before.members.find((member) => member.role === 'standby')!;
    const spare = NODES.find((node) => !before.members.some((member) => member.node === node))!;
    for (const payload of ['a', 'b', 'c'])
      await daemons.node(spare).requests.send('log', { payload: bytes(payload) }, SEND_TIMEOUT_MS);
    // The standby's node must not be the holder: its reconciler stops with it.
    const holder = holders(mesh)[0]!;
    if (holder === standby.node) await mesh.reconcilers.get(holder)!.stop();
    const goneAt = Date.now();
    daemons.down.add(standby.node);
    daemons.gone.add(standby.node);
    await daemons.node(standby.node).coordinator.stop();
    await until(async () => {
      const status = await daemons.node(spare).requests.status('log');
      const member = status.members.find((candidate) => candidate.index === standby.index)!;
      return member.node === spare && member.healthy && member.syncedThrough === status.inboundThrough;
    }, 'the member re-placed on the spare node and synced');
    expect(Date.now() - goneAt).toBeGreaterThanOrEqual(DAEMON_GRACE_MS);
    const status = await daemons.node(spare).requests.status('log');
    expect(status.epoch).toBe(before.epoch);
    expect(status.members.map((member) => member.node)).not.toContain(standby.node);
    const state = await daemons.node(spare).requests.state('log', standby.index);
    expect(decodeJournalState(state.state).map(text)).toEqual(['a', 'b', 'c']);
    // The reconciler decided it: its StartDaemon on the spare node was dispatched and completed.
    const started = mesh.events.filter(
      (record) =>
        record.action.action.kind === 'StartDaemon' &&
        record.action.action.node === spare &&
        record.event.type === 'completed',
    );
    expect(started).toHaveLength(1);
    const kinds = mesh.events
      .filter((record) => record.action.id === started[0]!.action.id)
      .map((r) => r.event.type);
    expect(kinds).toEqual(['queued', 'dispatched', 'completed']);
  });

  it('restarts a single daemon whose node is gone on another node at a new epoch, from its inbound chain', async () => {
    mesh = await openReconcileMesh();
    const { daemons } = mesh;
    await until(() => holders(mesh!).length === 1, 'one reconciler holding the lease');
    await daemons.node(1).requests.deploy({ name: 'solo', kind: 'journal', group: 'single', members: 1 });
    const before = await daemons.node(1).requests.status('solo');
    const lost = before.members[0]!.node;
    const survivor = NODES.find((node) => node !== lost)!;
    for (const payload of ['a', 'b', 'c'])
      await daemons.node(survivor).requests.send('solo', { payload: bytes(payload) }, SEND_TIMEOUT_MS);
    const holder = holders(mesh)[0]!;
    if (holder === lost) await mesh.reconcilers.get(holder)!.stop();
    daemons.down.add(lost);
    daemons.gone.add(lost);
    await daemons.node(lost).coordinator.stop();
    await until(async () => {
      const status = await daemons.node(survivor).requests.status('solo');
      const member = status.members[0]!;
      return member.node !== lost && member.healthy && member.syncedThrough === status.inboundThrough;
    }, 'the single daemon restarted on a live node and synced');
    const status = await daemons.node(survivor).requests.status('solo');
    // A new epoch: whatever the old member could still append is refused by the epoch rule.
    expect(status.epoch).toBe(before.epoch + 1);
    expect(status.members).toHaveLength(1);
    const moved = status.members[0]!.node;
    await daemons.node(survivor).requests.send('solo', { payload: bytes('d') }, SEND_TIMEOUT_MS);
    const state = await daemons.node(moved).requests.state('solo', 0);
    expect(decodeJournalState(state.state).map(text)).toEqual(['a', 'b', 'c', 'd']);
    const started = mesh.events.filter(
      (record) =>
        record.action.action.kind === 'StartDaemon' &&
        record.action.action.node === moved &&
        record.event.type === 'completed',
    );
    expect(started).toHaveLength(1);
  });

  it("stops a standby beyond an operator's member count (StopDaemon) and starts one when the count grows", async () => {
    mesh = await openReconcileMesh();
    const { daemons } = mesh;
    const { plane } = daemons;
    await until(() => holders(mesh!).length === 1, 'one reconciler holding the lease');
    await daemons.node(1).requests.deploy({ name: 'scaled', kind: 'journal', group: 'standby', members: 3 });
    const before = await daemons.node(1).requests.status('scaled');
    for (const payload of ['a', 'b'])
      await daemons.node(1).requests.send('scaled', { payload: bytes(payload) }, SEND_TIMEOUT_MS);
    const askMembers = (members: number) =>
      plane.put(reconcileDesiredKey('scaled'), encodeRecord(reconcileDesiredKey('scaled'), { members }));
    await askMembers(2);
    await until(
      async () => (await daemons.node(1).requests.status('scaled')).members.length === 2,
      '2 members',
    );
    const shrunk = await daemons.node(1).requests.status('scaled');
    // The node's status carries the operator's count (absent before one was asked for).
    expect(before).not.toHaveProperty('desiredMembers');
    expect(shrunk.desiredMembers).toBe(2);
    const stopped = before.members.find(
      (member) => !shrunk.members.some((kept) => kept.node === member.node),
    )!;
    // A standby went, the active stayed where it was, at the same epoch.
    expect(stopped.role).toBe('standby');
    expect(shrunk.members.find((member) => member.role === 'active')?.node).toBe(
      before.members.find((member) => member.role === 'active')?.node,
    );
    expect(shrunk.epoch).toBe(before.epoch);
    await until(
      () => daemons.node(stopped.node).members.get('scaled') === undefined,
      'the member stopped on its node',
    );
    const stops = mesh.events.filter(
      (record) =>
        record.action.action.kind === 'StopDaemon' &&
        record.action.action.node === stopped.node &&
        record.event.type === 'completed',
    );
    expect(stops).toHaveLength(1);
    await daemons.node(1).requests.send('scaled', { payload: bytes('c') }, SEND_TIMEOUT_MS);
    await askMembers(4);
    await until(async () => {
      const status = await daemons.node(1).requests.status('scaled');
      return (
        status.members.length === 4 &&
        status.members.every((member) => member.healthy && member.syncedThrough === status.inboundThrough)
      );
    }, '4 members, every one synced');
    const grown = await daemons.node(1).requests.status('scaled');
    expect(grown.desiredMembers).toBe(4);
    for (const member of grown.members) {
      const state = await daemons.node(member.node).requests.state('scaled', member.index);
      expect(decodeJournalState(state.state).map(text)).toEqual(['a', 'b', 'c']);
    }
  });

  it('another node takes the lease when the holder stands down, and goes on reconciling', async () => {
    mesh = await openReconcileMesh();
    await until(() => holders(mesh!).length === 1, 'one reconciler holding the lease');
    const first = holders(mesh)[0]!;
    expect(await holderNode(mesh.daemons.plane)).toBe(first);
    const firstEpoch = mesh.reconcilers.get(first)!.status().epoch!;
    await mesh.reconcilers.get(first)!.stop();
    await until(
      () => holders(mesh!).length === 1,
      'another reconciler holding the lease',
      TAKEOVER_TIMEOUT_MS,
    );
    const second = holders(mesh)[0]!;
    expect(second).not.toBe(first);
    const status = mesh.reconcilers.get(second)!.status();
    expect(status.epoch).toBeGreaterThan(firstEpoch);
    const passes = status.passes;
    await until(() => mesh!.reconcilers.get(second)!.status().passes > passes, 'a pass by the new holder');
  });

  it("refuses a stale term's writes: an old holder's dispatch changes nothing", async () => {
    mesh = await openReconcileMesh();
    await until(() => holders(mesh!).length === 1, 'one reconciler holding the lease');
    const { plane } = mesh.daemons;
    const current = (await plane.get(RECONCILER_KEY))!;
    const stale: ReconcileTerm = {
      holder: 9,
      epoch: current.createRevision - 1,
      fence: [
        { key: RECONCILER_KEY, target: 'createRevision', operator: '=', operand: current.createRevision - 1 },
      ],
    };
    expect(await rejectionCode(fencedPut(plane, stale, 'reconcile/probe', { a: 1 }))).toBe(
      'RECONCILE_TERM_FENCED',
    );
    expect(await plane.get('reconcile/probe')).toBeUndefined();
    await mesh.daemons
      .node(1)
      .requests.deploy({ name: 'log', kind: 'journal', group: 'standby', members: 2 });
    const before = await mesh.daemons.node(1).requests.status('log');
    const standby = before.members.find((member) => member.role === 'standby')!;
    const spare = NODES.find((node) => !before.members.some((member) => member.node === node))!;
    const owner = daemonsOwner({
      plane,
      isRegistered: (node) => node !== standby.node,
      clock: new SystemClock(),
    });
    const pending = {
      id: 1,
      emittedAtMonotonicMs: 0,
      action: { kind: 'StartDaemon' as const, daemon: 'log', node: spare },
    };
    const dispatch = { term: stale, signal: new AbortController().signal };
    expect(await rejectionCode(owner.handle(pending, dispatch))).toBe('RECONCILE_TERM_FENCED');
    const after = await mesh.daemons.node(1).requests.status('log');
    expect(after.members.map((member) => member.node)).toEqual(before.members.map((member) => member.node));
  });

  it('backs a crash-looping member off (500 ms doubling) and cools it down after 5 crashes in 60 s', async () => {
    mesh = await openReconcileMesh([crashingKind]);
    const { daemons } = mesh;
    await until(() => holders(mesh!).length === 1, 'one reconciler holding the lease');
    await daemons.node(1).requests.deploy({ name: 'loop', kind: 'crashing', group: 'single', members: 1 });
    const node = (await daemons.node(1).requests.status('loop')).members[0]?.node;
    expect(node).toBeDefined();
    const crashTimes = async (): Promise<readonly number[]> => {
      const entry = await daemons.plane.get(reconcileReportKey(node!));
      const report = entry === undefined ? undefined : readNodeReport(entry.key, entry.value);
      return report?.daemons.find((member) => member.name === 'loop')?.crashTimesWallMs ?? [];
    };
    await until(
      async () => (await crashTimes()).length >= CRASH_LOOP_CRASHES,
      '5 crashes',
      CRASH_LOOP_TIMEOUT_MS,
    );
    const times = await crashTimes();
    expect(times).toHaveLength(CRASH_LOOP_CRASHES);
    // Each restart waited at least its backoff: 500, 1000, 2000, 4000 ms.
    const gaps = times.slice(1).map((time, index) => time - times[index]!);
    for (const [index, gapMs] of gaps.entries()) expect(gapMs).toBeGreaterThanOrEqual(500 * 2 ** index);
    // The fifth crash puts it in the cooldown: committed, and no restart meanwhile.
    await until(async () => {
      const entry = await daemons.plane.get(reconcileBackoffKey('loop', node!));
      return (
        entry !== undefined &&
        readBackoffRecord(entry.key, entry.value).untilWallMs >=
          times.at(-1)! + CRASH_LOOP_COOLDOWN_MS - COOLDOWN_SLACK_MS
      );
    }, 'the cooldown committed');
    // Every restart was the reconciler's: a backoff, then a start on the member's own node.
    const completed = (kind: string) =>
      mesh!.events.filter(
        (record) =>
          record.action.action.kind === kind &&
          'node' in record.action.action &&
          record.action.action.node === node &&
          record.event.type === 'completed',
      ).length;
    expect(completed('ApplyBackoff')).toBeGreaterThanOrEqual(CRASH_LOOP_CRASHES);
    expect(completed('StartDaemon')).toBe(CRASH_LOOP_CRASHES - 1);
  }, 60_000);
});

describe('a kind that crashes in process (one process)', () => {
  let mesh: ReconcileMesh | undefined;
  afterEach(async () => {
    await mesh?.close();
    mesh = undefined;
  });

  it('stops the member on each crash and restarts it only after its backoff; a typed refusal is no crash', async () => {
    mesh = await openReconcileMesh([fragileKind]);
    const { daemons } = mesh;
    await until(() => holders(mesh!).length === 1, 'one reconciler holding the lease');
    await daemons.node(1).requests.deploy({ name: 'frail', kind: 'fragile', group: 'single', members: 1 });
    await daemons.node(1).requests.deploy({ name: 'sum', kind: 'counter', group: 'single', members: 1 });
    const node = (await daemons.node(1).requests.status('frail')).members[0]!.node;
    const report = async (name: string) => {
      const entry = await daemons.plane.get(reconcileReportKey(node));
      const reported = entry === undefined ? undefined : readNodeReport(entry.key, entry.value);
      return reported?.daemons.find((member) => member.name === name);
    };
    // Each payload its own sequence: a retry of a send whose outcome was unknown is applied once.
    let sequence = 0;
    const sequences = new Map<string, number>();
    const send = (name: string, payload: string) => {
      const key = `${name}/${payload}`;
      if (!sequences.has(key)) sequences.set(key, ++sequence);
      const event = { payload: bytes(payload), clientId: 'tester', sequence: sequences.get(key)! };
      return daemons.node(node).requests.send(name, event, SEND_TIMEOUT_MS);
    };
    await send('frail', 'a');
    const restarts: number[] = [];
    for (let crash = 1; crash <= 2; crash++) {
      expect(await rejectionCode(send('frail', `boom-${crash}`))).toBe('DAEMON_PROCESS_FAILED');
      await until(async () => (await report('frail'))?.crashes === crash, `crash ${crash} reported`);
      const crashedAt = (await report('frail'))!.crashTimesWallMs.at(-1)!;
      // Stopped: the next send is taken only once the reconciler restarted the member.
      await until(
        async () =>
          await send('frail', `after-${crash}`).then(
            () => true,
            () => false,
          ),
        `a send after crash ${crash}`,
      );
      restarts.push(Date.now() - crashedAt);
    }
    // The restart after the n-th crash waits 500 ms x 2^(n-1).
    expect(restarts[0]).toBeGreaterThanOrEqual(500);
    expect(restarts[1]).toBeGreaterThanOrEqual(1_000);
    const state = await daemons.node(node).requests.state('frail', 0);
    expect(decodeJournalState(state.state).map(text)).toEqual(['a', 'after-1', 'after-2']);
    // The counter refuses a payload with a typed error: the event fails, the member runs on.
    expect(await rejectionCode(send('sum', 'not a number'))).toBe('DAEMON_PROCESS_FAILED');
    await send('sum', '2');
    expect((await report('sum'))?.crashes ?? 0).toBe(0);
  }, 30_000);
});

describe('the reconcile state with nodes in maintenance', () => {
  let mesh: ReconcileMesh | undefined;
  afterEach(async () => {
    await mesh?.close();
    mesh = undefined;
  });

  it("leaves daemons and chains with a member on a draining node that is up to the drain; a draining node that is down is the reconciler's", async () => {
    mesh = await openReconcileMesh();
    const { daemons } = mesh;
    await daemons.node(1).requests.deploy({ name: 'log', kind: 'journal', group: 'standby', members: 3 });
    const member = (await daemons.node(1).requests.status('log')).members[0]!.node;
    const clock = new SystemClock();
    const progress = { caughtUp: () => new Set(), refresh: async () => {}, onChange: () => () => {} };
    const registered = new Set(NODES);
    const state = new ReconcileState({
      plane: daemons.plane,
      nodes: () => [...registered].map(memberNode),
      onNodesChange: () => () => {},
      proximity: () => undefined,
      hub: new ReconcileHub(),
      chains: {
        directory: new ChainDirectory(daemons.plane, { clock }),
        progress: progress as unknown as StatusLearnerProgress,
      },
      maintenance: () => ({
        state: (node) => (node === member ? { phase: 'Maintenance' } : { phase: 'Active' }),
        placeable: (node) => node !== member,
        leaving: (node) => node === member,
      }),
      clock,
      onChange: () => {},
      onError: () => {},
    });
    try {
      await until(() => state.loaded, 'the state followed');
      const time = { monotonicMs: clock.nowMs(), wallMs: clock.wallMs() };
      const drained = state.input(time, []);
      expect(drained.desired.daemons).toEqual([]);
      expect(drained.observed.chains).toEqual([]);
      registered.delete(member);
      const gone = state.input(time, []);
      expect(gone.desired.daemons).toEqual([{ name: 'log', members: 3 }]);
      expect(gone.observed.chains.map((chain) => chain.name).sort()).toEqual([
        inboundChainName('log'),
        outputChainName('log'),
      ]);
      expect(gone.observed.nodes.find((node) => node.id === member)?.health).toBe('down');
    } finally {
      state.stop();
    }
  });
});
