/**
 * A `journal` replica group of 3 members on three real processes under 16 concurrent senders whose
 * events carry keys, while the node of one member is paused (SIGSTOP 3 s, SIGCONT): shorter than
 * the registration lease, so the member is not moved; events routed to it wait or time out, the
 * other members go on, and it serves again after SIGCONT. At the end each member's journal holds
 * exactly the events whose keys hash to it: every acknowledged one once, no failed one, any of
 * unknown outcome at most once, each sender's events and each key's in order. The senders'
 * history is written per HISTORY_FORMAT.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../support/until.js';
import { nanosecondsNow } from './chain-appenders.js';
import { expectReplicaJournals } from './daemon-checks.js';
import { type DaemonCluster, startDaemonCluster, writeSendHistory } from './daemon-cluster.js';
import {
  ACKS_AFTER_FAULT,
  ACKS_BEFORE_FAULT,
  CLUSTER_TIMEOUT_MS,
  REPLICA_DAEMON as DAEMON,
  deployReplicaGroup,
  keyedReplicaSenders,
  REPLICA_MEMBERS as MEMBERS,
} from './replica-group-load.js';

const NODES = 3;
/** Acknowledged events of the paused member after SIGCONT: it serves again. */
const PAUSED_MEMBER_ACKS_AFTER = 10;
const PAUSE_MS = 3_000;

describe('a journal replica group under a pause of a member node', () => {
  let mesh: DaemonCluster | undefined;
  afterEach(async () => {
    await mesh?.stop();
  });

  it('3 nodes, 3 replicas, 16 keyed senders, SIGSTOP 3 s of a member node: every acknowledged event once, in its member, in each sender and key order', async () => {
    const started = await startDaemonCluster(NODES);
    mesh = started;
    const { cluster, ids } = started;
    const deployed = await deployReplicaGroup(started);
    const victim = 1;
    const paused = deployed.members[victim]!.node;

    const senders = keyedReplicaSenders(started);
    const ackedBy = (member: number, since: number): number =>
      senders.operations.filter(
        (operation) =>
          operation.status === 'ok' && operation.callTs >= since && operation.memberIndex === member,
      ).length;
    let pausedAt = 0;
    let resumedAt = 0;
    try {
      await senders.awaitAcknowledged(ACKS_BEFORE_FAULT, 'events before the pause', CLUSTER_TIMEOUT_MS);
      const pid = cluster.processes.get(paused)!.pid!;
      pausedAt = nanosecondsNow();
      process.kill(pid, 'SIGSTOP');
      try {
        await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      resumedAt = nanosecondsNow();
      await senders.awaitAcknowledged(
        ACKS_AFTER_FAULT,
        'events after the pause',
        CLUSTER_TIMEOUT_MS,
        resumedAt,
      );
      await until(
        () => ackedBy(victim, resumedAt) >= PAUSED_MEMBER_ACKS_AFTER,
        'events in the paused member after SIGCONT',
        CLUSTER_TIMEOUT_MS,
      );
    } finally {
      await senders.stop();
    }

    const operations = senders.operations;
    const duringPause = operations.filter(
      (operation) => operation.callTs >= pausedAt && operation.callTs < resumedAt,
    );
    // The other members kept taking events while the paused node's member could not.
    const othersDuringPause = duringPause.filter(
      (operation) => operation.status === 'ok' && operation.memberIndex !== victim,
    ).length;
    console.log(
      `${writeSendHistory('daemons-replica-pause-3-nodes', operations)}; ` +
        `SIGSTOP of node ${paused} (member ${victim}) for ${((resumedAt - pausedAt) / 1e6).toFixed(0)} ms: ` +
        `${duringPause.filter((operation) => operation.status === 'ok').length} of ${duringPause.length} sends called meanwhile acknowledged (${othersDuringPause} by the other members)`,
    );
    expect(othersDuringPause).toBeGreaterThan(0);
    // The pause is shorter than the node's lease: the member stayed where it was.
    await started.awaitStatus(
      DAEMON,
      ids,
      'every member healthy and synced, none moved',
      CLUSTER_TIMEOUT_MS,
      (status) =>
        status.members.every((member) => member.healthy) &&
        status.members[victim]!.node === paused &&
        status.members.reduce((sum, member) => sum + member.syncedThrough, 0) === status.inboundThrough,
    );
    await expectReplicaJournals(
      (member) => started.client(ids[(member + 1) % ids.length]!),
      DAEMON,
      MEMBERS,
      operations,
    );
    expect(senders.acknowledged()).toBeGreaterThanOrEqual(ACKS_BEFORE_FAULT + ACKS_AFTER_FAULT);
  }, 400_000);
});
