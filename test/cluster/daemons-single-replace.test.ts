/**
 * A `single` daemon whose node dies, on real processes: four voters started with
 * `--daemon-repair-grace-ms`, a `journal` single daemon (one member, no standby), 4 senders
 * through the nodes that stay up, and the member's node killed with -9 for good. Once its
 * registration expired and the grace period passed, the reconciler restarts the member on a live
 * node at a new epoch (its `StartDaemon`): the new member replays the inbound chain, serves, and
 * its journal holds every acknowledged event exactly once, each sender's in order. The test prints
 * the time from the kill to the daemon serving elsewhere (the first acknowledged send after it),
 * with the load average.
 */
import * as os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeJournalState } from '../../src/daemons/index.js';
import { journalProblems } from '../support/daemon-history.js';
import { nanosecondsNow } from './chain-appenders.js';
import { eventually } from './chain-cluster.js';
import { type DaemonCluster, startDaemonCluster, textOf, writeSendHistory } from './daemon-cluster.js';
import { DaemonSenders, REPAIR_TEST_LOAD } from './daemon-senders.js';

const DAEMON = 'solo';
const NODES = 4;
const REPAIR_GRACE_MS = 2_000;
const CALL_TIMEOUT_MS = 5_000;
const CLUSTER_TIMEOUT_MS = 90_000;
const ACKS_BEFORE_KILL = 40;
const ACKS_AFTER_REPAIR = 40;

describe('a single daemon whose node is gone for good', () => {
  let mesh: DaemonCluster | undefined;
  afterEach(async () => {
    await mesh?.stop();
    mesh = undefined;
  });

  it('is restarted on a live node at a new epoch from its inbound chain; every acknowledged event once', async () => {
    mesh = await startDaemonCluster(NODES, {
      nodeArguments: ['--daemon-repair-grace-ms', String(REPAIR_GRACE_MS)],
    });
    const { cluster, ids } = mesh;
    const before = await mesh.deploy(ids[0]!, DAEMON, 'journal', 'GROUP_SINGLE', 1, CALL_TIMEOUT_MS);
    const lost = before.members[0]!.node;
    const survivors = ids.filter((id) => id !== lost);
    const senders = new DaemonSenders({
      endpoints: survivors.map((id) => cluster.plan(id).client),
      daemon: DAEMON,
      ...REPAIR_TEST_LOAD,
    });
    let killedAt = 0;
    try {
      await senders.awaitAcknowledged(ACKS_BEFORE_KILL, 'events before the kill', CLUSTER_TIMEOUT_MS);
      killedAt = nanosecondsNow();
      await cluster.kill(lost);
      await senders.awaitRepairThenAcknowledged(
        () =>
          mesh!.awaitStatus(
            DAEMON,
            survivors,
            'the member restarted on a live node',
            CLUSTER_TIMEOUT_MS,
            (status) =>
              status.members.length === 1 &&
              status.members.every((member) => member.node !== lost && member.healthy),
          ),
        ACKS_AFTER_REPAIR,
        CLUSTER_TIMEOUT_MS,
      );
    } finally {
      await senders.stop();
    }
    const servedMs = ((senders.firstAcknowledgedAfter(killedAt) ?? Number.NaN) - killedAt) / 1e6;
    console.log(
      `kill -9 of node ${lost} to single daemon ${DAEMON} serving elsewhere: ${servedMs.toFixed(0)} ms (repair grace ${REPAIR_GRACE_MS} ms, load average ${os.loadavg()[0]!.toFixed(1)}); ${writeSendHistory('single-replace', senders.operations)}`,
    );
    expect(servedMs).toBeGreaterThanOrEqual(REPAIR_GRACE_MS);

    const after = (await mesh.statusVia(DAEMON, survivors, CALL_TIMEOUT_MS))!;
    expect(after.epoch).toBeGreaterThan(before.epoch);
    const moved = after.members[0]!.node;
    expect(survivors).toContain(moved);
    const state = await eventually('the member state', () =>
      mesh!.client(moved).state(DAEMON, 0, CALL_TIMEOUT_MS),
    );
    const journal = decodeJournalState(state.state).map(textOf);
    expect(journalProblems(senders.operations, journal)).toEqual([]);
  }, 300_000);
});
