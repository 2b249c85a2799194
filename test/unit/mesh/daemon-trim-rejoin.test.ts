/**
 * A member whose node comes back with a fresh disk (three nodes, in-process): its node's record on
 * the trim floor still names the checkpoint it no longer has. Its member claims its real start
 * before following the chain, and since the floor is above that start (the records it would
 * replay may be gone), it starts from another member's checkpoint at or above the floor instead:
 * no member ever needs a record below the floor, and it ends with every event once.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { inboundChainName } from '../../../src/daemons/chain-names.js';
import { decodeJournalState } from '../../../src/daemons/index.js';
import { decodeTrimOffset, trimCheckpointKey } from '../../../src/daemons/trim-floor.js';
import type { NodeId } from '../../../src/lib/index.js';
import { MAX_START_CLAIM_FAILURES } from '../../../src/mesh/daemon-member.js';
import { readTrimFloor } from '../../../src/mesh/daemon-trim-floor.js';
import { until } from '../../support/until.js';
import { bytes, type DaemonMesh, openDaemonMesh, SEND_TIMEOUT_MS, text } from './daemon-mesh.js';

const CHECKPOINT_EVERY_EVENTS = 4;
const CHAIN = inboundChainName('busy');
const NODES = [1, 2, 3];

let mesh: DaemonMesh;
beforeEach(async () => {
  mesh = await openDaemonMesh(NODES, {
    checkpointEvery: { events: CHECKPOINT_EVERY_EVENTS, bytes: 1024 * 1024 * 1024 },
  });
});
afterEach(async () => {
  await mesh.close();
});

async function send(from: number, to: number): Promise<void> {
  for (let sequence = from; sequence <= to; sequence++)
    await mesh.node(2).requests.send('busy', { payload: bytes(`e${sequence}`) }, SEND_TIMEOUT_MS);
}

async function recordOf(node: NodeId): Promise<number | undefined> {
  const entry = await mesh.plane.get(trimCheckpointKey(CHAIN, node));
  return entry === undefined ? undefined : decodeTrimOffset(entry.value);
}

describe('a member back on a fresh disk', () => {
  it('claims its real start and starts from a checkpoint at or above the floor, not below it', async () => {
    await mesh.node(1).requests.deploy({ name: 'busy', kind: 'journal', group: 'standby', members: 3 });
    await send(1, 21);
    await until(
      async () => (await readTrimFloor(mesh.plane, CHAIN)) >= 20,
      'every member checkpointed after the 20th record',
    );
    const status = await mesh.node(1).requests.status('busy');
    const active = status.members.find((member) => member.role === 'active')!;
    const staleRecord = (await recordOf(active.node))!;
    expect(staleRecord).toBeGreaterThanOrEqual(20);

    // The active's node returns without its checkpoint file: it cannot fetch its own active's
    // checkpoint (it is the active), and replaying from 0 would need records below the floor.
    const restarted = await mesh.restart(active.node, { freshDisk: true });
    await until(() => restarted.members.get('busy') !== undefined, 'the member started again');
    const member = restarted.members.get('busy')!;
    await member.ready;
    const floor = await readTrimFloor(mesh.plane, CHAIN);
    expect(floor).toBeGreaterThanOrEqual(20);
    expect(member.startedAt).toBeGreaterThanOrEqual(floor);
    expect(await recordOf(active.node)).toBeGreaterThanOrEqual(floor);
    expect(await recordOf(active.node)).toBeLessThanOrEqual(member.startedAt);

    await send(22, 33);
    const expected = Array.from({ length: 33 }, (_, index) => `e${index + 1}`);
    for (const index of [0, 1, 2]) {
      const journal = async () =>
        decodeJournalState((await mesh.node(3).requests.state('busy', index)).state).map(text);
      await until(async () => (await journal()).length === expected.length, `member ${index} at 33 events`);
      expect(await journal()).toEqual(expected);
    }
    // Every member checkpoints again: the floor moves on, never above one of them.
    await until(async () => (await readTrimFloor(mesh.plane, CHAIN)) >= 32, 'the floor past the 32nd record');
    for (const node of NODES) expect(await recordOf(node)).toBeGreaterThanOrEqual(32);
  });

  it('starts unclaimed after MAX_START_CLAIM_FAILURES failed claims (no control plane), rather than wait for one', async () => {
    await mesh.node(1).requests.deploy({ name: 'busy', kind: 'journal', group: 'standby', members: 3 });
    await send(1, 9);
    await until(async () => (await readTrimFloor(mesh.plane, CHAIN)) >= 8, 'every member checkpointed');
    const status = await mesh.node(1).requests.status('busy');
    const standby = status.members.find((member) => member.role !== 'active')!;
    const txn = mesh.plane.txn.bind(mesh.plane);
    let refused = 0;
    const claims = vi.spyOn(mesh.plane, 'txn').mockImplementation(async (request) => {
      const keys = request.success.map((operation) => operation.key);
      if (keys.some((key) => key.includes('/checkpoints/')) && keys.some((key) => key.endsWith('/floor'))) {
        refused += 1;
        throw new Error('the control plane is unreachable');
      }
      return txn(request);
    });
    const restarted = await mesh.restart(standby.node);
    await until(() => restarted.members.get('busy') !== undefined, 'the member started again');
    const member = restarted.members.get('busy')!;
    await member.ready;
    expect(refused).toBe(MAX_START_CLAIM_FAILURES);
    // It goes on from its own checkpoint, as before there was a floor to claim.
    expect(member.startedAt).toBeGreaterThanOrEqual(8);
    claims.mockRestore();
    await send(10, 13);
    const expected = Array.from({ length: 13 }, (_, index) => `e${index + 1}`);
    const journal = async () =>
      decodeJournalState((await mesh.node(3).requests.state('busy', standby.index)).state).map(text);
    await until(
      async () => (await journal()).length === expected.length,
      'the restarted member at 13 events',
    );
    expect(await journal()).toEqual(expected);
  });
});
