/**
 * Fork groups across the daemons services of three nodes in one process: a fork starts from its
 * parent's state (and dedup table) at a point of the parent's history, then parent and fork go
 * on alone, each on its own chain; the fork fails over like a standby group; bad forks are
 * refused with typed errors.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeJournalState } from '../../../src/daemons/index.js';
import type { NodeId } from '../../../src/lib/index.js';
import { rejectionCode } from '../../support/error-code.js';
import { until } from '../../support/until.js';
import { bytes, type DaemonMesh, openDaemonMesh, SEND_TIMEOUT_MS, text } from './daemon-mesh.js';

let mesh: DaemonMesh;
beforeEach(async () => {
  mesh = await openDaemonMesh([1, 2, 3]);
});
afterEach(async () => {
  await mesh.close();
});

async function journalOf(name: string, member?: number): Promise<string[]> {
  return decodeJournalState((await mesh.node(3).requests.state(name, member)).state).map(text);
}

/** A fork member's journal once it read the fork record that starts its chain. */
async function restoredJournal(name: string, member?: number): Promise<string[]> {
  await until(
    async () => (await journalOf(name, member)).length > 0,
    `${name} member ${member ?? 'active'} restored`,
  );
  return journalOf(name, member);
}

/** Deploys `name`, a journal fork group of `members` of `forkOf.parent`, through node `via`. */
function deployFork(
  via: NodeId,
  name: string,
  members: number,
  forkOf: { parent: string; inboundOffset?: number },
) {
  return mesh.node(via).requests.deploy({ name, kind: 'journal', group: 'fork', members, forkOf });
}

/** A standby journal `origin` that applied e1..e6 from client `p` (inbound offsets 0..5). */
async function deployParent(): Promise<void> {
  await mesh.node(1).requests.deploy({ name: 'origin', kind: 'journal', group: 'standby', members: 2 });
  for (let sequence = 1; sequence <= 6; sequence++)
    await mesh
      .node(2)
      .requests.send('origin', { payload: bytes(`e${sequence}`), clientId: 'p', sequence }, SEND_TIMEOUT_MS);
}

describe('a fork group across nodes (one process)', () => {
  it("starts from the parent's state at the fork point, then parent and fork go on alone", async () => {
    await deployParent();
    const status = await deployFork(3, 'branch', 2, { parent: 'origin', inboundOffset: 4 });
    expect(status.members.map((member) => member.role)).toEqual(['active', 'standby']);
    const listed = (await mesh.node(2).requests.list()).find((daemon) => daemon.name === 'branch');
    expect(listed?.forkOf).toEqual({ parent: 'origin', inboundOffset: 4 });
    // The fork holds the parent's events below offset 4, on every member (once it read its chain).
    for (const member of [0, 1]) {
      await until(
        async () => (await journalOf('branch', member)).length > 0,
        `fork member ${member} restored`,
      );
      expect(await journalOf('branch', member)).toEqual(['e1', 'e2', 'e3', 'e4']);
    }
    // Events to the fork change the fork only, and to the parent the parent only.
    const forked = await mesh.node(1).requests.send('branch', { payload: bytes('b1') }, SEND_TIMEOUT_MS);
    expect(forked.outputs.map(text)).toEqual(['4']);
    await mesh.node(1).requests.send('origin', { payload: bytes('e7') }, SEND_TIMEOUT_MS);
    expect(await journalOf('branch')).toEqual(['e1', 'e2', 'e3', 'e4', 'b1']);
    expect(await journalOf('origin')).toEqual(['e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7']);
    // The fork inherited the dedup table: a retry of an event applied before the fork point is
    // answered, not applied; an event the parent applied after it is new to the fork.
    const retry = await mesh
      .node(2)
      .requests.send('branch', { payload: bytes('e4'), clientId: 'p', sequence: 4 }, SEND_TIMEOUT_MS);
    expect(retry).toMatchObject({ duplicate: true });
    expect(retry.outputs.map(text)).toEqual(['3']);
    const later = await mesh
      .node(2)
      .requests.send('branch', { payload: bytes('e5'), clientId: 'p', sequence: 5 }, SEND_TIMEOUT_MS);
    expect(later.duplicate).toBe(false);
    expect(await journalOf('branch')).toEqual(['e1', 'e2', 'e3', 'e4', 'b1', 'e5']);
  });

  it("forks at the parent's end without a fork point, and forks a fork", async () => {
    await deployParent();
    await deployFork(1, 'now', 1, { parent: 'origin' });
    expect((await mesh.node(1).requests.list()).find((daemon) => daemon.name === 'now')?.forkOf).toEqual({
      parent: 'origin',
      inboundOffset: 6,
    });
    await mesh.node(1).requests.send('now', { payload: bytes('n1') }, SEND_TIMEOUT_MS);
    await deployFork(2, 'later', 2, { parent: 'now', inboundOffset: 2 });
    // Offset 0 of `now` is its fork record, 1 its first event: the grandchild holds both histories.
    expect(await restoredJournal('later')).toEqual(['e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'n1']);
  });

  it('fails over like a standby group: the promoted member started from the same fork record', async () => {
    await deployParent();
    await deployFork(2, 'branch', 2, { parent: 'origin', inboundOffset: 3 });
    const before = await mesh.node(3).requests.status('branch');
    const activeNode = before.members.find((member) => member.role === 'active')!.node;
    mesh.down.add(activeNode);
    await mesh.node(activeNode).coordinator.stop();
    const via = [1, 2, 3].find((node) => node !== activeNode)!;
    const during = await mesh.node(via).requests.send('branch', { payload: bytes('f1') }, SEND_TIMEOUT_MS);
    expect(during.epoch).toBe(2);
    expect(during.outputs.map(text)).toEqual(['3']);
    const state = await mesh.node(via).requests.state('branch');
    expect(decodeJournalState(state.state).map(text)).toEqual(['e1', 'e2', 'e3', 'f1']);
  });

  it('refuses bad forks with typed errors', async () => {
    await deployParent();
    const requests = mesh.node(1).requests;
    const fork = (forkOf: { parent: string; inboundOffset?: number }, kind = 'journal', config?: unknown) =>
      requests.deploy({
        name: 'bad',
        kind,
        group: 'fork',
        members: 1,
        forkOf,
        ...(config === undefined ? {} : { config }),
      });
    expect(await rejectionCode(fork({ parent: 'missing' }))).toBe('DAEMON_NOT_FOUND');
    expect(await rejectionCode(fork({ parent: 'origin', inboundOffset: 99 }))).toBe('VALIDATION_FAILED');
    expect(await rejectionCode(fork({ parent: 'origin' }, 'counter'))).toBe('VALIDATION_FAILED');
    expect(await rejectionCode(fork({ parent: 'origin' }, 'journal', { maxEntries: 5 }))).toBe(
      'VALIDATION_FAILED',
    );
    expect(
      await rejectionCode(requests.deploy({ name: 'bad', kind: 'journal', group: 'fork', members: 1 })),
    ).toBe('VALIDATION_FAILED');
    expect(
      await rejectionCode(
        requests.deploy({
          name: 'bad',
          kind: 'journal',
          group: 'standby',
          members: 2,
          forkOf: { parent: 'origin' },
        }),
      ),
    ).toBe('VALIDATION_FAILED');
    await requests.deploy({ name: 'shares', kind: 'journal', group: 'replica', members: 2 });
    expect(await rejectionCode(fork({ parent: 'shares' }))).toBe('VALIDATION_FAILED');
    // Nothing of the refused deploys is left behind.
    expect((await requests.list()).map((daemon) => daemon.name).sort()).toEqual(['origin', 'shares']);
  });
});
