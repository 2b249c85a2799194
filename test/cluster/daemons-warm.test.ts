/**
 * A `journal` standby group with a warm standby on three real processes under 16 concurrent
 * senders: the standby applies no event but holds the active's checkpoint (its status shows the
 * checkpoint's offset as syncedThrough); when the active's node is killed with -9 it is promoted,
 * restores the checkpoint and replays the chain's tail. At the end its journal holds every
 * acknowledged event exactly once, each sender's events in its order, no failed event, and any
 * event of unknown outcome at most once; the output stream holds each applied event's output
 * once, in order. The killed node kept its own checkpoint file, and restarted starts from it.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeMemberCheckpoint } from '../../src/daemons/member-checkpoint.js';
import { MEMBER_CHECKPOINT_EVERY_EVENTS } from '../../src/mesh/daemon-member-checkpoints.js';
import { until } from '../support/until.js';
import { nanosecondsNow } from './chain-appenders.js';
import { eventually } from './chain-cluster.js';
import { expectEveryEventOnce, journalOf, writeSendHistory } from './daemon-checks.js';
import { type DaemonCluster, startDaemonCluster } from './daemon-cluster.js';
import { DaemonSenders } from './daemon-senders.js';
import { exitCode, meshos } from './meshos-process.js';
import type { RawDaemonStatus } from './raw-daemons-client.js';

const DAEMON = 'audit';
const SENDERS = 16;
const MAX_SENDS_PER_SENDER = 2_000;
const LOAD_MAX_MS = 150_000;
const SEND_TIMEOUT_MS = 3_000;
const ACKS_AFTER_FAULT = 60;
const CALL_TIMEOUT_MS = 5_000;
const CLI_TIMEOUT_MS = 30_000;
const CLUSTER_TIMEOUT_MS = 90_000;

describe('a warm standby under load', () => {
  let mesh: DaemonCluster | undefined;
  afterEach(async () => {
    await mesh?.stop();
  });

  it('3 nodes, 16 senders: the warm standby holds a checkpoint, is promoted after kill -9 of the active, replays the tail; every acknowledged event once', async () => {
    const started = await startDaemonCluster(3);
    mesh = started;
    const { cluster, ids } = started;
    const deployed = await eventually('deploy --standby-mode warm', async () => {
      const running = meshos([
        'daemon',
        'deploy',
        DAEMON,
        '--kind',
        'journal',
        '--group',
        'standby',
        '--members',
        '2',
        '--standby-mode',
        'warm',
        '--json',
        '--endpoints',
        cluster.plan(ids[0]!).client,
      ]);
      if ((await exitCode(running, CLI_TIMEOUT_MS)) !== 0) return undefined;
      return JSON.parse(running.output()) as { members: { node: number }[] };
    });
    const [activeNode, standbyNode] = deployed.members.map((member) => member.node) as [number, number];
    const survivor = ids.find((id) => id !== activeNode)!;
    const statusOf = () =>
      started
        .client(survivor)
        .status(DAEMON, CALL_TIMEOUT_MS)
        .catch(() => undefined);
    const standbyOf = (status: RawDaemonStatus) =>
      status.members.find((member) => member.node === standbyNode)!;

    const senders = new DaemonSenders({
      endpoints: cluster.clientEndpoints,
      daemon: DAEMON,
      senders: SENDERS,
      maxSendsPerSender: MAX_SENDS_PER_SENDER,
      maxDurationMs: LOAD_MAX_MS,
      sendTimeoutMs: SEND_TIMEOUT_MS,
    });
    let held: RawDaemonStatus | undefined;
    try {
      // The standby fetches the active's checkpoint once the chain is a threshold past what it holds.
      await until(
        async () => {
          held = await statusOf();
          return held !== undefined && standbyOf(held).syncedThrough >= MEMBER_CHECKPOINT_EVERY_EVENTS;
        },
        'the warm standby holding a checkpoint',
        CLUSTER_TIMEOUT_MS,
      );
      expect(standbyOf(held!)).toMatchObject({ role: 'ROLE_STANDBY', healthy: true });
      expect(standbyOf(held!).syncedThrough).toBeLessThanOrEqual(held!.inboundThrough);

      const killedAt = nanosecondsNow();
      await cluster.kill(activeNode);
      await until(
        async () => {
          const status = await statusOf();
          return status !== undefined && standbyOf(status).role === 'ROLE_ACTIVE';
        },
        'the warm standby promoted',
        CLUSTER_TIMEOUT_MS,
      );
      await until(
        () => senders.acknowledged(killedAt) >= ACKS_AFTER_FAULT,
        'events after the kill',
        CLUSTER_TIMEOUT_MS,
      );
    } finally {
      await senders.stop();
    }

    console.log(
      `warm standby history (${writeSendHistory('daemons-warm-3-nodes-history.jsonl', senders.operations)}); the standby held a checkpoint at ${standbyOf(held!).syncedThrough} of ${held!.inboundThrough} before the kill`,
    );
    await until(
      async () => {
        const status = await statusOf();
        return status !== undefined && standbyOf(status).syncedThrough === status.inboundThrough;
      },
      'the promoted member caught up',
      CLUSTER_TIMEOUT_MS,
    );
    const journal = await journalOf(started.client(survivor), DAEMON);
    await expectEveryEventOnce(started.client(survivor), DAEMON, senders.operations, journal);

    // The killed active kept its own checkpoint on its disk; restarted, its member (a warm standby
    // now) starts from that file and shows its offset without replaying anything.
    const file = path.join(cluster.plan(activeNode).data, 'daemons', `${DAEMON}.checkpoint`);
    const kept = decodeMemberCheckpoint(new Uint8Array(readFileSync(file)));
    expect(kept.appliedThrough).toBeGreaterThanOrEqual(MEMBER_CHECKPOINT_EVERY_EVENTS);
    cluster.start(activeNode);
    await until(
      async () => {
        const restarted = (await statusOf())?.members.find((member) => member.node === activeNode);
        return restarted?.healthy === true && restarted.syncedThrough >= kept.appliedThrough;
      },
      'the restarted member starting from its checkpoint',
      CLUSTER_TIMEOUT_MS,
    );
  }, 400_000);
});
