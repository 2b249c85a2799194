/**
 * A replica group across the daemons services of four nodes in one process (shared control plane,
 * in-memory chains): each member applies its own share of the events on its own chains, routed by
 * key, by client id, or by load; a member whose node leaves is rebuilt on the free node at a
 * higher epoch and still recognises retries of the events it applied before.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { memberChains } from '../../../src/daemons/chain-names.js';
import { decodeJournalState, replicaForKey } from '../../../src/daemons/index.js';
import { until } from '../../support/until.js';
import {
  bytes,
  type DaemonMesh,
  followOutputs,
  openDaemonMesh,
  SEND_TIMEOUT_MS,
  text,
} from './daemon-mesh.js';

const MEMBERS = 3;

/** A key of each member, found by trying names: member i gets `keys[i]`. */
const keys = [0, 1, 2].map((member) => {
  for (let attempt = 0; ; attempt++) {
    const key = `key-${attempt}`;
    if (replicaForKey(key, MEMBERS) === member) return key;
  }
});

let mesh: DaemonMesh;
beforeEach(async () => {
  mesh = await openDaemonMesh([1, 2, 3, 4]);
});
afterEach(async () => {
  await mesh.close();
});

async function journalOf(member: number): Promise<string[]> {
  return decodeJournalState((await mesh.node(1).requests.state('shares', member)).state).map(text);
}

describe('a replica group across nodes (one process)', () => {
  it('places members on distinct nodes, each with its own chains, and routes keyed events to their member', async () => {
    const status = await mesh
      .node(4)
      .requests.deploy({ name: 'shares', kind: 'journal', group: 'replica', members: 3 });
    expect(status.members.map(({ index, node, role }) => ({ index, node, role }))).toEqual([
      { index: 0, node: 1, role: 'replica' },
      { index: 1, node: 2, role: 'replica' },
      { index: 2, node: 3, role: 'replica' },
    ]);
    expect((await mesh.chains.list()).map((chain) => chain.name).sort()).toEqual(
      [0, 1, 2]
        .flatMap((member) => Object.values(memberChains({ name: 'shares', group: 'replica' }, member)))
        .sort(),
    );
    for (const [round, via] of [1, 2, 3, 4].entries()) {
      for (const [member, key] of keys.entries()) {
        const result = await mesh
          .node(via)
          .requests.send('shares', { payload: bytes(`${key}/${round}`), key }, SEND_TIMEOUT_MS);
        // Each member's chain counts its own events from 0: the journal answers with its index.
        expect(result).toMatchObject({ memberIndex: member, epoch: 1, inboundOffset: round });
        expect(result.outputs.map(text)).toEqual([String(round)]);
      }
    }
    for (const [member, key] of keys.entries())
      expect(await journalOf(member)).toEqual([0, 1, 2, 3].map((round) => `${key}/${round}`));
    await until(async () => {
      const current = await mesh.node(2).requests.status('shares');
      return current.members.every((member) => member.healthy && member.syncedThrough === 4);
    }, 'every member synced');
    // The group's inbound position is its members' chains together.
    expect((await mesh.node(2).requests.status('shares')).inboundThrough).toBe(12);
    const outputs = (await followOutputs(mesh.node(3), 'shares', 4, 2)).map((output) => text(output.payload));
    expect(outputs).toEqual(['0', '1', '2', '3']);
  });

  it("reports a member synced at its chain's commit offset when the chain ends in a new leader's markers", async () => {
    await mesh.node(1).requests.deploy({ name: 'shares', kind: 'journal', group: 'replica', members: 3 });
    for (const key of keys)
      await mesh.node(4).requests.send('shares', { payload: bytes(`${key}/0`), key }, SEND_TIMEOUT_MS);
    // Member 1's chain changes leader twice after its last event (a failover, then its active's
    // node taking it back): two offsets taken by epoch-start markers, no event after them.
    const chain = memberChains({ name: 'shares', group: 'replica' }, 1).inbound;
    mesh.chains.appendMarker(chain);
    mesh.chains.appendMarker(chain);
    await until(async () => {
      const current = await mesh.node(2).requests.status('shares');
      return (
        current.inboundThrough === 5 &&
        current.members.map((member) => member.syncedThrough).join() === [1, 3, 1].join()
      );
    }, "every member at its chain's commit offset");
    // The member applied its one event and stands past the markers: the next event follows them.
    const next = await mesh
      .node(3)
      .requests.send('shares', { payload: bytes(`${keys[1]}/1`), key: keys[1]! }, SEND_TIMEOUT_MS);
    expect(next).toMatchObject({ memberIndex: 1, inboundOffset: 3 });
    expect(await journalOf(1)).toEqual([`${keys[1]}/0`, `${keys[1]}/1`]);
  });

  it('sends an event without key or client id to the least saturated member, turn by turn when tied', async () => {
    await mesh.node(1).requests.deploy({ name: 'shares', kind: 'journal', group: 'replica', members: 3 });
    const members: number[] = [];
    for (let event = 0; event < 9; event++)
      members.push(
        (await mesh.node(4).requests.send('shares', { payload: bytes(`e${event}`) }, SEND_TIMEOUT_MS))
          .memberIndex,
      );
    expect([0, 1, 2].map((member) => members.filter((chosen) => chosen === member).length)).toEqual([
      3, 3, 3,
    ]);
  });

  it('rebuilds a member on the free node when its node leaves; a retry is recognised, its events go on', async () => {
    await mesh.node(1).requests.deploy({ name: 'shares', kind: 'journal', group: 'replica', members: 3 });
    const key = keys[1]!;
    await mesh
      .node(3)
      .requests.send('shares', { payload: bytes('a'), key, clientId: 'c', sequence: 1 }, SEND_TIMEOUT_MS);
    const last = await mesh
      .node(3)
      .requests.send('shares', { payload: bytes('b'), key, clientId: 'c', sequence: 2 }, SEND_TIMEOUT_MS);
    // Node 2 (member 1's) leaves: its channel drops everything and its coordinator stands down.
    mesh.down.add(2);
    await mesh.node(2).coordinator.stop();
    // A retry of the last event node 2 applied waits for the member's new node, which replayed
    // the member's chain: it is answered with the first answer, not applied again.
    const retry = await mesh
      .node(3)
      .requests.send('shares', { payload: bytes('b'), key, clientId: 'c', sequence: 2 }, SEND_TIMEOUT_MS);
    expect(retry).toMatchObject({ memberIndex: 1, epoch: 2, duplicate: true });
    expect(retry.outputs.map(text)).toEqual(last.outputs.map(text));
    const status = await mesh.node(1).requests.status('shares');
    expect(status.epoch).toBe(2);
    expect(status.members.map((member) => member.node)).toEqual([1, 4, 3]);
    const relocations = [...mesh.nodes.values()].reduce((sum, node) => sum + node.coordinator.relocations, 0);
    expect(relocations).toBe(1);
    const next = await mesh
      .node(1)
      .requests.send('shares', { payload: bytes('c'), key, clientId: 'c', sequence: 3 }, SEND_TIMEOUT_MS);
    expect(next).toMatchObject({ memberIndex: 1, epoch: 2, duplicate: false });
    expect(await journalOf(1)).toEqual(['a', 'b', 'c']);
    // The other members were not moved and kept their (empty) shares.
    expect(await journalOf(0)).toEqual([]);
  });

  it('refuses outputs and state of a member the group does not have', async () => {
    await mesh.node(1).requests.deploy({ name: 'shares', kind: 'journal', group: 'replica', members: 2 });
    const read = async () => {
      for await (const _ of mesh
        .node(1)
        .requests.outputs('shares', 0, false, new AbortController().signal, 5));
    };
    await expect(read()).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(mesh.node(1).requests.state('shares', 5)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    await mesh.node(1).requests.remove('shares');
    expect(await mesh.chains.list()).toEqual([]);
  });
});
