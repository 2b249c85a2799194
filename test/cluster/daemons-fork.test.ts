/**
 * A fork group on three real processes: a `journal` standby group takes events, a fork of it is
 * deployed at a point of its history, and from there the two go on alone; the fork's active node
 * is killed with -9 and its standby, restored from the same fork record on its own node, is
 * promoted and serves. Every member of the fork holds the parent's events below the fork point,
 * then the fork's own, each once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { decodeJournalState } from '../../src/daemons/index.js';
import { eventually } from './chain-cluster.js';
import { type DaemonCluster, everyMemberSynced, startDaemonCluster, textOf } from './daemon-cluster.js';

const CALL_TIMEOUT_MS = 5_000;
const SEND_TIMEOUT_MS = 3_000;
const CLUSTER_TIMEOUT_MS = 60_000;
const PARENT_EVENTS = 12;
const FORK_POINT = 8;

describe('a fork group on processes', () => {
  let mesh: DaemonCluster | undefined;
  afterEach(async () => {
    await mesh?.stop();
  });

  it("starts from its parent's state at the fork point, goes on alone, and fails over through kill -9", async () => {
    const started = await startDaemonCluster(3);
    mesh = started;
    const { cluster, ids } = started;
    const via = (index: number) => started.client(ids[index % ids.length]!);
    await eventually('deploy', () => via(0).deploy('origin', 'journal', 'GROUP_STANDBY', 2, CALL_TIMEOUT_MS));
    // Sent one at a time with an identity: a retry after an unknown outcome is applied once.
    const offsets: number[] = [];
    for (let sequence = 1; sequence <= PARENT_EVENTS; sequence++) {
      const result = await eventually(`parent event ${sequence}`, () =>
        via(sequence).send('origin', `p${sequence}`, SEND_TIMEOUT_MS, { clientId: 'p', sequence }),
      );
      offsets.push(result.inboundOffset);
    }
    // The fork point: just past p8 (the chain's offsets are not dense: epoch markers take some).
    const forkAt = offsets[FORK_POINT - 1]! + 1;
    const forked = await via(2).deploy('branch', 'journal', 'GROUP_FORK', 2, CALL_TIMEOUT_MS, {
      parent: 'origin',
      inboundOffset: forkAt,
    });
    expect(forked.members.map((member) => member.role)).toEqual(['ROLE_ACTIVE', 'ROLE_STANDBY']);
    const parentBelowFork = Array.from({ length: FORK_POINT }, (_, index) => `p${index + 1}`);
    for (let event = 1; event <= 4; event++)
      await eventually(`fork event ${event}`, () =>
        via(event).send('branch', `f${event}`, SEND_TIMEOUT_MS, { clientId: 'f', sequence: event }),
      );
    await eventually('parent event after the fork', () =>
      via(0).send('origin', 'after', SEND_TIMEOUT_MS, { clientId: 'p', sequence: PARENT_EVENTS + 1 }),
    );
    const forkEvents = ['f1', 'f2', 'f3', 'f4'];
    const journalOf = async (name: string, member?: number) =>
      decodeJournalState(
        (await eventually(`${name} state`, () => via(member ?? 0).state(name, member, CALL_TIMEOUT_MS)))
          .state,
      ).map(textOf);
    expect(await journalOf('branch')).toEqual([...parentBelowFork, ...forkEvents]);
    expect(await journalOf('origin')).toEqual([
      ...Array.from({ length: PARENT_EVENTS }, (_, index) => `p${index + 1}`),
      'after',
    ]);

    // kill -9 of the fork's active node: the standby, restored from the same fork record, serves.
    const before = (await started.statusVia('branch', ids, CALL_TIMEOUT_MS))!;
    const killed = before.members.find((member) => member.role === 'ROLE_ACTIVE')!.node;
    await cluster.kill(killed);
    const survivors = ids.filter((id) => id !== killed);
    const survivor = started.client(survivors[0]!);
    const afterKill = await eventually(
      'a fork event after the kill',
      () => survivor.send('branch', 'f5', SEND_TIMEOUT_MS, { clientId: 'f', sequence: 5 }),
      CLUSTER_TIMEOUT_MS,
    );
    expect(afterKill.epoch).toBeGreaterThan(before.epoch);
    cluster.start(killed);
    await started.awaitStatus(
      'branch',
      ids,
      'both fork members healthy and synced',
      CLUSTER_TIMEOUT_MS,
      everyMemberSynced,
    );
    for (const member of [0, 1])
      expect(await journalOf('branch', member)).toEqual([...parentBelowFork, ...forkEvents, 'f5']);
  }, 300_000);
});
