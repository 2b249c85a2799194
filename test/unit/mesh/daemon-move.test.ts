/**
 * `move` across three nodes' daemons services in one process: the active of a journal standby
 * group moves to a node without a member (all six phases) and then to the node of its standby,
 * while senders keep sending; each cutover hands the daemon's chains to the new active's node; every acknowledged event is in every member's journal once, in
 * each sender's order. A warm standby moved to restores its checkpoint and replays the tail. Bad
 * targets and a second move during one get the move's typed errors.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChainDirectory } from '../../../src/chains/index.js';
import { daemonChainNames } from '../../../src/daemons/chain-names.js';
import { decodeJournalState } from '../../../src/daemons/index.js';
import { isMeshError, SystemClock } from '../../../src/lib/index.js';
import { MOVE_PHASES } from '../../../src/mesh/daemon-move.js';
import { rejectionCode } from '../../support/error-code.js';
import { until } from '../../support/until.js';
import { type DaemonMesh, openDaemonMesh } from './daemon-mesh.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (payload: Uint8Array): string => new TextDecoder().decode(payload);
const SEND_TIMEOUT_MS = 5_000;
const MOVE_TIMEOUT_MS = 20_000;
const SENDERS = 4;

let mesh: DaemonMesh;
beforeEach(async () => {
  mesh = await openDaemonMesh([1, 2, 3], { checkpointEvery: { events: 8, bytes: 1 << 30 } });
});
afterEach(async () => {
  await mesh.close();
});

/** The leader, origin and epoch of daemon `log`'s inbound and output chains in the control plane. */
async function chainLeaders(): Promise<
  { leader: number | undefined; origin: number | undefined; epoch: number | undefined }[]
> {
  const directory = new ChainDirectory(mesh.plane, { clock: new SystemClock() });
  const stored = await mesh.node(1).directory.get('log');
  if (stored === undefined) throw new Error('daemon log is not deployed');
  return Promise.all(
    daemonChainNames(stored.definition).map(async (name) => {
      const chain = (await directory.get(name))?.definition;
      return { leader: chain?.leader, origin: chain?.origin, epoch: chain?.epoch };
    }),
  );
}

/** Senders that each send `s<sender>-<n>` with increasing sequences until stopped; acknowledged payloads. */
function startSenders(): { stop(): Promise<string[][]> } {
  let running = true;
  const acknowledged: string[][] = Array.from({ length: SENDERS }, () => []);
  const loops = acknowledged.map(async (mine, sender) => {
    for (let sequence = 1; running; sequence++) {
      // The in-memory chains answer in microtasks: give timers (the test's polls) their turn.
      await new Promise((resolve) => setImmediate(resolve));
      const payload = `s${sender}-${sequence}`;
      const node = mesh.node(((sender + sequence) % 3) + 1);
      // A send refused as unavailable was applied nowhere; an unknown outcome is sent again.
      for (;;) {
        try {
          await node.requests.send(
            'log',
            { payload: bytes(payload), clientId: `s${sender}`, sequence },
            SEND_TIMEOUT_MS,
          );
          mine.push(payload);
          break;
        } catch (error) {
          if (!isMeshError(error) || error.code !== 'DAEMON_EVENT_OUTCOME_UNKNOWN') break;
        }
      }
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return acknowledged;
    },
  };
}

describe('daemon move across nodes (one process)', () => {
  it('moves the active to a node without a member, then to its standby, under load: every acknowledged event once, in order', async () => {
    const deployed = await mesh
      .node(1)
      .requests.deploy({ name: 'log', kind: 'journal', group: 'standby', members: 2 });
    expect(deployed.members.map((member) => member.node)).toEqual([1, 2]);
    const senders = startSenders();
    await until(
      async () => (await mesh.node(1).requests.status('log')).inboundThrough >= 40,
      'events before the move',
    );

    const first = await mesh.node(2).requests.move('log', 3, MOVE_TIMEOUT_MS);
    expect(first).toMatchObject({ name: 'log', epoch: 2, from: 1, to: 3 });
    expect(first.phases.map((phase) => phase.phase)).toEqual([...MOVE_PHASES]);
    expect(first.pauseMs).toBeGreaterThanOrEqual(0);
    const moved = await mesh.node(1).requests.status('log');
    expect(moved.members.map(({ index, node, role }) => ({ index, node, role }))).toEqual([
      { index: 0, node: 3, role: 'active' },
      { index: 1, node: 2, role: 'standby' },
    ]);
    // The daemon's chains follow the active: their next epoch is led by its new node.
    expect(await chainLeaders()).toEqual([
      { leader: 3, origin: 3, epoch: 2 },
      { leader: 3, origin: 3, epoch: 2 },
    ]);
    await until(() => mesh.node(1).members.get('log') === undefined, "the old node's member stopped");
    await until(() => !mesh.node(1).checkpoints.files.has('log'), "the old node's checkpoint removed");
    const inboundAtMove = moved.inboundThrough;
    await until(
      async () => (await mesh.node(1).requests.status('log')).inboundThrough >= inboundAtMove + 20,
      'events after the first move',
    );

    const second = await mesh.node(1).requests.move('log', 2, MOVE_TIMEOUT_MS);
    expect(second).toMatchObject({ epoch: 3, from: 3, to: 2 });
    expect(second.phases.map((phase) => phase.phase)).toEqual([...MOVE_PHASES]);
    expect(await chainLeaders()).toEqual([
      { leader: 2, origin: 2, epoch: 3 },
      { leader: 2, origin: 2, epoch: 3 },
    ]);
    await until(
      async () => (await mesh.node(1).requests.status('log')).inboundThrough >= inboundAtMove + 40,
      'events after the second move',
    );
    const acknowledged = await senders.stop();

    const status = await mesh.node(3).requests.status('log');
    expect(status.members.map((member) => member.role)).toEqual(['standby', 'active']);
    await until(async () => {
      const now = await mesh.node(3).requests.status('log');
      return now.members.every((member) => member.syncedThrough === now.inboundThrough);
    }, 'both members synced');
    const journals = await Promise.all(
      [0, 1].map(async (member) =>
        decodeJournalState((await mesh.node(1).requests.state('log', member)).state).map(text),
      ),
    );
    expect(journals[1]).toEqual(journals[0]);
    const journal = journals[0]!;
    for (const [sender, payloads] of acknowledged.entries()) {
      const mine = journal.filter((payload) => payload.startsWith(`s${sender}-`));
      // Every acknowledged event once, in the sender's order, and no other (a failed send is absent).
      expect(mine).toEqual(payloads);
    }
    expect(new Set(journal).size).toBe(journal.length);
  });

  it('moves the active to a warm standby: it restores its checkpoint, replays the tail and serves', async () => {
    await mesh.node(1).requests.deploy({
      name: 'log',
      kind: 'journal',
      group: 'standby',
      members: 2,
      standbyMode: 'warm',
    });
    const sent: string[] = [];
    for (let event = 1; event <= 30; event++) {
      const payload = `e${event}`;
      await mesh.node(1).requests.send('log', { payload: bytes(payload) }, SEND_TIMEOUT_MS);
      sent.push(payload);
    }
    // The warm standby applies nothing: it holds the active's checkpoint (every 8 records here).
    await until(
      async () => (await mesh.node(1).requests.status('log')).members[1]!.syncedThrough >= 8,
      'a held checkpoint',
    );
    expect(mesh.node(2).members.get('log')?.appliedRecords).toBe(0);
    const moved = await mesh.node(3).requests.move('log', 2, MOVE_TIMEOUT_MS);
    expect(moved).toMatchObject({ epoch: 2, from: 1, to: 2 });
    const answer = await mesh.node(3).requests.send('log', { payload: bytes('after') }, SEND_TIMEOUT_MS);
    expect(answer).toMatchObject({ epoch: 2, memberIndex: 1, outputs: [bytes('30')] });
    const journal = decodeJournalState((await mesh.node(3).requests.state('log', 1)).state).map(text);
    expect(journal).toEqual([...sent, 'after']);
  });

  it('refuses an unknown node, an unhealthy node, the active node and a second move during one', async () => {
    await mesh.node(1).requests.deploy({ name: 'log', kind: 'journal', group: 'standby', members: 2 });
    const requests = mesh.node(3).requests;
    expect(await rejectionCode(requests.move('log', 9, MOVE_TIMEOUT_MS))).toBe('DAEMON_MOVE_TARGET_UNKNOWN');
    expect(await rejectionCode(requests.move('log', 1, MOVE_TIMEOUT_MS))).toBe('DAEMON_MOVE_ALREADY_THERE');
    expect(await rejectionCode(requests.move('missing', 2, MOVE_TIMEOUT_MS))).toBe('DAEMON_NOT_FOUND');
    mesh.down.add(3);
    expect(await rejectionCode(mesh.node(1).requests.move('log', 3, MOVE_TIMEOUT_MS))).toBe(
      'DAEMON_MOVE_TARGET_UNHEALTHY',
    );
    mesh.down.delete(3);
    const moves = [
      mesh.node(1).requests.move('log', 3, MOVE_TIMEOUT_MS),
      mesh.node(1).requests.move('log', 2, MOVE_TIMEOUT_MS),
    ];
    const outcomes = await Promise.allSettled(moves);
    expect(outcomes[0]?.status).toBe('fulfilled');
    expect(await rejectionCode(moves[1]!)).toBe('DAEMON_MOVE_IN_PROGRESS');
  });
});
