/**
 * `MaintenanceAgent` on daemons services of several nodes in one process (real moves and
 * definitions over an in-process control plane): a drained node's active moves to its synced
 * standby and its member is re-homed while senders send, the node reaches Maintenance, and every
 * acknowledged event is in both members' journals once, in order; exit walks it back through
 * Recovery to Active. A drain that cannot finish (no node free for a member) ends in DrainFailed
 * naming the member and why. Chain replicas are the chain coordinator's (placement tests).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { nodeKey } from '../../../src/control/index.js';
import { DaemonDirectory } from '../../../src/daemons/directory.js';
import { decodeJournalState } from '../../../src/daemons/index.js';
import { isMeshError, type NodeId, SystemClock } from '../../../src/lib/index.js';
import { MaintenanceAgent, MaintenanceStore, MaintenanceView } from '../../../src/mesh/index.js';
import { drainDaemonsOf } from '../../../src/mesh/maintenance-service.js';
import type { MaintenancePhase } from '../../../src/reconcile/index.js';
import { until } from '../../support/until.js';
import { bytes, type DaemonMesh, openDaemonMesh, SEND_TIMEOUT_MS, text } from './daemon-mesh.js';

const AGENT_INTERVAL_MS = 100;
const DRAIN_TIMEOUT_MS = 30_000;

let mesh: DaemonMesh | undefined;
let stops: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const stop of stops.reverse()) await stop();
  stops = [];
  await mesh?.close();
  mesh = undefined;
});

/** A mesh of `ids` with a maintenance agent per node, every node registered. */
async function drainableMesh(ids: readonly NodeId[]) {
  const clock = new SystemClock();
  const opened = await openDaemonMesh(ids);
  mesh = opened;
  for (const id of ids) await opened.plane.put(nodeKey(id), bytes('{}'));
  const view = new MaintenanceView(opened.plane, clock);
  const store = new MaintenanceStore(opened.plane, clock);
  const phases = new Map<NodeId, MaintenancePhase[]>(ids.map((id) => [id, []]));
  view.onChange(() => {
    for (const id of ids) {
      const seen = phases.get(id)!;
      const phase = view.state(id).phase;
      if (seen[seen.length - 1] !== phase && !(seen.length === 0 && phase === 'Active')) seen.push(phase);
    }
  });
  stops.push(() => view.stop());
  for (const id of ids) {
    const node = opened.node(id);
    const agent = new MaintenanceAgent({
      self: id,
      record: () => view.record(id),
      onChange: (listener) => view.onChange(listener),
      commit: (target) => store.commit(id, target),
      daemons: drainDaemonsOf(new DaemonDirectory(opened.plane), () => node.requests),
      chains: async () => [],
      nodes: () =>
        ids.map((candidate) => ({ id: candidate, healthy: true, placeable: view.placeable(candidate) })),
      clock,
      intervalMs: AGENT_INTERVAL_MS,
    });
    agent.start();
    stops.push(() => agent.stop());
  }
  return { mesh: opened, view, store, phases, ids };
}

/** `count` senders of `log`, each with its client id and sequence, through every node in turn. */
function sendWhileDraining(opened: DaemonMesh, ids: readonly NodeId[], count: number) {
  let running = true;
  const acknowledged: string[][] = Array.from({ length: count }, () => []);
  const loops = acknowledged.map(async (mine, sender) => {
    for (let sequence = 1; running; sequence++) {
      await new Promise((resolve) => setImmediate(resolve));
      const payload = `${sender}:${sequence}`;
      const via = opened.node(ids[(sender + sequence) % ids.length]!);
      try {
        await via.requests.send(
          'log',
          { payload: bytes(payload), clientId: `c${sender}`, sequence },
          SEND_TIMEOUT_MS,
        );
        mine.push(payload);
      } catch (error) {
        // Unavailable: applied nowhere; an unknown outcome is checked below (at most once).
        if (!isMeshError(error)) throw error;
      }
    }
  });
  return async (): Promise<string[][]> => {
    running = false;
    await Promise.all(loops);
    return acknowledged;
  };
}

async function journals(opened: DaemonMesh, members: readonly number[]): Promise<string[][]> {
  return Promise.all(
    members.map(async (member) =>
      decodeJournalState((await opened.node(1).requests.state('log', member)).state).map(text),
    ),
  );
}

function expectEachAcknowledgedOnce(journal: readonly string[], acknowledged: readonly string[][]): void {
  for (const [sender, payloads] of acknowledged.entries()) {
    const mine = journal.filter((payload) => payload.startsWith(`${sender}:`));
    expect(new Set(mine).size).toBe(mine.length);
    // Acknowledged ones appear in order; anything else there was of unknown outcome, once.
    expect(mine.filter((payload) => payloads.includes(payload))).toEqual(payloads);
  }
}

describe('MaintenanceAgent', () => {
  it('drains a node under load: active to its synced standby, member re-homed, Maintenance; exit through Recovery', async () => {
    const { mesh: opened, view, store, phases, ids } = await drainableMesh([1, 2, 3, 4]);
    const deployed = await opened
      .node(1)
      .requests.deploy({ name: 'log', kind: 'journal', group: 'standby', members: 2 });
    expect(deployed.members.map((member) => member.node)).toEqual([1, 2]);
    const stopSending = sendWhileDraining(opened, ids, 8);
    await until(
      async () => (await opened.node(3).requests.status('log')).inboundThrough >= 40,
      'events before the drain',
    );

    await store.enter(1, { deadlineMs: DRAIN_TIMEOUT_MS });
    await until(() => view.state(1).phase === 'Maintenance', 'node 1 in Maintenance', DRAIN_TIMEOUT_MS);
    const drained = await opened.node(3).requests.status('log');
    expect(drained.members.map((member) => member.node)).not.toContain(1);
    // The standby (node 2) took the active over; member 0 went to the least loaded free node, 3.
    expect(drained.members.map(({ index, node, role }) => ({ index, node, role }))).toEqual([
      { index: 0, node: 3, role: 'standby' },
      { index: 1, node: 2, role: 'active' },
    ]);
    const inboundAtDrain = drained.inboundThrough;
    await until(
      async () => (await opened.node(3).requests.status('log')).inboundThrough >= inboundAtDrain + 20,
      'events after the drain',
    );
    const acknowledged = await stopSending();

    await until(async () => {
      const now = await opened.node(2).requests.status('log');
      return now.members.every((member) => member.syncedThrough === now.inboundThrough);
    }, 'both members synced');
    const [first, second] = await journals(opened, [0, 1]);
    expect(second).toEqual(first);
    expectEachAcknowledgedOnce(first!, acknowledged);

    await store.exit(1, { rampUpMs: 300 });
    await until(() => view.state(1).phase === 'Active', 'node 1 Active again', DRAIN_TIMEOUT_MS);
    expect(phases.get(1)).toEqual([
      'EnteringMaintenance',
      'Maintenance',
      'ExitingMaintenance',
      'Recovery',
      'Active',
    ]);
    for (const id of [2, 3, 4]) expect(phases.get(id)).toEqual([]);
  }, 60_000);

  it('ends a drain that cannot finish in DrainFailed, naming the member and why; the node keeps it', async () => {
    const { mesh: opened, view, store, phases, ids } = await drainableMesh([1, 2]);
    await opened.node(1).requests.deploy({ name: 'log', kind: 'journal', group: 'standby', members: 2 });
    const stopSending = sendWhileDraining(opened, ids, 4);
    await store.enter(2, { deadlineMs: 1_500 });
    await until(() => view.state(2).phase === 'DrainFailed', 'node 2 DrainFailed', DRAIN_TIMEOUT_MS);
    const state = view.state(2);
    expect(state).toEqual({
      phase: 'DrainFailed',
      reason:
        'drain deadline passed with 1 daemons and 0 chain replicas still on the node: daemon log member 1 (standby): no healthy Active node without a member of the daemon to re-home it to',
    });
    expect((await opened.node(1).requests.status('log')).members.map((member) => member.node)).toEqual([
      1, 2,
    ]);
    const acknowledged = await stopSending();
    expect(acknowledged.flat().length).toBeGreaterThan(0);
    expectEachAcknowledgedOnce((await journals(opened, [0]))[0]!, acknowledged);

    await store.exit(2, { rampUpMs: 200 });
    await until(() => view.state(2).phase === 'Active', 'node 2 Active again', DRAIN_TIMEOUT_MS);
    expect(phases.get(2)).toEqual([
      'EnteringMaintenance',
      'DrainFailed',
      'ExitingMaintenance',
      'Recovery',
      'Active',
    ]);
  }, 60_000);
});
