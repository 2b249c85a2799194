/**
 * A replacement standby on real processes: four voters started with `--daemon-repair-grace-ms`,
 * a `journal` standby group of 3 members on three of them, 4 senders through the nodes that stay
 * up, and a standby's node killed with -9 for good. Once its registration expired and the grace
 * period passed, the member is placed on the fourth node, replays the inbound chain and is shown
 * healthy and synced by the status; every member's journal holds every acknowledged event once,
 * each sender's events in order.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { decodeJournalState } from '../../src/daemons/index.js';
import { journalProblems } from '../support/daemon-history.js';
import { until } from '../support/until.js';
import { nanosecondsNow } from './chain-appenders.js';
import { eventually } from './chain-cluster.js';
import { type DaemonCluster, startDaemonCluster, textOf } from './daemon-cluster.js';
import { DaemonSenders, REPAIR_TEST_LOAD } from './daemon-senders.js';
import type { RawDaemonStatus } from './raw-daemons-client.js';

const DAEMON = 'repaired';
const NODES = 4;
const REPAIR_GRACE_MS = 2_000;
const CALL_TIMEOUT_MS = 5_000;
const CLUSTER_TIMEOUT_MS = 60_000;
const ACKS_BEFORE_KILL = 40;
const ACKS_AFTER_REPAIR = 40;

describe('a standby whose node is gone for good', () => {
  let mesh: DaemonCluster | undefined;
  afterEach(async () => {
    await mesh?.stop();
  });

  it('is replaced on a node without a member once the grace period passed; the new member replays the chain', async () => {
    mesh = await startDaemonCluster(NODES, {
      nodeArguments: ['--daemon-repair-grace-ms', String(REPAIR_GRACE_MS)],
    });
    const { cluster, ids } = mesh;
    const client = (id: number) => mesh!.client(id);
    await eventually('deploy', () =>
      client(ids[0]!).deploy(DAEMON, 'journal', 'GROUP_STANDBY', 3, CALL_TIMEOUT_MS),
    );
    const statusVia = (nodes: readonly number[]): Promise<RawDaemonStatus | undefined> =>
      mesh!.statusVia(DAEMON, nodes, CALL_TIMEOUT_MS);
    const before = (await statusVia(ids))!;
    const standby = before.members.find((member) => member.role === 'ROLE_STANDBY')!;
    const spare = ids.find((id) => !before.members.some((member) => member.node === id))!;
    const survivors = ids.filter((id) => id !== standby.node);

    const senders = new DaemonSenders({
      endpoints: survivors.map((id) => cluster.plan(id).client),
      daemon: DAEMON,
      ...REPAIR_TEST_LOAD,
    });
    let killedAt = 0;
    let repairedMs = 0;
    try {
      await senders.awaitAcknowledged(ACKS_BEFORE_KILL, 'events before the kill', CLUSTER_TIMEOUT_MS);
      killedAt = nanosecondsNow();
      await cluster.kill(standby.node);
      const repairedAt = await senders.awaitRepairThenAcknowledged(
        () =>
          until(
            async () => {
              const status = await statusVia(survivors);
              const member = status?.members.find((candidate) => candidate.index === standby.index);
              return member?.node === spare && member.healthy;
            },
            'the member placed on the spare node',
            CLUSTER_TIMEOUT_MS,
          ),
        ACKS_AFTER_REPAIR,
        CLUSTER_TIMEOUT_MS,
      );
      repairedMs = (repairedAt - killedAt) / 1e6;
    } finally {
      await senders.stop();
    }
    expect(repairedMs).toBeGreaterThanOrEqual(REPAIR_GRACE_MS);
    console.log(
      `kill -9 of node ${standby.node} to member ${standby.index} placed on node ${spare} and healthy: ${repairedMs.toFixed(0)} ms (${senders.acknowledged()} events acknowledged)`,
    );

    await until(
      async () => {
        const status = await statusVia(survivors);
        return (
          status?.members.every(
            (member) => member.healthy && member.syncedThrough === status.inboundThrough,
          ) === true
        );
      },
      'every member healthy and synced',
      CLUSTER_TIMEOUT_MS,
    );
    const after = (await statusVia(survivors))!;
    expect(after.members.map((member) => member.node)).not.toContain(standby.node);
    expect(after.members.find((member) => member.index === standby.index)?.node).toBe(spare);
    expect(after.epoch).toBe(before.epoch);
    const journals = await Promise.all(
      [0, 1, 2].map(async (member) => {
        const state = await eventually(`member ${member}'s state`, () =>
          client(survivors[member % survivors.length]!).state(DAEMON, member, CALL_TIMEOUT_MS),
        );
        return decodeJournalState(state.state).map(textOf);
      }),
    );
    expect(journals[1]).toEqual(journals[0]);
    expect(journals[2]).toEqual(journals[0]);
    expect(journalProblems(senders.operations, journals[0]!)).toEqual([]);
  }, 300_000);
});
