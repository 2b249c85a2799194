import { afterEach, describe, expect, it } from 'vitest';
import { type Disk, MemoryDisk, SeededRandom, SystemClock } from '../../../src/lib/index.js';
import { decodeMessage, type NodeId } from '../../../src/raft/index.js';
import { RaftNode } from '../../../src/server/index.js';
import { withFileOverrides } from '../../support/file-overrides.js';
import { ListStateMachine, MemoryLinks } from './cluster-harness.js';

const encode = (text: string) => new TextEncoder().encode(text);

/** Holds every fdatasync of a disk's files while closed; `open` lets the held ones finish. */
class SyncGate {
  closed = false;
  /** Called as the first sync is held. */
  onHold: () => void = () => {};
  private held: Array<() => void> = [];

  get waiting(): number {
    return this.held.length;
  }

  pass(): Promise<void> {
    if (!this.closed) return Promise.resolve();
    if (this.held.length === 0) this.onHold();
    return new Promise((resolve) => this.held.push(resolve));
  }

  open(): void {
    this.closed = false;
    for (const release of this.held.splice(0)) release();
  }
}

async function gatedDisk(gate: SyncGate): Promise<Disk> {
  const memory = new MemoryDisk();
  await memory.makeDirectory('/data');
  return withFileOverrides(memory, (file) => ({
    datasync: async () => {
      await gate.pass();
      return file.datasync();
    },
  }));
}

describe('RaftNode: the end of a log write', () => {
  const nodes: RaftNode<number>[] = [];
  afterEach(async () => {
    for (const node of nodes.splice(0)) await node.stop();
  });

  it('schedules no drain on a follower when it leaves nothing to do, and still sends the acknowledgement', async () => {
    const links = new MemoryLinks();
    const gate = new SyncGate();
    let followerDrains = 0;
    for (const id of [1, 2, 3] as NodeId[]) {
      const disk = id === 2 ? await gatedDisk(gate) : new MemoryDisk();
      if (id !== 2) await disk.makeDirectory('/data');
      nodes.push(
        await RaftNode.start({
          id,
          dataDirectory: '/data/raft',
          initialVoters: [1, 2, 3],
          disk,
          clock: new SystemClock(),
          random: new SeededRandom(id),
          link: links.linkFor(id),
          stateMachine: new ListStateMachine(),
          // Long ticks: no tick schedules a drain while the test looks.
          tickIntervalMs: 100,
          electionTicks: 20,
          heartbeatTicks: 5,
          defer:
            id === 2
              ? (work) => {
                  followerDrains++;
                  setImmediate(work);
                }
              : setImmediate,
        }),
      );
    }
    const [leader, follower] = [nodes[0]!, nodes[1]!];
    leader.campaign();
    await leader.waitReady(5_000);
    await leader.propose(encode('settle'));
    const index = leader.applied + 1;
    gate.closed = true;
    // Nothing reaches the follower while its write is held (a commit index would leave it an
    // acknowledgement to send after the write, which takes a drain).
    gate.onHold = () => links.hold(follower.id);
    const answered = leader.propose(encode('x'));
    const deadline = Date.now() + 5_000;
    while (gate.waiting === 0) {
      if (Date.now() > deadline) throw new Error('the follower never synced');
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const drainsBefore = followerDrains;
    const acknowledged = (): boolean =>
      links.sent.some((sent) => {
        if (sent.from !== follower.id) return false;
        const message = decodeMessage(sent.payload);
        return message.type === 'appendResponse' && message.success && message.index >= index;
      });
    gate.open();
    // The write ends and its acknowledgement leaves in the microtasks that follow: no turn between.
    for (let step = 0; step < 50 && !acknowledged(); step++) await Promise.resolve();
    expect(acknowledged()).toBe(true);
    expect(followerDrains).toBe(drainsBefore);
    await answered;
    links.release(follower.id);
  });
});
