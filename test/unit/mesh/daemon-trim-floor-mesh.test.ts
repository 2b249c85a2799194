/**
 * The trim floor published by running members (three nodes, in-process): once every member of a
 * standby journal saved a checkpoint, the inbound chain's floor rises above 0 and stays at or
 * below every member's durable checkpoint; removing the daemon clears its trim keys.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inboundChainName } from '../../../src/daemons/chain-names.js';
import { trimChainPrefix } from '../../../src/daemons/trim-floor.js';
import { readTrimFloor } from '../../../src/mesh/daemon-trim-floor.js';
import { until } from '../../support/until.js';
import { bytes, type DaemonMesh, openDaemonMesh, SEND_TIMEOUT_MS } from './daemon-mesh.js';

const CHECKPOINT_EVERY_EVENTS = 4;
const EVENTS = 21;
const CHAIN = inboundChainName('busy');

let mesh: DaemonMesh;
beforeEach(async () => {
  mesh = await openDaemonMesh([1, 2, 3], {
    checkpointEvery: { events: CHECKPOINT_EVERY_EVENTS, bytes: 1024 * 1024 * 1024 },
  });
});
afterEach(async () => {
  await mesh.close();
});

describe("a standby group's trim floor", () => {
  it('rises once every member checkpointed, never above a member checkpoint, and goes with the daemon', async () => {
    await mesh.node(1).requests.deploy({ name: 'busy', kind: 'journal', group: 'standby', members: 3 });
    expect(await readTrimFloor(mesh.plane, CHAIN)).toBe(0);
    for (let sequence = 1; sequence <= EVENTS; sequence++)
      await mesh.node(2).requests.send('busy', { payload: bytes(`e${sequence}`) }, SEND_TIMEOUT_MS);
    const durable = async (): Promise<number[]> => {
      const offsets: number[] = [];
      for (const id of [1, 2, 3]) {
        const saved = await mesh.node(id).checkpoints.load('busy');
        offsets.push(saved?.appliedThrough ?? 0);
      }
      return offsets;
    };
    // Every member's last durable checkpoint is the one after the 20th record.
    await until(async () => Math.min(...(await durable())) >= EVENTS - 1, 'every member checkpointed');
    await until(
      async () => (await readTrimFloor(mesh.plane, CHAIN)) >= EVENTS - 1,
      'the floor raised to the members checkpoints',
    );
    const floor = await readTrimFloor(mesh.plane, CHAIN);
    expect(floor).toBeLessThanOrEqual(Math.min(...(await durable())));
    expect(floor).toBeLessThanOrEqual(EVENTS);

    await mesh.node(1).requests.remove('busy');
    expect((await mesh.plane.range(trimChainPrefix(CHAIN))).entries).toEqual([]);
  });
});
