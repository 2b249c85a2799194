import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock, MemoryDisk, SeededRandom } from '../../../src/lib/index.js';
import type { NodeId } from '../../../src/raft/index.js';
import { RaftNode } from '../../../src/server/index.js';
import { ListStateMachine, MemoryLinks } from './cluster-harness.js';

const TICK_MS = 10;
const HEARTBEAT_TICKS = 5;
/** Randomized between this and twice this: far beyond the ticks the test applies. */
const ELECTION_TICKS = 100;

/** Lets the immediates (message deliveries, scheduled drains) and their microtasks run. */
async function settle(): Promise<void> {
  for (let round = 0; round < 10; round++) await new Promise((resolve) => setImmediate(resolve));
}

describe('RaftNode: ticks and drains', () => {
  const nodes: RaftNode<number>[] = [];
  afterEach(async () => {
    for (const node of nodes.splice(0)) await node.stop();
  });

  it('drains only on the ticks that leave something to send', async () => {
    const clock = new ManualClock();
    const links = new MemoryLinks();
    const drains = new Map<NodeId, number>();
    for (const id of [1, 2, 3] as NodeId[]) {
      const disk = new MemoryDisk();
      await disk.makeDirectory('/data');
      drains.set(id, 0);
      nodes.push(
        await RaftNode.start({
          id,
          dataDirectory: '/data/raft',
          initialVoters: [1, 2, 3],
          disk,
          clock,
          random: new SeededRandom(id),
          link: links.linkFor(id),
          stateMachine: new ListStateMachine(),
          tickIntervalMs: TICK_MS,
          heartbeatTicks: HEARTBEAT_TICKS,
          electionTicks: ELECTION_TICKS,
          defer: (work) => {
            drains.set(id, (drains.get(id) ?? 0) + 1);
            setImmediate(work);
          },
        }),
      );
    }
    const leader = nodes[0]!;
    leader.campaign();
    await settle();
    expect(leader.isLeader()).toBe(true);

    // The followers hear nothing from here on (the leader's sends to them are dropped): what
    // drains is what the ticks alone left.
    links.isolated.add(2);
    links.isolated.add(3);
    const before = new Map(drains);
    const ticks = 4 * HEARTBEAT_TICKS;
    for (let tick = 0; tick < ticks; tick++) {
      clock.advance(TICK_MS);
      await settle();
    }
    // The leader drains on its heartbeat ticks only; the followers, hearing nothing, not at all.
    expect(drains.get(1)! - before.get(1)!).toBe(ticks / HEARTBEAT_TICKS);
    expect(drains.get(2)! - before.get(2)!).toBe(0);
    expect(drains.get(3)! - before.get(3)!).toBe(0);
    links.isolated.clear();
  });
});
