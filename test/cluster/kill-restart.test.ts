import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SeededRandom } from '../../src/lib/index.js';
import { checkHistory, formatHistory, type HistoryOperation } from '../../src/sim/linearizability/index.js';
import { ProcessCluster } from './process-cluster.js';
import { RawKvClient } from './raw-client.js';

const CLIENTS = 5;
const KEYS = ['k0', 'k1', 'k2', 'k3', 'k4'];
const OPERATION_TIMEOUT_MS = 2_000;
const MAX_OPERATIONS_PER_CLIENT = 400;
const CHAOS_ROUNDS = 3;
const DOWN_TIME_MS = 1_500;
const LEADER_TIMEOUT_MS = 30_000;

function microsecondsNow(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

describe('three meshos processes under kill -9', () => {
  let cluster: ProcessCluster | undefined;
  afterAll(async () => {
    await cluster?.stopAll();
  });

  it('stays linearizable and converges while the leader and followers are killed and restarted', async () => {
    cluster = await ProcessCluster.create(3);
    cluster.startAll();
    await cluster.waitForLeader(LEADER_TIMEOUT_MS);

    const history: HistoryOperation[] = [];
    const random = new SeededRandom(20261121);
    let running = true;
    const clientLoops = Array.from({ length: CLIENTS }, async (_, client) => {
      const clientRandom = random.fork(`client-${client}`);
      const endpoints = cluster!.clientEndpoints;
      let endpointIndex = client % endpoints.length;
      let connection = new RawKvClient(endpoints[endpointIndex]!);
      for (let counter = 0; running && counter < MAX_OPERATIONS_PER_CLIENT; counter++) {
        const key = KEYS[clientRandom.nextInt(KEYS.length)]!;
        const roll = clientRandom.nextFloat();
        const op = roll < 0.4 ? 'get' : roll < 0.8 ? 'put' : 'cas';
        const value = `${client}-${counter}`;
        const expected = clientRandom.chance(0.2)
          ? null
          : `${clientRandom.nextInt(CLIENTS)}-${clientRandom.nextInt(counter + 1)}`;
        const call_ts = microsecondsNow();
        try {
          if (op === 'get') {
            const read = await connection.get(key, OPERATION_TIMEOUT_MS);
            history.push({ client, op, key, value: read, call_ts, return_ts: microsecondsNow() });
          } else if (op === 'put') {
            await connection.put(key, value, OPERATION_TIMEOUT_MS);
            history.push({ client, op, key, value, call_ts, return_ts: microsecondsNow() });
          } else {
            const ok = await connection.cas(key, expected, value, OPERATION_TIMEOUT_MS);
            history.push({ client, op, key, expected, value, ok, call_ts, return_ts: microsecondsNow() });
          }
        } catch {
          // The answer never came: a write may or may not have happened; a read changed nothing.
          if (op === 'put') history.push({ client, op, key, value, status: 'info', call_ts });
          if (op === 'cas') history.push({ client, op, key, expected, value, status: 'info', call_ts });
          connection.close();
          endpointIndex = (endpointIndex + 1) % endpoints.length;
          connection = new RawKvClient(endpoints[endpointIndex]!);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
      connection.close();
    });

    for (let round = 0; round < CHAOS_ROUNDS; round++) {
      const leader = await cluster.waitForLeader(LEADER_TIMEOUT_MS);
      await cluster.kill(leader);
      await new Promise((resolve) => setTimeout(resolve, DOWN_TIME_MS));
      cluster.start(leader);
      const next = await cluster.waitForLeader(LEADER_TIMEOUT_MS);
      const follower = cluster.plans.map((plan) => plan.id).find((id) => id !== next)!;
      await cluster.kill(follower);
      await new Promise((resolve) => setTimeout(resolve, DOWN_TIME_MS));
      cluster.start(follower);
    }
    await cluster.waitForLeader(LEADER_TIMEOUT_MS);
    running = false;
    await Promise.all(clientLoops);

    // Final linearizable reads on every node: each must see the same value for every key.
    const finals = new Map<string, Set<string | null>>();
    for (const endpoint of cluster.clientEndpoints) {
      const reader = new RawKvClient(endpoint);
      for (const key of KEYS) {
        const call_ts = microsecondsNow();
        const value = await reader.get(key, 10_000);
        history.push({
          client: `final-${endpoint}`,
          op: 'get',
          key,
          value,
          call_ts,
          return_ts: microsecondsNow(),
        });
        const seen = finals.get(key) ?? new Set();
        seen.add(value);
        finals.set(key, seen);
      }
      reader.close();
    }

    const directory = path.resolve('artifacts', 'cluster');
    mkdirSync(directory, { recursive: true });
    const historyFile = path.join(directory, 'kill-restart-history.jsonl');
    writeFileSync(historyFile, formatHistory(history));
    console.log(`client history (${history.length} operations) written to ${historyFile}`);

    const acknowledgedWrites = history.filter(
      (operation) => operation.op !== 'get' && operation.status !== 'info',
    );
    expect(acknowledgedWrites.length).toBeGreaterThan(50);
    for (const [key, seen] of finals) expect([key, seen.size]).toEqual([key, 1]);
    const verdict = checkHistory(history, { timeBudgetMs: 60_000, nowMs: () => performance.now() });
    expect(verdict.counterexample ?? '').toBe('');
    expect(verdict.verdict).toBe('linearizable');
  }, 240_000);
});
