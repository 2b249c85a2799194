import { SeededRandom } from '../src/lib/index.js';
import { MemoryRaftStorage, type Message, type NodeId, Raft } from '../src/raft/index.js';
import type { BenchSuite } from './harness.js';

/** Proposals kept outstanding at once, as if from this many concurrent clients. */
const CONCURRENT_PROPOSERS = 64;
const PAYLOAD_BYTES = 128;
/** Each run stops at this many committed entries or after RUN_TIME_LIMIT_MS. */
const ENTRIES_PER_RUN = 300_000;
const RUN_TIME_LIMIT_MS = 10_000;
const RUNS = 5;
/** Runs discarded first so the figure is the optimised steady state, not JIT warm-up. */
const WARMUP_RUNS = 2;

interface BenchNode {
  readonly raft: Raft;
  readonly storage: MemoryRaftStorage;
}

/**
 * The pure core alone: three voters in one process, synchronous delivery, MemoryRaftStorage,
 * no IO. Measures entries committed (and applied) per second on the leader.
 */
function runOnce(): number {
  const voters: NodeId[] = [1, 2, 3];
  const nodes = new Map<NodeId, BenchNode>();
  for (const id of voters) {
    const storage = new MemoryRaftStorage({ voters, learners: [], outgoingVoters: [] });
    const raft = new Raft({
      id,
      electionTicks: 10,
      heartbeatTicks: 1,
      preVote: true,
      checkQuorum: true,
      maxInflightMessages: 256,
      maxInflightBytes: 64 * 1024 * 1024,
      maxAppendBytes: 1024 * 1024,
      random: new SeededRandom(id),
      storage,
    });
    nodes.set(id, { raft, storage });
  }
  let queue: Message[] = [];
  let leaderCommitted = 0;
  const leader = nodes.get(1)!;
  const handle = (node: BenchNode, isLeader: boolean): void => {
    if (!node.raft.hasReady()) return;
    const ready = node.raft.ready();
    if (ready.entries.length > 0) node.storage.append(ready.entries);
    if (ready.hardState !== undefined) node.storage.setHardState(ready.hardState);
    for (const message of ready.messages) queue.push(message);
    for (const message of ready.messagesAfterPersist) queue.push(message);
    if (isLeader) {
      for (const entry of ready.committedEntries) if (entry.kind === 'normal') leaderCommitted++;
    }
    node.raft.advance();
  };
  const pump = (): void => {
    for (const [id, node] of nodes) handle(node, id === 1);
    const batch = queue;
    queue = [];
    for (const message of batch) nodes.get(message.to)!.raft.step(message);
  };
  leader.raft.campaign();
  for (let round = 0; round < 20; round++) pump();
  if (leader.raft.role !== 'leader') throw new Error('benchmark leader was not elected');

  const payload = new Uint8Array(PAYLOAD_BYTES).fill(7);
  let proposed = 0;
  const started = performance.now();
  let elapsedMs = 0;
  let iterations = 0;
  while (leaderCommitted < ENTRIES_PER_RUN) {
    while (proposed - leaderCommitted < CONCURRENT_PROPOSERS) {
      leader.raft.propose(payload);
      proposed++;
    }
    pump();
    // Compact now and then so the in-memory log does not grow without bound.
    if (++iterations % 1024 === 0) {
      elapsedMs = performance.now() - started;
      if (elapsedMs > RUN_TIME_LIMIT_MS) break;
      for (const node of nodes.values()) {
        const applied = node.raft.status().applied;
        if (applied > node.storage.snapshot().metadata.index + 10_000) {
          node.storage.createSnapshot(applied, node.raft.configAt(applied), 0);
          node.storage.compact(applied);
        }
      }
    }
  }
  elapsedMs = performance.now() - started;
  return (leaderCommitted / elapsedMs) * 1000;
}

export const suite: BenchSuite = {
  name: 'raft/core',
  async run(context) {
    for (let run = 0; run < WARMUP_RUNS; run++) runOnce();
    const { median } = await context.repeat(RUNS, runOnce);
    context.record({
      metric: `committed entries/s, 3 voters, ${CONCURRENT_PROPOSERS} proposers, ${PAYLOAD_BYTES} B`,
      median,
      unit: 'entries/s',
      samples: RUNS,
      target: '>= 1,000,000',
    });
  },
};
