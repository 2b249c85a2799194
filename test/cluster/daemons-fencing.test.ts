/**
 * Lease fencing of a cut-off active, on three real processes: the active's node (not the Raft
 * leader) is paused (SIGSTOP) past its registration lease while events wait for it in its
 * sockets (sent to its client port directly, and forwarded to it by another node), a standby is
 * promoted meanwhile and takes events, then the old active resumes (SIGCONT). The old active's
 * lease ran out while it was stopped, so it takes none of the events waiting for it as the
 * active: the inbound chain holds no record of the old epoch after the new epoch's first one
 * (the epoch rule had nothing to refuse), nothing was acknowledged under the old epoch after the
 * resume, and every member's journal holds every acknowledged event once.
 */
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { etcdServices } from '../../src/api/proto.js';
import { MeshClient } from '../../src/client/index.js';
import { inboundChainName } from '../../src/daemons/chain-names.js';
import { decodeInboundEventRecord, decodeJournalState } from '../../src/daemons/index.js';
import { type DaemonSendOperation, journalProblems } from '../support/daemon-history.js';
import { until } from '../support/until.js';
import { nanosecondsNow } from './chain-appenders.js';
import { eventually } from './chain-cluster.js';
import { type DaemonCluster, startDaemonCluster, textOf } from './daemon-cluster.js';
import type { RawDaemonStatus } from './raw-daemons-client.js';

const DAEMON = 'fenced';
const CALL_TIMEOUT_MS = 5_000;
const CLUSTER_TIMEOUT_MS = 60_000;
const EVENTS_BEFORE = 10;
const EVENTS_AFTER_PROMOTION = 10;
/** Events queued in the paused node's sockets: to its client port, and forwarded by another node. */
const QUEUED_DIRECT = 8;
const QUEUED_FORWARDED = 4;
/** Longer than the pause, so the waiting events are still wanted when the old active resumes. */
const QUEUED_SEND_TIMEOUT_MS = 30_000;

describe('an active paused past its lease', () => {
  let mesh: DaemonCluster | undefined;
  afterEach(async () => {
    await mesh?.stop();
  });

  it('takes none of the events waiting for it once it resumes: no record of its epoch after the next one begins', async () => {
    mesh = await startDaemonCluster(3);
    const { cluster, ids } = mesh;
    const client = (id: number) => mesh!.client(id);
    await eventually('deploy', () =>
      client(ids[0]!).deploy(DAEMON, 'journal', 'GROUP_STANDBY', 3, CALL_TIMEOUT_MS),
    );
    const statusVia = (nodes: readonly number[]): Promise<RawDaemonStatus | undefined> =>
      mesh!.statusVia(DAEMON, nodes, CALL_TIMEOUT_MS);
    const before = (await statusVia(ids))!;
    const paused = before.members.find((member) => member.role === 'ROLE_ACTIVE')!.node;
    const others = ids.filter((id) => id !== paused);
    // A paused Raft leader would renew its own lease on resume before it learns it was deposed.
    await moveRaftLeadershipAway(cluster.plan(others[0]!).client, paused, others[0]!);

    const operations: DaemonSendOperation[] = [];
    const results: { epoch: number; returnTs: number }[] = [];
    const send = async (via: number, sender: number, counter: number, timeoutMs: number): Promise<void> => {
      const value = `${sender}-${counter}`;
      const callTs = nanosecondsNow();
      try {
        const result = await client(via).send(DAEMON, value, timeoutMs, {
          clientId: `sender-${sender}`,
          sequence: counter,
        });
        const returnTs = nanosecondsNow();
        results.push({ epoch: result.epoch, returnTs });
        operations.push({ client: sender, daemon: DAEMON, value, counter, status: 'ok', callTs, returnTs });
      } catch {
        operations.push({ client: sender, daemon: DAEMON, value, counter, status: 'info', callTs });
      }
    };
    for (let counter = 1; counter <= EVENTS_BEFORE; counter++)
      await send(others[0]!, 0, counter, CALL_TIMEOUT_MS);

    const pid = cluster.processes.get(paused)!.pid!;
    process.kill(pid, 'SIGSTOP');
    let resumed = false;
    try {
      const queued = [
        ...Array.from({ length: QUEUED_DIRECT }, (_, index) =>
          send(paused, 1, index + 1, QUEUED_SEND_TIMEOUT_MS),
        ),
        ...Array.from({ length: QUEUED_FORWARDED }, (_, index) =>
          send(others[1]!, 2 + index, 1, QUEUED_SEND_TIMEOUT_MS),
        ),
      ];
      await until(
        async () => ((await statusVia(others))?.epoch ?? 0) > before.epoch,
        'a standby promoted while the active is paused',
        CLUSTER_TIMEOUT_MS,
      );
      for (let counter = 1; counter <= EVENTS_AFTER_PROMOTION; counter++)
        await send(others[0]!, 10, counter, CALL_TIMEOUT_MS);
      process.kill(pid, 'SIGCONT');
      resumed = true;
      const resumedAt = nanosecondsNow();
      await Promise.all(queued);
      // Nothing was acknowledged under the old epoch once the old active ran again.
      expect(results.filter((result) => result.returnTs > resumedAt && result.epoch <= before.epoch)).toEqual(
        [],
      );
    } finally {
      if (!resumed) process.kill(pid, 'SIGCONT');
    }

    await until(
      async () => {
        const status = await statusVia(ids);
        return (
          status?.members.every(
            (member) => member.healthy && member.syncedThrough === status.inboundThrough,
          ) === true
        );
      },
      'every member healthy and synced',
      CLUSTER_TIMEOUT_MS,
    );
    const epochs = await inboundEpochs(cluster.clientEndpoints);
    const firstOfNewEpoch = epochs.findIndex((epoch) => epoch > before.epoch);
    expect(firstOfNewEpoch).toBeGreaterThanOrEqual(0);
    expect(epochs.slice(firstOfNewEpoch).filter((epoch) => epoch <= before.epoch)).toEqual([]);

    const journals = await Promise.all(
      [0, 1, 2].map(async (member) => {
        const state = await eventually(`member ${member}'s state`, () =>
          client(others[member % others.length]!).state(DAEMON, member, CALL_TIMEOUT_MS),
        );
        return decodeJournalState(state.state).map(textOf);
      }),
    );
    expect(journals[1]).toEqual(journals[0]);
    expect(journals[2]).toEqual(journals[0]);
    expect(journalProblems(operations, journals[0]!)).toEqual([]);
  }, 300_000);
});

/** The daemon epoch of every event record on the inbound chain, in chain order. */
async function inboundEpochs(endpoints: readonly string[]): Promise<number[]> {
  const client = await MeshClient.connect({ endpoints: [...endpoints], discoverLeader: false });
  try {
    const epochs: number[] = [];
    for (let fromOffset = 0; ; ) {
      const read = await client.chains.read(inboundChainName(DAEMON), {
        fromOffset,
        timeoutMs: CALL_TIMEOUT_MS,
      });
      for (const record of read.records) epochs.push(decodeInboundEventRecord(record.payload).epoch);
      if (read.records.length === 0 || read.nextOffset >= read.commitOffset) return epochs;
      fromOffset = read.nextOffset;
    }
  } finally {
    client.close();
  }
}

type MoveLeader = (
  request: object,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null) => void,
) => void;

/** Hands the Raft leadership to `target` when `node` holds it (etcd's Maintenance.MoveLeader). */
async function moveRaftLeadershipAway(endpoint: string, node: number, target: number): Promise<void> {
  const Constructor = grpc.makeGenericClientConstructor(etcdServices().maintenance, 'Maintenance');
  const maintenance = new Constructor(endpoint, grpc.credentials.createInsecure());
  type Status = (
    request: object,
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, response: { leader: string }) => void,
  ) => void;
  const methods = maintenance as unknown as Record<string, MoveLeader & Status>;
  const deadline = () => ({ deadline: new Date(Date.now() + CALL_TIMEOUT_MS) });
  const leader = () =>
    new Promise<number>((resolve, reject) =>
      methods.Status!.call(maintenance, {}, deadline(), (error, response) =>
        error ? reject(error) : resolve(Number(response.leader)),
      ),
    );
  try {
    await until(
      async () => {
        const current = await leader().catch(() => 0);
        if (current !== 0 && current !== node) return true;
        if (current === node)
          await new Promise<void>((resolve) =>
            methods.MoveLeader!.call(maintenance, { targetID: target }, deadline(), () => resolve()),
          );
        return false;
      },
      `Raft leadership away from node ${node}`,
      CLUSTER_TIMEOUT_MS,
    );
  } finally {
    maintenance.close();
  }
}
