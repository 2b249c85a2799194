/**
 * A `move` to a warm standby makes it apply every record while it catches up. When the move
 * fails before its cutover, the standby goes back to holding checkpoints: at once when the
 * move's abandon reaches it, after the prepared-member TTL when that is lost too. A standby that
 * a move made active and a later move made a standby again is warm again. Three nodes' daemons
 * services in one process; the daemons channel drops the requests a test names.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { decodeJournalState } from '../../../src/daemons/index.js';
import { rejectionCode } from '../../support/error-code.js';
import { until } from '../../support/until.js';
import {
  bytes,
  type DaemonMesh,
  type DaemonMeshOptions,
  openDaemonMesh,
  SEND_TIMEOUT_MS,
  text,
} from './daemon-mesh.js';

/** A move that fails: its target's catch-up answers never arrive within this. */
const FAILING_MOVE_TIMEOUT_MS = 1_000;
const MOVE_TIMEOUT_MS = 20_000;
const CHECKPOINT_EVERY = { events: 8, bytes: 1 << 30 };

let mesh: DaemonMesh | undefined;
afterEach(async () => {
  await mesh?.close();
  mesh = undefined;
});

/** A warm standby group `log` of 2 on nodes 1 (active) and 2, with `events` journal entries. */
async function warmGroup(
  options: DaemonMeshOptions,
  events: number,
): Promise<{ mesh: DaemonMesh; sent: string[] }> {
  const opened = await openDaemonMesh([1, 2, 3], { checkpointEvery: CHECKPOINT_EVERY, ...options });
  mesh = opened;
  await opened.node(1).requests.deploy({
    name: 'log',
    kind: 'journal',
    group: 'standby',
    members: 2,
    standbyMode: 'warm',
  });
  const sent = await sendEvents(opened, 'e', events);
  await until(
    async () =>
      (await opened.node(1).requests.status('log')).members[1]!.syncedThrough >= CHECKPOINT_EVERY.events,
    'a checkpoint held by the warm standby',
  );
  expect(opened.node(2).members.get('log')?.holdsCheckpoint).toBe(true);
  expect(opened.node(2).members.get('log')?.appliedRecords).toBe(0);
  return { mesh: opened, sent };
}

async function sendEvents(on: DaemonMesh, prefix: string, count: number): Promise<string[]> {
  const sent: string[] = [];
  for (let event = 1; event <= count; event++) {
    const payload = `${prefix}${event}`;
    await on.node(1 + (event % 3)).requests.send('log', { payload: bytes(payload) }, SEND_TIMEOUT_MS);
    sent.push(payload);
  }
  return sent;
}

describe('a failed move to a warm standby', () => {
  it('returns the standby to warm when the move abandons it, and a later move still works', async () => {
    const { mesh: on, sent } = await warmGroup({}, 30);
    const standby = on.node(2).members.get('log')!;
    on.droppedRequests.add('move-await');
    expect(await rejectionCode(on.node(1).requests.move('log', 2, FAILING_MOVE_TIMEOUT_MS))).toBe(
      'DAEMON_MOVE_FAILED',
    );
    // The move made it apply the chain (it caught up hot)...
    expect(standby.appliedRecords).toBeGreaterThan(0);
    // ...and its abandon made it warm again: it holds a checkpoint and applies nothing more.
    await until(() => standby.holdsCheckpoint, 'the standby warm again');
    const status = await on.node(3).requests.status('log');
    expect(status.members.map(({ node, role }) => ({ node, role }))).toEqual([
      { node: 1, role: 'active' },
      { node: 2, role: 'standby' },
    ]);

    on.droppedRequests.clear();
    const later = await sendEvents(on, 'f', 5);
    const moved = await on.node(3).requests.move('log', 2, MOVE_TIMEOUT_MS);
    expect(moved).toMatchObject({ from: 1, to: 2 });
    const journal = decodeJournalState((await on.node(3).requests.state('log', 1)).state).map(text);
    expect(journal).toEqual([...sent, ...later]);
  });

  it('returns the standby to warm after the prepared TTL when the abandon is lost as well', async () => {
    const { mesh: on } = await warmGroup({ preparedTtlMs: 500 }, 20);
    const standby = on.node(2).members.get('log')!;
    on.droppedRequests.add('move-await');
    on.droppedRequests.add('move-abandon');
    expect(await rejectionCode(on.node(1).requests.move('log', 2, FAILING_MOVE_TIMEOUT_MS))).toBe(
      'DAEMON_MOVE_FAILED',
    );
    expect(standby.appliedRecords).toBeGreaterThan(0);
    await until(() => standby.holdsCheckpoint, 'the standby warm again after the TTL');
  });

  it('leaves a standby warm once a move made it active and a later move a standby again', async () => {
    const { mesh: on } = await warmGroup({}, 20);
    expect(await on.node(3).requests.move('log', 2, MOVE_TIMEOUT_MS)).toMatchObject({ from: 1, to: 2 });
    expect(on.node(2).members.get('log')?.holdsCheckpoint).toBe(false);
    await sendEvents(on, 'f', 10);
    expect(await on.node(3).requests.move('log', 1, MOVE_TIMEOUT_MS)).toMatchObject({ from: 2, to: 1 });
    await until(() => on.node(2).members.get('log')?.holdsCheckpoint === true, 'the old active warm');
    await until(() => on.node(1).members.get('log')?.holdsCheckpoint === false, 'the new active applying');
  });
});
