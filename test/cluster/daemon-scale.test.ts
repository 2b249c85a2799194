/**
 * `meshos daemon scale` on real processes: four voters, a `journal` standby group of 2, 4 senders.
 * `meshos daemon status` shows the count asked for as soon as it is stored. `--members 3`: the
 * reconciler starts a third member (`StartDaemon`), shown healthy and synced by `meshos daemon
 * status`; `--members 2`: it stops one (`StopDaemon`), never the active, which keeps serving
 * (events acknowledged after the stop). The active's journal holds every acknowledged event
 * once, each sender's in order. A count below the group's minimum is refused with its code.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { decodeJournalState } from '../../src/daemons/index.js';
import type { DaemonStatusDocument } from '../../src/mesh/index.js';
import { journalProblems } from '../support/daemon-history.js';
import { nanosecondsNow } from './chain-appenders.js';
import { eventually } from './chain-cluster.js';
import { type DaemonCluster, everyMemberSynced, startDaemonCluster, textOf } from './daemon-cluster.js';
import { DaemonSenders, REPAIR_TEST_LOAD } from './daemon-senders.js';
import { runMeshos } from './meshos-process.js';

const DAEMON = 'scaled';
const NODES = 4;
const CALL_TIMEOUT_MS = 5_000;
const CLUSTER_TIMEOUT_MS = 90_000;
const CLI_TIMEOUT_MS = 30_000;
const ACKS_BETWEEN_STEPS = 30;

describe('meshos daemon scale', () => {
  let mesh: DaemonCluster | undefined;
  afterEach(async () => {
    await mesh?.stop();
    mesh = undefined;
  });

  const cli = (args: readonly string[]) =>
    runMeshos(args, mesh!.cluster.plan(mesh!.ids[0]!).client, CLI_TIMEOUT_MS);

  it('starts a member when the count grows and stops a standby when it shrinks; the active keeps serving', async () => {
    mesh = await startDaemonCluster(NODES);
    const { ids, cluster } = mesh;
    const deployed = await mesh.deploy(ids[0]!, DAEMON, 'journal', 'GROUP_STANDBY', 2, CALL_TIMEOUT_MS);
    const activeNode = deployed.members.find((member) => member.role === 'ROLE_ACTIVE')!.node;
    const senders = new DaemonSenders({
      endpoints: ids.map((id) => cluster.plan(id).client),
      daemon: DAEMON,
      ...REPAIR_TEST_LOAD,
    });
    try {
      await senders.awaitAcknowledged(ACKS_BETWEEN_STEPS, 'events before scaling', CLUSTER_TIMEOUT_MS);

      const up = await cli(['daemon', 'scale', DAEMON, '--members', '3', '--json']);
      expect(up.code, up.output).toBe(0);
      expect(JSON.parse(up.output)).toEqual({ name: DAEMON, group: 'standby', members: 3, placed: 2 });
      // Status shows the count asked for from the moment it is stored, placed or not yet.
      const pending = await cli(['daemon', 'status', DAEMON]);
      expect(pending.code, pending.output).toBe(0);
      expect(pending.output).toMatch(/members: [23] placed, 3 asked for/);
      await mesh.awaitStatus(
        DAEMON,
        ids,
        'three members, all healthy and synced',
        CLUSTER_TIMEOUT_MS,
        (status) => status.members.length === 3 && everyMemberSynced(status),
      );
      const shown = await cli(['daemon', 'status', DAEMON, '--json']);
      expect(shown.code, shown.output).toBe(0);
      const grown = JSON.parse(shown.output) as DaemonStatusDocument;
      expect(grown.members).toHaveLength(3);
      expect(grown.desiredMembers).toBe(3);
      expect(grown.members.every((member) => member.healthy)).toBe(true);
      expect(new Set(grown.members.map((member) => member.node)).size).toBe(3);
      const grownAt = nanosecondsNow();
      await senders.awaitAcknowledged(
        ACKS_BETWEEN_STEPS,
        'events with three members',
        CLUSTER_TIMEOUT_MS,
        grownAt,
      );

      const down = await cli(['daemon', 'scale', DAEMON, '--members', '2']);
      expect(down.code, down.output).toBe(0);
      expect(down.output).toContain(`daemon ${DAEMON} (standby): 2 members asked for, 3 placed now`);
      await mesh.awaitStatus(
        DAEMON,
        ids,
        'back to two members, all healthy',
        CLUSTER_TIMEOUT_MS,
        (status) => status.members.length === 2 && status.members.every((member) => member.healthy),
      );
      const shrunk = (await mesh.statusVia(DAEMON, ids, CALL_TIMEOUT_MS))!;
      const shrunkText = await cli(['daemon', 'status', DAEMON]);
      expect(shrunkText.code, shrunkText.output).toBe(0);
      expect(shrunkText.output).toMatch(/members: 2 placed, 2 asked for$/m);
      expect(shrunk.members.find((member) => member.role === 'ROLE_ACTIVE')?.node).toBe(activeNode);
      const shrunkAt = nanosecondsNow();
      await senders.awaitAcknowledged(
        ACKS_BETWEEN_STEPS,
        'events after the stop',
        CLUSTER_TIMEOUT_MS,
        shrunkAt,
      );

      const tooFew = await cli(['daemon', 'scale', DAEMON, '--members', '1']);
      expect(tooFew.code).toBe(1);
      expect(tooFew.output).toContain('DAEMON_SCALE_INVALID');
    } finally {
      await senders.stop();
    }
    const active = shrunkActive(await mesh.statusVia(DAEMON, ids, CALL_TIMEOUT_MS));
    const state = await eventually('the active state', () =>
      mesh!.client(activeNode).state(DAEMON, active, CALL_TIMEOUT_MS),
    );
    const journal = decodeJournalState(state.state).map(textOf);
    expect(journalProblems(senders.operations, journal)).toEqual([]);
  }, 300_000);
});

function shrunkActive(status: { members: readonly { index: number; role: string }[] } | undefined): number {
  const active = status?.members.find((member) => member.role === 'ROLE_ACTIVE');
  if (active === undefined) throw new Error('no active member after scaling');
  return active.index;
}
