/**
 * `meshos daemon move --json` on three real processes under 16 concurrent senders: a `journal`
 * standby group of two members (the third node runs none) is moved to the third node (every
 * phase: the checkpoint crosses the peer channel, the target restores it and replays the tail),
 * then to the node of its standby; after each move both of the daemon's chains are led by the new
 * active's node (their leadership follows the active). At the end both members' journals are identical and hold every
 * acknowledged event exactly once, each sender's events in its order, no failed event, and any
 * event of unknown outcome at most once; the output stream holds each applied event's output
 * once, in order. The senders' history is written per HISTORY_FORMAT.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MeshClient } from '../../src/client/index.js';
import { inboundChainName, outputChainName } from '../../src/daemons/chain-names.js';
import { until } from '../support/until.js';
import { nanosecondsNow } from './chain-appenders.js';
import { eventually } from './chain-cluster.js';
import { expectEveryEventOnce, journalOf, writeSendHistory } from './daemon-checks.js';
import { type DaemonCluster, everyMemberSynced, startDaemonCluster } from './daemon-cluster.js';
import { DaemonSenders } from './daemon-senders.js';
import { exitCode, meshos } from './meshos-process.js';
import type { RawDaemonStatus } from './raw-daemons-client.js';

const DAEMON = 'audit';
const SENDERS = 16;
const MAX_SENDS_PER_SENDER = 2_000;
const LOAD_MAX_MS = 150_000;
const SEND_TIMEOUT_MS = 3_000;
const ACKS_BEFORE_MOVE = 100;
const ACKS_AFTER_MOVE = 60;
const CALL_TIMEOUT_MS = 5_000;
const CLI_TIMEOUT_MS = 70_000;
const CLUSTER_TIMEOUT_MS = 60_000;
const PHASES = ['snapshot', 'transfer', 'restore', 'replay', 'cutover', 'complete'];

interface MoveJson {
  readonly name: string;
  readonly epoch: number;
  readonly from: number;
  readonly to: number;
  readonly pauseMs: number;
  readonly phases: readonly { readonly phase: string; readonly durationMs: number }[];
}

describe('daemon move under load', () => {
  let mesh: DaemonCluster | undefined;
  afterEach(async () => {
    await mesh?.stop();
  });

  const activeNodeOf = (status: RawDaemonStatus): number =>
    status.members.find((member) => member.role === 'ROLE_ACTIVE')!.node;

  /** `meshos daemon move DAEMON --to NODE --json` through node `via`'s client port. */
  async function moveWithCli(via: number, to: number): Promise<MoveJson> {
    const running = meshos([
      'daemon',
      'move',
      DAEMON,
      '--to',
      String(to),
      '--json',
      '--endpoints',
      mesh!.cluster.plan(via).client,
    ]);
    const code = await exitCode(running, CLI_TIMEOUT_MS);
    if (code !== 0) throw new Error(`meshos daemon move exited ${code}: ${running.output()}`);
    return JSON.parse(running.output()) as MoveJson;
  }

  /** Waits until both of the daemon's chains are led by `node` (their leader follows the active). */
  async function untilChainsLedBy(node: number): Promise<void> {
    const client = await MeshClient.connect({
      endpoints: [mesh!.cluster.plan(node).client],
      discoverLeader: false,
    });
    try {
      const leaders = () =>
        Promise.all(
          [inboundChainName(DAEMON), outputChainName(DAEMON)].map(
            async (chain) =>
              (await client.chains.status(chain, { timeoutMs: CALL_TIMEOUT_MS }).catch(() => undefined))
                ?.leader,
          ),
        );
      await until(
        async () => (await leaders()).every((leader) => leader === node),
        `the daemon's chains led by node ${node}`,
        CLUSTER_TIMEOUT_MS,
      );
    } finally {
      client.close();
    }
  }

  it('3 nodes, 16 senders: moves to a node without a member, then to the standby; every acknowledged event once, in each sender order', async () => {
    const started = await startDaemonCluster(3);
    mesh = started;
    const { cluster, ids } = started;
    const deployed = await eventually('deploy', () =>
      started.client(ids[0]!).deploy(DAEMON, 'journal', 'GROUP_STANDBY', 2, CALL_TIMEOUT_MS),
    );
    const memberNodes = deployed.members.map((member) => member.node);
    const [activeNode, standbyNode] = memberNodes as [number, number];
    const freeNode = ids.find((id) => !memberNodes.includes(id))!;

    const senders = new DaemonSenders({
      endpoints: cluster.clientEndpoints,
      daemon: DAEMON,
      senders: SENDERS,
      maxSendsPerSender: MAX_SENDS_PER_SENDER,
      maxDurationMs: LOAD_MAX_MS,
      sendTimeoutMs: SEND_TIMEOUT_MS,
    });
    const moves: MoveJson[] = [];
    try {
      await until(
        () => senders.acknowledged() >= ACKS_BEFORE_MOVE,
        'events before the move',
        CLUSTER_TIMEOUT_MS,
      );
      // Through the standby's node: the request is forwarded to the active's node, which runs it.
      moves.push(await moveWithCli(standbyNode, freeNode));
      const afterFirst = await started.client(freeNode).status(DAEMON, CALL_TIMEOUT_MS);
      expect(activeNodeOf(afterFirst)).toBe(freeNode);
      expect(afterFirst.members.map((member) => member.node).sort()).toEqual([freeNode, standbyNode].sort());
      await untilChainsLedBy(freeNode);
      const movedAt = nanosecondsNow();
      await until(
        () => senders.acknowledged(movedAt) >= ACKS_AFTER_MOVE,
        'events after the move',
        CLUSTER_TIMEOUT_MS,
      );

      moves.push(await moveWithCli(activeNode, standbyNode));
      await untilChainsLedBy(standbyNode);
      const secondAt = nanosecondsNow();
      await until(
        () => senders.acknowledged(secondAt) >= ACKS_AFTER_MOVE,
        'events after the second move',
        CLUSTER_TIMEOUT_MS,
      );
    } finally {
      await senders.stop();
    }

    expect(moves.map((move) => [move.name, move.from, move.to])).toEqual([
      [DAEMON, activeNode, freeNode],
      [DAEMON, freeNode, standbyNode],
    ]);
    expect(moves.map((move) => move.epoch)).toEqual([2, 3]);
    for (const move of moves) {
      expect(Object.keys(move)).toEqual(['name', 'epoch', 'from', 'to', 'pauseMs', 'phases']);
      expect(move.phases.map((phase) => phase.phase)).toEqual(PHASES);
      expect(move.pauseMs).toBeGreaterThanOrEqual(0);
    }

    const describeMove = (move: MoveJson) =>
      `${move.from}->${move.to} pause ${move.pauseMs} ms (${move.phases.map((phase) => `${phase.phase} ${phase.durationMs}`).join(', ')})`;
    console.log(
      `daemon move history (${writeSendHistory('daemons-move-3-nodes-history.jsonl', senders.operations)}); moves: ${moves.map(describeMove).join('; ')}`,
    );

    await started.awaitStatus(
      DAEMON,
      [ids[0]!],
      'both members healthy and synced',
      CLUSTER_TIMEOUT_MS,
      everyMemberSynced,
    );
    const journals = await Promise.all(
      [0, 1].map((member) => journalOf(started.client(ids[member]!), DAEMON, member)),
    );
    expect(journals[1]).toEqual(journals[0]);
    await expectEveryEventOnce(started.client(ids[2]!), DAEMON, senders.operations, journals[0]!);
    expect(senders.acknowledged()).toBeGreaterThanOrEqual(ACKS_BEFORE_MOVE + 2 * ACKS_AFTER_MOVE);
  }, 400_000);
});
