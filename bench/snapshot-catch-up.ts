/**
 * A follower cut off from a three-node cluster catches up from a snapshot of a large store while
 * clients write: `node dist/bench/snapshot-catch-up.js [keys]` (default 1,000,000). The three
 * nodes run in this one process on real files with production timing (200-400 ms election
 * timeout), so any node's stall shows in the one event loop measured. Prints the terms before
 * and after, client errors, the largest event-loop delay while the follower caught up, and times.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { KvCommand, RequestOp } from '../src/kv/index.js';
import { type NodeApplyResult, NodeStateMachine, RaftKvBackend } from '../src/server/index.js';
import { GenericTestCluster } from '../test/unit/server/cluster-harness.js';

const DEFAULT_KEYS = 1_000_000;
const PUTS_PER_TXN = 125;
const WRITES_IN_FLIGHT = 32;
const CLIENT_WRITERS = 4;
const NS_PER_MS = 1e6;

function putsTxn(first: number, count: number, value: Uint8Array): KvCommand {
  const success: RequestOp[] = [];
  for (let index = first; index < first + count; index++) {
    success.push({ type: 'put', key: new TextEncoder().encode(`key-${index}`), value });
  }
  return { type: 'txn', compare: [], success, failure: [] };
}

/** Progress on stderr: a long run shows where it is. */
function progress(message: string): void {
  process.stderr.write(`${new Date().toISOString()} ${message}\n`);
}

async function until(predicate: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function main(): Promise<void> {
  const keyCount = Number(process.argv[2] ?? DEFAULT_KEYS);
  const dataRoot = await mkdtemp(path.join(os.tmpdir(), 'meshos-catch-up-'));
  // The load (125 keys an entry) takes about four snapshots; as many entries stay behind each.
  const snapshotEveryEntries = Math.max(50, Math.floor(keyCount / PUTS_PER_TXN / 4));
  const cluster = new GenericTestCluster<NodeStateMachine, NodeApplyResult>(
    [1, 2, 3],
    () => new NodeStateMachine(),
    snapshotEveryEntries,
    {
      tickIntervalMs: 10,
      electionTicks: 20,
      heartbeatTicks: 4,
      logEntriesKeptAfterSnapshot: snapshotEveryEntries,
      dataRoot,
    },
  );
  try {
    await cluster.start();
    const leader = await cluster.waitForLeader(20_000);
    progress(`leader ${leader.id}; loading ${keyCount} keys`);
    const lagging = [...cluster.nodes.values()].find((entry) => entry.id !== leader.id);
    if (lagging === undefined) throw new Error('no follower');
    const backend = new RaftKvBackend(leader.node, leader.machine, {
      clusterId: 1n,
      clock: cluster.clock,
      electionTimeoutMs: 200,
    });
    const terms = () => [...cluster.nodes.values()].map((entry) => entry.node.status().term);
    const termsBefore = terms();

    cluster.links.isolated.add(lagging.id);
    const loadStarted = performance.now();
    const value = new Uint8Array(128).fill(0x61);
    const writes: Promise<unknown>[] = [];
    for (let first = 0; first < keyCount; first += PUTS_PER_TXN) {
      writes.push(backend.execute(putsTxn(first, Math.min(PUTS_PER_TXN, keyCount - first), value)));
      if (writes.length >= WRITES_IN_FLIGHT) await writes.shift();
    }
    await Promise.all(writes);
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    progress(`loaded in ${loadSeconds.toFixed(1)} s; applied ${leader.node.applied}`);
    // The follower can only catch up from a snapshot once the leader compacted its log.
    await until(
      () => leader.node.status().firstIndex > lagging.node.applied + 1,
      'the leader to compact its log',
      600_000,
    );

    progress(`leader log starts at ${leader.node.status().firstIndex}; reconnecting the follower`);
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    const errors: unknown[] = [];
    let clientWrites = 0;
    let writing = true;
    const writer = async (worker: number): Promise<void> => {
      for (let round = 0; writing; round++) {
        try {
          await backend.execute({
            type: 'put',
            key: new TextEncoder().encode(`load-${worker}-${round % 1_000}`),
            value: new Uint8Array(64),
          });
          clientWrites++;
        } catch (error) {
          errors.push(error);
          return;
        }
      }
    };
    const writers = Array.from({ length: CLIENT_WRITERS }, (_, worker) => writer(worker));
    const catchUpStarted = performance.now();
    cluster.links.isolated.delete(lagging.id);
    await until(
      () =>
        lagging.node.storeMetrics().snapshotsSaved > 0 &&
        lagging.node.applied >= leader.node.status().commit - PUTS_PER_TXN,
      'the follower to catch up',
      900_000,
    );
    const catchUpSeconds = (performance.now() - catchUpStarted) / 1000;
    progress(`follower caught up in ${catchUpSeconds.toFixed(1)} s`);
    writing = false;
    await Promise.all(writers);
    delay.disable();
    backend.close();
    console.log(
      JSON.stringify(
        {
          keys: keyCount,
          loadSeconds: Number(loadSeconds.toFixed(1)),
          catchUpSeconds: Number(catchUpSeconds.toFixed(1)),
          termsBefore,
          termsAfter: terms(),
          clientWritesDuringCatchUp: clientWrites,
          clientErrors: errors.map(String),
          maxEventLoopDelayMs: Math.round(delay.max / NS_PER_MS),
          p99EventLoopDelayMs: Math.round(delay.percentile(99) / NS_PER_MS),
          followerSnapshotsSaved: lagging.node.storeMetrics().snapshotsSaved,
        },
        null,
        2,
      ),
    );
  } finally {
    await cluster.stop();
    await rm(dataRoot, { recursive: true, force: true });
  }
}

await main();
