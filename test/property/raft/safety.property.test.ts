import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isMeshError, SeededRandom } from '../../../src/lib/index.js';
import type { Entry, NodeId, Raft } from '../../../src/raft/index.js';
import { bytes, Network } from '../../scenario/raft/network.js';

const STEPS_PER_RUN = 400;

interface Observed {
  leaderOfTerm: Map<number, NodeId>;
  committedAt: Map<number, string>;
  /** Read request id -> highest commit index anywhere when the read began. */
  readFloor: Map<string, number>;
  readsAnswered: number;
}

function describeEntry(entry: Entry): string {
  return `${entry.term}/${entry.kind}/${new TextDecoder().decode(entry.data)}`;
}

/** Election safety and state machine safety, checked after every step. */
function check(network: Network, observed: Observed): void {
  for (const [id, node] of network.nodes) {
    if (node.raft.role === 'leader') {
      const known = observed.leaderOfTerm.get(node.raft.term);
      if (known !== undefined && known !== id) {
        throw new Error(`two leaders in term ${node.raft.term}: ${known} and ${id}`);
      }
      observed.leaderOfTerm.set(node.raft.term, id);
    }
    for (const entry of node.appliedEntries) {
      const text = describeEntry(entry);
      const known = observed.committedAt.get(entry.index);
      if (known !== undefined && known !== text) {
        throw new Error(`index ${entry.index} committed as ${known} and as ${text} (node ${id})`);
      }
      observed.committedAt.set(entry.index, text);
    }
    node.appliedEntries = [];
    // Linearizable reads: a read must observe every write committed anywhere before it began.
    for (const state of node.readStates) {
      const floor = observed.readFloor.get(state.requestId);
      if (floor !== undefined && state.index < floor) {
        throw new Error(`read ${state.requestId} at ${state.index} misses writes committed through ${floor}`);
      }
      observed.readsAnswered++;
    }
    node.readStates = [];
  }
}

function run(seed: number, size: number, preVote: boolean, checkQuorum: boolean): Observed {
  const voters = Array.from({ length: size }, (_, position) => position + 1);
  const network = new Network({ voters, preVote, checkQuorum, electionTicks: 5, seed });
  const random = new SeededRandom(seed);
  const observed: Observed = {
    leaderOfTerm: new Map(),
    committedAt: new Map(),
    readFloor: new Map(),
    readsAnswered: 0,
  };
  let proposals = 0;
  for (let step = 0; step < STEPS_PER_RUN; step++) {
    const roll = random.nextInt(100);
    if (roll < 15) {
      network.tick(random.nextIntBetween(1, size));
    } else if (roll < 22) {
      for (const [, node] of network.nodes) {
        if (node.raft.role === 'leader') {
          node.raft.propose(bytes(`p${proposals++}`));
          break;
        }
      }
    } else if (roll < 23) {
      network.restart(random.nextIntBetween(1, size));
    } else if (roll < 24) {
      network.crashBeforePersist(random.nextIntBetween(1, size));
    } else {
      network.collect();
      const queue = network.queue;
      if (queue.length > 0) {
        // Deliver a random message: reordering; some are dropped, some duplicated.
        const position = random.nextInt(queue.length);
        const message = queue[position]!;
        const fate = random.nextInt(100);
        if (fate >= 5) queue.splice(position, 1);
        if (fate >= 15) network.deliver(message);
      }
    }
    check(network, observed);
  }
  expectLiveness(network, observed);
  return observed;
}

/**
 * Once faults stop, some leader must commit a new entry on every node within a bounded time.
 * A leader of an old term may still hold its role when faults stop; an entry proposed to it is
 * rightly lost when it steps down, so the marker is proposed again to each new leader, as a
 * client would retry.
 */
function expectLiveness(network: Network, observed: Observed): void {
  const marker = 'liveness';
  let proposedTo: { id: NodeId; term: number } | undefined;
  for (let round = 0; round < 300; round++) {
    network.tickAll(1);
    check(network, observed);
    const leader = newestLeader(network);
    const proposedToThisLeader = proposedTo?.id === leader?.id && proposedTo?.term === leader?.raft.term;
    if (leader !== undefined && !proposedToThisLeader) {
      try {
        leader.raft.propose(bytes(marker));
        proposedTo = { id: leader.id, term: leader.raft.term };
      } catch {
        // A transfer may be in progress; try again next round.
      }
    }
    const voters = leader?.raft.config.voters ?? [];
    if (
      proposedTo !== undefined &&
      voters.length > 0 &&
      voters.every((id) => network.node(id).applied.includes(marker))
    ) {
      expectReadAnswered(network, observed);
      return;
    }
  }
  throw new Error('no progress after faults stopped');
}

function newestLeader(network: Network): { id: NodeId; raft: Raft } | undefined {
  let newest: { id: NodeId; raft: Raft } | undefined;
  for (const [id, node] of network.nodes) {
    if (node.raft.role === 'leader' && (newest === undefined || node.raft.term > newest.raft.term))
      newest = { id, raft: node.raft };
  }
  return newest;
}

/** With the cluster healthy, a read at the leader is answered within a few heartbeats. */
function expectReadAnswered(network: Network, observed: Observed): void {
  const before = observed.readsAnswered;
  for (let round = 0; round < 50; round++) {
    const leader = newestLeader(network);
    if (leader !== undefined && round === 0) {
      const floor = Math.max(...[...network.nodes.values()].map((node) => node.raft.status().commit));
      observed.readFloor.set('final-read', floor);
      leader.raft.readIndex('final-read');
    }
    network.tickAll(1);
    check(network, observed);
    if (observed.readsAnswered > before) return;
  }
  throw new Error('a read was not answered after faults stopped');
}

describe('safety under message loss, duplication, reordering and crashes, then liveness', () => {
  it('never two leaders in one term, never two different entries committed at one index', () => {
    let committedSomething = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 30 }),
        fc.integer({ min: 3, max: 5 }),
        fc.boolean(),
        fc.boolean(),
        (seed, size, preVote, checkQuorum) => {
          const observed = run(seed, size, preVote, checkQuorum);
          if (observed.committedAt.size > size) committedSomething++;
        },
      ),
      { numRuns: 60 },
    );
    // The runs must make progress, or the property would hold vacuously.
    expect(committedSomething).toBeGreaterThan(10);
  });
});

function runWithMembership(seed: number, checkQuorum: boolean): Observed {
  const network = new Network({
    voters: [1, 2, 3],
    spare: [4, 5],
    electionTicks: 5,
    seed,
    preVote: true,
    checkQuorum,
  });
  let reads = 0;
  const random = new SeededRandom(seed);
  const observed: Observed = {
    leaderOfTerm: new Map(),
    committedAt: new Map(),
    readFloor: new Map(),
    readsAnswered: 0,
  };
  const ids = [1, 2, 3, 4, 5];
  let proposals = 0;
  for (let step = 0; step < STEPS_PER_RUN; step++) {
    const roll = random.nextInt(100);
    const leader = [...network.nodes.values()].find((node) => node.raft.role === 'leader');
    if (roll < 15) {
      network.tick(ids[random.nextInt(ids.length)]!);
    } else if (roll < 22) {
      try {
        leader?.raft.propose(bytes(`p${proposals++}`));
      } catch (error) {
        if (!isMeshError(error, 'TRANSFER_IN_PROGRESS')) throw error;
      }
    } else if (roll < 25 && leader !== undefined) {
      const target = ids[random.nextInt(ids.length)]!;
      const config = leader.raft.config;
      const change = config.learners.includes(target)
        ? ({ type: 'promoteLearner', node: target } as const)
        : config.voters.includes(target)
          ? ({ type: 'changeVoters', add: [], remove: [target] } as const)
          : ({ type: 'addLearner', node: target } as const);
      try {
        leader.raft.proposeConfigChange(change);
      } catch (error) {
        if (!isMeshError(error)) throw error;
      }
    } else if (roll < 27) {
      const id = ids[random.nextInt(ids.length)]!;
      const node = network.node(id);
      if (node.raft.status().applied > node.storage.snapshot().metadata.index && !node.raft.hasReady()) {
        network.snapshotAndCompact(id);
      }
    } else if (roll < 28) {
      network.restart(ids[random.nextInt(ids.length)]!);
    } else if (roll < 29) {
      network.crashBeforePersist(ids[random.nextInt(ids.length)]!);
    } else if (roll < 30 && leader !== undefined) {
      try {
        leader.raft.transferLeadership(ids[random.nextInt(ids.length)]!);
      } catch (error) {
        if (!isMeshError(error)) throw error;
      }
    } else if (roll < 33) {
      const id = ids[random.nextInt(ids.length)]!;
      const requestId = `read-${reads++}`;
      try {
        network.raft(id).readIndex(requestId);
        const floor = Math.max(...[...network.nodes.values()].map((node) => node.raft.status().commit));
        observed.readFloor.set(requestId, floor);
      } catch (error) {
        if (!isMeshError(error)) throw error;
      }
    } else {
      network.collect();
      const queue = network.queue;
      if (queue.length > 0) {
        const position = random.nextInt(queue.length);
        const message = queue[position]!;
        const fate = random.nextInt(100);
        if (fate >= 5) queue.splice(position, 1);
        if (fate >= 15) network.deliver(message);
      }
    }
    check(network, observed);
  }
  expectLiveness(network, observed);
  return observed;
}

describe('safety across membership changes and snapshots', () => {
  it('joint consensus, learners, removals, compaction, transfers and reads stay safe and live', () => {
    let readsAnswered = 0;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 30 }), fc.boolean(), (seed, checkQuorum) => {
        readsAnswered += runWithMembership(seed, checkQuorum).readsAnswered;
      }),
      { numRuns: 40 },
    );
    expect(readsAnswered).toBeGreaterThan(40);
  });
});
