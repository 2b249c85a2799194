import { afterEach, describe, expect, it } from 'vitest';
import { MemoryDisk, SeededRandom, SystemClock } from '../../../src/lib/index.js';
import { decodeMessage, type Message, type NodeId } from '../../../src/raft/index.js';
import { RaftNode } from '../../../src/server/index.js';
import { ListStateMachine, MemoryLinks } from './cluster-harness.js';

const encode = (text: string) => new TextEncoder().encode(text);

interface Voter {
  readonly id: NodeId;
  readonly machine: ListStateMachine;
  readonly node: RaftNode<number>;
}

/**
 * Three voters on memory links whose peer messages' commits are applied `atCallbackEnd`
 * (microtasks, as a node's are); node 1 leads. Flushes of node 1's link are noted in `flushes`.
 */
async function startVoters(links: MemoryLinks, flushes: string[]): Promise<Voter[]> {
  const voters: Voter[] = [];
  for (const id of [1, 2, 3]) {
    const disk = new MemoryDisk();
    await disk.makeDirectory('/data');
    const machine = new ListStateMachine();
    const link = links.linkFor(id);
    const node = await RaftNode.start({
      id,
      dataDirectory: '/data/raft',
      initialVoters: [1, 2, 3],
      disk,
      clock: new SystemClock(),
      random: new SeededRandom(id),
      link: id === 1 ? { ...link, flush: () => flushes.push('flush') } : link,
      stateMachine: machine,
      // An election timeout (250 ms) well past the few milliseconds a test holds a link.
      tickIntervalMs: 10,
      electionTicks: 25,
      heartbeatTicks: 3,
      atCallbackEnd: queueMicrotask,
    });
    voters.push({ id, machine, node });
  }
  const leader = voters[0]!.node;
  leader.campaign();
  await leader.waitReady(5_000);
  await leader.propose(encode('settle'));
  return voters;
}

/** Waits (bounded) until `predicate` holds, polling on the event loop. */
async function until(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

function sentTo(links: MemoryLinks, to: NodeId, matches: (message: Message) => boolean): boolean {
  return links.sent.some((sent) => sent.to === to && matches(decodeMessage(sent.payload)));
}

/** The memory links hand a message to its held queue an immediate after it was sent. */
function heldSoFar(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('RaftNode: entries a peer message commits', () => {
  let voters: Voter[] = [];
  afterEach(async () => {
    for (const voter of voters) await voter.node.stop();
    voters = [];
  });

  it('are applied on the leader when the callback that delivered the acknowledgement returns', async () => {
    const links = new MemoryLinks();
    const flushes: string[] = [];
    voters = await startVoters(links, flushes);
    const leader = voters[0]!;
    const index = leader.node.applied + 1;
    links.hold(leader.id);
    const answered = leader.node.propose(encode('x'));
    await until(
      () =>
        sentTo(
          links,
          leader.id,
          (message) => message.type === 'appendResponse' && message.success && message.index >= index,
        ),
      'a follower to acknowledge the entry',
    );
    await heldSoFar();
    expect(leader.machine.items).not.toContain('x');
    flushes.length = 0;
    links.release(leader.id);
    // The microtasks queued by the delivery run before this continuation: no turn in between.
    await Promise.resolve();
    expect(leader.machine.items).toContain('x');
    // That drain wrote nothing itself: the turn's scheduled drain sends what it queued.
    expect(flushes).toEqual([]);
    expect(await answered).toBe(leader.machine.items.indexOf('x') + 1);
  });

  it('are applied on a follower when the callback that delivered the commit index returns', async () => {
    const links = new MemoryLinks();
    voters = await startVoters(links, []);
    const [leader, follower] = [voters[0]!, voters[1]!];
    const index = leader.node.applied + 1;
    links.hold(follower.id);
    // Committed by the leader and the other follower; the commit index waits on the held link.
    await leader.node.propose(encode('x'));
    await until(
      () =>
        sentTo(
          links,
          follower.id,
          (message) => (message.type === 'append' || message.type === 'heartbeat') && message.commit >= index,
        ),
      'the leader to send the commit index',
    );
    await heldSoFar();
    expect(follower.machine.items).not.toContain('x');
    links.release(follower.id);
    await Promise.resolve();
    expect(follower.machine.items).toContain('x');
  });
});
