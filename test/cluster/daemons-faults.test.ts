/**
 * A `journal` standby group (an active and 2 standbys) on three (and five) real processes under 16
 * concurrent senders while the active's node is killed with -9 (then restarted) and, later, the
 * active's node is paused (SIGSTOP 3 s, SIGCONT). At the end every member's journal holds every
 * acknowledged event exactly once, each sender's events in its order, no failed event, and any
 * event of unknown outcome at most once. The senders' history is written per HISTORY_FORMAT.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { decodeJournalState } from '../../src/daemons/index.js';
import { journalProblems } from '../support/daemon-history.js';
import { until } from '../support/until.js';
import { nanosecondsNow } from './chain-appenders.js';
import { eventually } from './chain-cluster.js';
import {
  type DaemonCluster,
  everyMemberSynced,
  startDaemonCluster,
  textOf,
  writeSendHistory,
} from './daemon-cluster.js';
import { DaemonSenders } from './daemon-senders.js';
import type { RawDaemonStatus } from './raw-daemons-client.js';

const DAEMON = 'audit';
const SENDERS = 16;
const MAX_SENDS_PER_SENDER = 2_000;
const LOAD_MAX_MS = 150_000;
const SEND_TIMEOUT_MS = 3_000;
const ACKS_BEFORE_FAULT = 100;
const ACKS_AFTER_FAULT = 60;
const PAUSE_MS = 3_000;
const CALL_TIMEOUT_MS = 5_000;
const CLUSTER_TIMEOUT_MS = 60_000;
const text = textOf;

describe('a journal standby group under faults of its active node', () => {
  let mesh: DaemonCluster | undefined;
  afterEach(async () => {
    await mesh?.stop();
  });

  const statusVia = (nodes: readonly number[]): Promise<RawDaemonStatus | undefined> =>
    mesh!.statusVia(DAEMON, nodes, CALL_TIMEOUT_MS);

  const activeNodeOf = (status: RawDaemonStatus): number =>
    status.members.find((member) => member.role === 'ROLE_ACTIVE')!.node;

  async function run(nodes: number): Promise<void> {
    const started = await startDaemonCluster(nodes);
    mesh = started;
    const { cluster, ids } = started;
    await eventually('deploy', () =>
      started.client(ids[0]!).deploy(DAEMON, 'journal', 'GROUP_STANDBY', 3, CALL_TIMEOUT_MS),
    );

    const senders = new DaemonSenders({
      endpoints: cluster.clientEndpoints,
      daemon: DAEMON,
      senders: SENDERS,
      maxSendsPerSender: MAX_SENDS_PER_SENDER,
      maxDurationMs: LOAD_MAX_MS,
      sendTimeoutMs: SEND_TIMEOUT_MS,
    });
    let killed = 0;
    let gapMs = 0;
    let promotedMs = 0;
    try {
      await senders.awaitAcknowledged(ACKS_BEFORE_FAULT, 'events before the kill', CLUSTER_TIMEOUT_MS);
      const before = (await statusVia(ids))!;
      killed = activeNodeOf(before);
      const killedAt = nanosecondsNow();
      await cluster.kill(killed);
      const survivors = ids.filter((id) => id !== killed);
      await until(
        async () => ((await statusVia(survivors))?.epoch ?? 0) > before.epoch,
        'a standby promoted',
        CLUSTER_TIMEOUT_MS,
      );
      promotedMs = (nanosecondsNow() - killedAt) / 1e6;
      await senders.awaitAcknowledged(
        ACKS_AFTER_FAULT,
        'events after the kill',
        CLUSTER_TIMEOUT_MS,
        killedAt,
      );
      gapMs = ((senders.firstAcknowledgedAfter(killedAt) ?? killedAt) - killedAt) / 1e6;
      const after = (await statusVia(survivors))!;
      expect(after.epoch).toBeGreaterThan(before.epoch);
      expect(activeNodeOf(after)).not.toBe(killed);
      cluster.start(killed);

      const restartedAt = nanosecondsNow();
      await senders.awaitAcknowledged(
        ACKS_AFTER_FAULT,
        'events after the restart',
        CLUSTER_TIMEOUT_MS,
        restartedAt,
      );
      const paused = activeNodeOf((await statusVia(ids))!);
      const pid = cluster.processes.get(paused)!.pid!;
      process.kill(pid, 'SIGSTOP');
      await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
      process.kill(pid, 'SIGCONT');
      const resumedAt = nanosecondsNow();
      await senders.awaitAcknowledged(
        ACKS_AFTER_FAULT,
        'events after the pause',
        CLUSTER_TIMEOUT_MS,
        resumedAt,
      );
    } finally {
      await senders.stop();
    }

    const operations = senders.operations;
    console.log(
      `${writeSendHistory(`daemons-faults-${nodes}-nodes`, operations)}; ` +
        `kill -9 of node ${killed} to the first acknowledged event sent after it: ${gapMs.toFixed(0)} ms (promotion seen after ${promotedMs.toFixed(0)} ms)`,
    );

    // Every member, the restarted one included (it replays the inbound chain), catches up.
    await started.awaitStatus(
      DAEMON,
      ids,
      'every member healthy and synced',
      CLUSTER_TIMEOUT_MS,
      everyMemberSynced,
    );
    const journals = await Promise.all(
      [0, 1, 2].map(async (member) => {
        // Through any node (a client's channel to the restarted node may still be backing off).
        const state = await eventually(`member ${member}'s state`, () =>
          started.client(ids[(member + 1) % ids.length]!).state(DAEMON, member, CALL_TIMEOUT_MS),
        );
        return decodeJournalState(state.state).map(text);
      }),
    );
    expect(journals[1]).toEqual(journals[0]);
    expect(journals[2]).toEqual(journals[0]);
    expect(journalProblems(operations, journals[0]!)).toEqual([]);
    // A journal answers each event with its index: the output stream holds each applied event's
    // output once, in inbound order, although the active changed twice.
    // The active writes outputs after it applies (and answers) an event, so the output chain may
    // still be catching up when every member reports itself synced: wait for all of them.
    const expectedOutputs = journals[0]!.length;
    const outputs = await eventually(
      `${expectedOutputs} outputs (process exits: ${JSON.stringify([...cluster.exits])})`,
      async () => {
        const read = await started.client(ids[1]!).outputs(DAEMON, CALL_TIMEOUT_MS);
        return read.length >= expectedOutputs ? read : undefined;
      },
    );
    expect(outputs.map((output) => output.payload)).toEqual(journals[0]!.map((_, index) => String(index)));
    expect(senders.acknowledged()).toBeGreaterThanOrEqual(ACKS_BEFORE_FAULT + 3 * ACKS_AFTER_FAULT);
  }

  it('3 nodes, 16 senders, kill -9 of the active node then a 3 s pause of the active node: every acknowledged event once, in each sender order', async () => {
    await run(3);
  }, 400_000);

  it('5 nodes (the group on 3 of them), the same faults: every acknowledged event once, in each sender order', async () => {
    await run(5);
  }, 400_000);
});
