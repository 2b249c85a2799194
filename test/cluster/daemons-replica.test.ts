/**
 * A `journal` replica group of 3 members on four real processes under 16 concurrent senders whose
 * events carry keys, while the node of one member is killed with -9 (its member is rebuilt on the
 * free fourth node at a higher epoch, from its own inbound chain) and later restarted. At the end
 * each member's journal holds exactly the events whose keys hash to it: every acknowledged one
 * exactly once, no failed one, any of unknown outcome at most once, each sender's events in its
 * order; each acknowledged answer named that member. The senders' history is written per
 * HISTORY_FORMAT.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../support/until.js';
import { nanosecondsNow } from './chain-appenders.js';
import { expectReplicaJournals } from './daemon-checks.js';
import { type DaemonCluster, startDaemonCluster, writeSendHistory } from './daemon-cluster.js';
import type { RawDaemonStatus } from './raw-daemons-client.js';
import {
  ACKS_AFTER_FAULT,
  ACKS_BEFORE_FAULT,
  CALL_TIMEOUT_MS,
  CLUSTER_TIMEOUT_MS,
  REPLICA_DAEMON as DAEMON,
  deployReplicaGroup,
  keyedReplicaSenders,
  REPLICA_MEMBERS as MEMBERS,
} from './replica-group-load.js';

const NODES = 4;

describe('a journal replica group under a kill -9 of a member node', () => {
  let mesh: DaemonCluster | undefined;
  afterEach(async () => {
    await mesh?.stop();
  });

  it('4 nodes, 3 replicas, 16 keyed senders: every acknowledged event once, in the member its key hashes to, in each sender order', async () => {
    const started = await startDaemonCluster(NODES);
    mesh = started;
    const { cluster, ids } = started;
    const statusVia = (nodes: readonly number[]): Promise<RawDaemonStatus | undefined> =>
      started.statusVia(DAEMON, nodes, CALL_TIMEOUT_MS);
    const deployed = await deployReplicaGroup(started);
    expect(deployed.members.map((member) => member.role)).toEqual([
      'ROLE_REPLICA',
      'ROLE_REPLICA',
      'ROLE_REPLICA',
    ]);
    expect(new Set(deployed.members.map((member) => member.node)).size).toBe(MEMBERS);

    const senders = keyedReplicaSenders(started);
    const victim = 1;
    let killed = 0;
    let rebuiltMs = 0;
    try {
      await senders.awaitAcknowledged(ACKS_BEFORE_FAULT, 'events before the kill', CLUSTER_TIMEOUT_MS);
      const before = (await statusVia(ids))!;
      killed = before.members[victim]!.node;
      const killedAt = nanosecondsNow();
      await cluster.kill(killed);
      const survivors = ids.filter((id) => id !== killed);
      await until(
        async () => {
          const status = await statusVia(survivors);
          return (
            status !== undefined && status.epoch > before.epoch && status.members[victim]!.node !== killed
          );
        },
        'the lost member rebuilt on another node',
        CLUSTER_TIMEOUT_MS,
      );
      rebuiltMs = (nanosecondsNow() - killedAt) / 1e6;
      // Events keep landing in every member, the rebuilt one included.
      const ackedBy = (member: number) => () =>
        senders.operations.filter(
          (operation) =>
            operation.status === 'ok' && operation.callTs >= killedAt && operation.memberIndex === member,
        ).length;
      await senders.awaitAcknowledged(
        ACKS_AFTER_FAULT,
        'events after the kill',
        CLUSTER_TIMEOUT_MS,
        killedAt,
      );
      await until(() => ackedBy(victim)() >= 10, 'events in the rebuilt member', CLUSTER_TIMEOUT_MS);
      const after = (await statusVia(survivors))!;
      expect(after.members.map((member) => member.node)).not.toContain(killed);
      expect(new Set(after.members.map((member) => member.node)).size).toBe(MEMBERS);
      cluster.start(killed);
      const restartedAt = nanosecondsNow();
      await senders.awaitAcknowledged(
        ACKS_AFTER_FAULT,
        'events after the restart',
        CLUSTER_TIMEOUT_MS,
        restartedAt,
      );
    } finally {
      await senders.stop();
    }

    const operations = senders.operations;
    console.log(
      `${writeSendHistory('daemons-replica-4-nodes', operations)}; ` +
        `kill -9 of node ${killed} (member ${victim}) to its member rebuilt elsewhere: ${rebuiltMs.toFixed(0)} ms`,
    );
    // A replica group's inboundThrough is the sum of its members' chains: synced when they add up.
    await started.awaitStatus(
      DAEMON,
      ids,
      'every member healthy and synced',
      CLUSTER_TIMEOUT_MS,
      (status) =>
        status.members.every((member) => member.healthy) &&
        status.members.reduce((sum, member) => sum + member.syncedThrough, 0) === status.inboundThrough,
    );
    await expectReplicaJournals(
      (member) => started.client(ids[(member + 2) % ids.length]!),
      DAEMON,
      MEMBERS,
      operations,
    );
    expect(senders.acknowledged()).toBeGreaterThanOrEqual(ACKS_BEFORE_FAULT + 2 * ACKS_AFTER_FAULT);
  }, 400_000);
});
