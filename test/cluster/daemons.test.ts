/**
 * Daemons on real processes: three voters started with the built `meshos start`, on loopback.
 * A `counter` single daemon and a `journal` standby group (2 standbys) deployed through one node,
 * events sent through every node; every member of the group applies every event once, in one
 * order; status, state and outputs as every node answers them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { decodeJournalState } from '../../src/daemons/index.js';
import { until } from '../support/until.js';
import { eventually } from './chain-cluster.js';
import { type DaemonCluster, startDaemonCluster, textOf } from './daemon-cluster.js';

const CALL_TIMEOUT_MS = 10_000;
const CLUSTER_TIMEOUT_MS = 30_000;
const text = textOf;

describe('daemons on three nodes', () => {
  let mesh: DaemonCluster | undefined;
  afterEach(async () => {
    await mesh?.stop();
  });

  it('deploys a counter and a journal standby group, takes events from every node, and shows status, state and outputs', async () => {
    mesh = await startDaemonCluster(3);
    const { clients, ids } = mesh;
    const first = clients.get(ids[0]!)!;

    // Placement needs every node registered: retried until the mesh can place three members.
    await eventually('deploy tally', () =>
      first.deploy('tally', 'counter', 'GROUP_SINGLE', 1, CALL_TIMEOUT_MS),
    );
    const sums: string[] = [];
    for (const [position, id] of ids.entries()) {
      const result = await clients.get(id)!.send('tally', String(position + 1), CALL_TIMEOUT_MS);
      expect(result).toMatchObject({ epoch: 1, memberIndex: 0, duplicate: false });
      sums.push(...result.outputs);
    }
    expect(sums).toEqual(['1', '3', '6']);
    const counter = await clients.get(ids[2]!)!.state('tally', undefined, CALL_TIMEOUT_MS);
    expect(JSON.parse(text(counter.state))).toEqual({ events: 3, sum: 6 });

    const deployed = await eventually('deploy log', () =>
      first.deploy('log', 'journal', 'GROUP_STANDBY', 3, CALL_TIMEOUT_MS),
    );
    expect(new Set(deployed.members.map((member) => member.node))).toEqual(new Set(ids));
    expect(deployed.members.map((member) => member.role)).toEqual([
      'ROLE_ACTIVE',
      'ROLE_STANDBY',
      'ROLE_STANDBY',
    ]);
    const sent: string[] = [];
    for (let round = 0; round < 4; round++) {
      for (const id of ids) {
        const payload = `n${id}-${round}`;
        const result = await clients.get(id)!.send('log', payload, CALL_TIMEOUT_MS, {
          clientId: `n${id}`,
          sequence: round + 1,
        });
        expect(result.outputs).toEqual([String(sent.length)]);
        sent.push(payload);
      }
    }
    // A repeated (clientId, sequence) is answered as the first time, not applied again.
    const repeat = await clients.get(ids[1]!)!.send('log', `n${ids[0]}-3`, CALL_TIMEOUT_MS, {
      clientId: `n${ids[0]}`,
      sequence: 4,
    });
    expect(repeat.duplicate).toBe(true);

    await until(
      async () => {
        const status = await clients.get(ids[1]!)!.status('log', CALL_TIMEOUT_MS);
        return status.members.every(
          (member) => member.healthy && member.syncedThrough === status.inboundThrough,
        );
      },
      'every member of the journal to be healthy and synced',
      CLUSTER_TIMEOUT_MS,
    );
    const status = await clients.get(ids[2]!)!.status('log', CALL_TIMEOUT_MS);
    expect(status.epoch).toBe(1);
    expect(status.inboundThrough).toBeGreaterThanOrEqual(sent.length + 1);
    for (const member of [0, 1, 2]) {
      const state = await clients.get(ids[member]!)!.state('log', member, CALL_TIMEOUT_MS);
      expect(decodeJournalState(state.state).map(text)).toEqual(sent);
    }
    for (const id of ids) {
      // The active writes outputs after it answered an event: wait for all of them.
      const outputs = await eventually(`${sent.length} outputs through node ${id}`, async () => {
        const read = await clients.get(id)!.outputs('log', CALL_TIMEOUT_MS);
        return read.length >= sent.length ? read : undefined;
      });
      expect(outputs.map((output) => output.payload)).toEqual(sent.map((_, index) => String(index)));
    }
  }, 300_000);
});
