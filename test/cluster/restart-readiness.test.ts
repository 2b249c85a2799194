import * as net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { fetchStatus } from '../../src/cli/admin-json.js';
import { ProcessCluster } from './process-cluster.js';
import { RawKvClient } from './raw-client.js';

const LEADER_TIMEOUT_MS = 30_000;
const PORT_TIMEOUT_MS = 30_000;
const PORT_POLL_INTERVAL_MS = 5;
/** Per-request deadline of the first requests to a restarted node: they may wait for its leader. */
const REQUEST_TIMEOUT_MS = 10_000;

function accepts(endpoint: string): Promise<boolean> {
  const [host, port] = endpoint.split(':');
  return new Promise((resolve) => {
    const socket = net.connect({ host, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Resolves once the endpoint accepts TCP connections (bounded); answers when, in ms since epoch. */
async function whenListening(endpoint: string): Promise<number> {
  const deadline = Date.now() + PORT_TIMEOUT_MS;
  while (!(await accepts(endpoint))) {
    if (Date.now() > deadline) throw new Error(`${endpoint} did not open within ${PORT_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, PORT_POLL_INTERVAL_MS));
  }
  return Date.now();
}

interface FirstAnswers {
  /** From the client port opening to the restarted node naming a leader (its /status). */
  readonly leaderKnownAfterMs: number;
  readonly putAfterMs: number;
  readonly getAfterMs: number;
}

/**
 * Kills node `id`, starts it again, and as soon as its client port opens sends it a put and a
 * linearizable get: both must be answered, not refused with `no leader`.
 */
async function restartAndAsk(cluster: ProcessCluster, id: number): Promise<FirstAnswers> {
  await cluster.kill(id);
  await cluster.waitForLeader(LEADER_TIMEOUT_MS);
  cluster.start(id);
  const openedAt = await whenListening(cluster.plan(id).client);
  let leaderKnownAt = Number.NaN;
  const watchLeader = (async () => {
    while (Date.now() < openedAt + LEADER_TIMEOUT_MS) {
      const status = await fetchStatus(cluster.plan(id).admin, 500);
      if (Number(status?.leaderId ?? 0) !== 0) {
        leaderKnownAt = Date.now();
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, PORT_POLL_INTERVAL_MS));
    }
  })();
  const client = new RawKvClient(cluster.plan(id).client);
  try {
    await client.put(`restarted/${id}`, 'v', REQUEST_TIMEOUT_MS);
    const putAt = Date.now();
    expect(await client.get(`restarted/${id}`, REQUEST_TIMEOUT_MS)).toBe('v');
    const getAt = Date.now();
    await watchLeader;
    return {
      leaderKnownAfterMs: leaderKnownAt - openedAt,
      putAfterMs: putAt - openedAt,
      getAfterMs: getAt - openedAt,
    };
  } finally {
    client.close();
  }
}

describe('a restarted meshos process', () => {
  let cluster: ProcessCluster | undefined;
  afterAll(async () => {
    await cluster?.stopAll();
  });

  it('answers its first requests once it hears the leader instead of refusing them with no leader', async () => {
    cluster = await ProcessCluster.create(3);
    cluster.startAll();
    const leader = await cluster.waitForLeader(LEADER_TIMEOUT_MS);
    const follower = cluster.plans.map((plan) => plan.id).find((id) => id !== leader)!;

    const asFollower = await restartAndAsk(cluster, follower);
    console.log(`restarted follower n${follower}: ${JSON.stringify(asFollower)}`);
    const asFormerLeader = await restartAndAsk(cluster, leader);
    console.log(`restarted former leader n${leader}: ${JSON.stringify(asFormerLeader)}`);

    // Both nodes learned the leader (the put and get above succeeded rather than failing).
    for (const answers of [asFollower, asFormerLeader])
      expect(Number.isFinite(answers.leaderKnownAfterMs)).toBe(true);
  }, 120_000);
});
