/**
 * A fork's deploy rebuilds its parent's state at the fork point from a parent member's checkpoint
 * at or below it (replaying only the parent's records from the checkpoint on), and from the
 * chain's start when the checkpoint lies past the fork point; both reach the parent's state there.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { inboundChainName } from '../../../src/daemons/chain-names.js';
import { decodeJournalState } from '../../../src/daemons/index.js';
import { decodeTrimOffset, trimPinKey, trimPinsPrefix } from '../../../src/daemons/trim-floor.js';
import type { NodeId } from '../../../src/lib/index.js';
import { until } from '../../support/until.js';
import { bytes, type DaemonMesh, openDaemonMesh, SEND_TIMEOUT_MS, text } from './daemon-mesh.js';

/** Members take a checkpoint every 4 records here. */
const CHECKPOINT_EVERY_EVENTS = 4;
const PARENT_EVENTS = 11;
const PARENT_CHAIN = inboundChainName('origin');

let mesh: DaemonMesh;
beforeEach(async () => {
  mesh = await openDaemonMesh([1, 2, 3], {
    checkpointEvery: { events: CHECKPOINT_EVERY_EVENTS, bytes: 1024 * 1024 * 1024 },
  });
});
afterEach(async () => {
  vi.restoreAllMocks();
  await mesh.close();
});

async function journalOf(name: string): Promise<string[]> {
  return decodeJournalState((await mesh.node(3).requests.state(name)).state).map(text);
}

/**
 * A standby journal `origin` on nodes 1 and 2 that applied e1..e11 (inbound offsets 0..10) and
 * saved checkpoints: the offset its active's last checkpoint reflects.
 */
async function deployParent(): Promise<number> {
  const status = await mesh
    .node(1)
    .requests.deploy({ name: 'origin', kind: 'journal', group: 'standby', members: 2 });
  expect(status.members.map((member) => member.node)).toEqual([1, 2]);
  for (let sequence = 1; sequence <= PARENT_EVENTS; sequence++)
    await mesh.node(2).requests.send('origin', { payload: bytes(`e${sequence}`) }, SEND_TIMEOUT_MS);
  const active = mesh.node(1).members.get('origin')!;
  await until(() => active.checkpointsSaved >= 2, 'the active saved two checkpoints');
  const served = await active.checkpointToServe(0);
  return served!.appliedThrough;
}

/** Deploys `name`, a one-member journal fork of `origin` at `inboundOffset`, through `via`; the parent chain's read offsets. */
async function forkAt(via: NodeId, name: string, inboundOffset: number): Promise<number[]> {
  const read = vi.spyOn(mesh.chains, 'read');
  await mesh.node(via).requests.deploy({
    name,
    kind: 'journal',
    group: 'fork',
    members: 1,
    forkOf: { parent: 'origin', inboundOffset },
  });
  const offsets = read.mock.calls.filter(([chain]) => chain === PARENT_CHAIN).map(([, from]) => from);
  read.mockRestore();
  await until(async () => (await journalOf(name)).length > 0, `${name} restored`);
  return offsets;
}

const parentEvents = (count: number): string[] =>
  Array.from({ length: count }, (_, index) => `e${index + 1}`);

describe("a fork's deploy starts from a parent checkpoint at or below the fork point", () => {
  it('replays only the records after the checkpoint, fetched from the active on another node', async () => {
    const checkpointed = await deployParent();
    expect(checkpointed).toBeGreaterThanOrEqual(CHECKPOINT_EVERY_EVENTS);
    expect(checkpointed).toBeLessThanOrEqual(PARENT_EVENTS);
    // Node 3 runs no member of `origin`: it fetches the active's checkpoint from node 1.
    const reads = await forkAt(3, 'branch', PARENT_EVENTS);
    expect(Math.min(PARENT_EVENTS, ...reads)).toBe(checkpointed);
    expect(await journalOf('branch')).toEqual(parentEvents(PARENT_EVENTS));
  });

  it("uses the deploying node's own parent member's checkpoint", async () => {
    const checkpointed = await deployParent();
    const reads = await forkAt(2, 'branch', PARENT_EVENTS);
    // The standby on node 2 applied the same records and took its checkpoints at the same counts.
    expect(reads.every((from) => from >= CHECKPOINT_EVERY_EVENTS)).toBe(true);
    expect(checkpointed).toBeGreaterThan(0);
    expect(await journalOf('branch')).toEqual(parentEvents(PARENT_EVENTS));
  });

  it('replays from the start when the fork point lies below the checkpoint', async () => {
    const checkpointed = await deployParent();
    const point = CHECKPOINT_EVERY_EVENTS - 1;
    expect(point).toBeLessThan(checkpointed);
    const reads = await forkAt(3, 'past', point);
    expect(reads[0]).toBe(0);
    expect(await journalOf('past')).toEqual(parentEvents(point));
  });

  it("pins the parent's trim floor at the replay's start while it is built, and releases it", async () => {
    const checkpointed = await deployParent();
    const txn = vi.spyOn(mesh.plane, 'txn');
    await forkAt(3, 'branch', PARENT_EVENTS);
    const pins = txn.mock.calls
      .flatMap(([request]) => request.success)
      .filter(
        (operation) => operation.type === 'put' && operation.key.startsWith(trimPinsPrefix(PARENT_CHAIN)),
      );
    expect(pins).toHaveLength(1);
    const pin = pins[0] as { key: string; value: Uint8Array; lease?: number };
    expect(pin.key).toBe(trimPinKey(PARENT_CHAIN, 'branch'));
    expect(decodeTrimOffset(pin.value)).toBe(checkpointed);
    expect(pin.lease).toBeGreaterThan(0);
    expect((await mesh.plane.range(trimPinsPrefix(PARENT_CHAIN))).entries).toEqual([]);
  });
});
