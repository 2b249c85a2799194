import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT_GUARD_MESSAGE } from '../../src/cli/lingering-handles.js';
import { ProcessCluster } from './process-cluster.js';
import { RawKvClient } from './raw-client.js';
import { StreamLoad } from './stream-load.js';

const LEADER_TIMEOUT_MS = 60_000;
/** From SIGTERM to "stopped": the node hands off and answers calls in progress first. */
const STOPPED_TIMEOUT_MS = 30_000;
/**
 * From "stopped" to the process's exit. Not a speed target: a hang detector. A clean exit takes
 * well under a second; the exit guard (main.ts) would cut a lingering process at 5 s and say so.
 */
const EXIT_AFTER_STOPPED_TIMEOUT_MS = 20_000;
const LOAD = { watchers: 12, keepers: 12, putters: 12, maxDurationMs: 240_000, maxPutsPerClient: 20_000 };
/** Steps of each kind of traffic before a stop: the load really runs against the member. */
const LOAD_PROGRESS_STEPS = 30;
const LOAD_PROGRESS_TIMEOUT_MS = 30_000;
/** Watchers per stopped member whose process is paused (SIGSTOP): clients that stop reading. */
const STALLED_WATCHERS = 2;
/** Events written to them: more than the sockets' buffers hold, so the server's writes back up. */
const BULK_VALUE_BYTES = 256 * 1024;
const BULK_PUTS = 80;
const BULK_PREFIX = 'bulk-';
const CALL_TIMEOUT_MS = 30_000;
const WATCHER_READY_TIMEOUT_MS = 30_000;

/** `etcdctl watch --prefix bulk-` against `endpoint`, paused once it has seen its first event. */
async function stalledWatchers(endpoint: string, writer: RawKvClient): Promise<ChildProcess[]> {
  const watchers = Array.from({ length: STALLED_WATCHERS }, () =>
    spawn('etcdctl', [`--endpoints=${endpoint}`, 'watch', '--prefix', BULK_PREFIX], {
      stdio: ['ignore', 'pipe', 'ignore'],
      env: { ...process.env, ETCDCTL_API: '3' },
    }),
  );
  const seen = watchers.map((watcher) => {
    let printed = '';
    watcher.stdout?.on('data', (chunk: Buffer) => {
      printed += chunk.toString('utf8');
    });
    return () => printed.includes(`${BULK_PREFIX}ready`);
  });
  const deadline = Date.now() + WATCHER_READY_TIMEOUT_MS;
  for (let round = 0; !seen.every((check) => check()); round++) {
    if (Date.now() > deadline) throw new Error(`etcdctl watchers on ${endpoint} saw no event`);
    await writer.put(`${BULK_PREFIX}ready`, String(round), CALL_TIMEOUT_MS);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  for (const watcher of watchers) watcher.kill('SIGSTOP');
  return watchers;
}

describe('a member stopped under client load exits by itself', () => {
  let cluster: ProcessCluster | undefined;
  let load: StreamLoad | undefined;
  const paused: ChildProcess[] = [];
  afterAll(async () => {
    for (const watcher of paused) watcher.kill('SIGKILL');
    await load?.stop();
    await cluster?.stopAll();
  });

  /** SIGTERM to `id`; describes how long it took to say "stopped", and to be gone after that. */
  async function stopAndTimeExit(running: ProcessCluster, id: number): Promise<string> {
    const child = running.processes.get(id)!;
    let stoppedAtMs: number | undefined;
    let printed = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      printed += chunk.toString('utf8');
      if (stoppedAtMs === undefined && printed.includes(`node ${id} stopped`)) stoppedAtMs = Date.now();
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const signalledAtMs = Date.now();
    child.kill('SIGTERM');
    const exit = await running.waitForExit(id, STOPPED_TIMEOUT_MS + EXIT_AFTER_STOPPED_TIMEOUT_MS);
    expect(stoppedAtMs, running.describeOutput()).toBeDefined();
    const lingeredMs = Date.now() - stoppedAtMs!;
    // The guard exits with the command's code, so the code alone cannot tell; its line can.
    expect(stderr, `the exit guard had to end node ${id}'s process`).not.toContain(EXIT_GUARD_MESSAGE);
    expect(exit).toBe(0);
    expect(lingeredMs).toBeLessThan(EXIT_AFTER_STOPPED_TIMEOUT_MS);
    return `stopped ${stoppedAtMs! - signalledAtMs} ms after SIGTERM, gone ${lingeredMs} ms after "stopped"`;
  }

  it('a follower, then the leader, each exit after "stopped" with watches, keepalives, puts and paused watchers', async () => {
    cluster = await ProcessCluster.create(3);
    cluster.startAll();
    const leader = await cluster.waitForLeader(LEADER_TIMEOUT_MS);
    const follower = [1, 2, 3].find((id) => id !== leader)!;
    load = new StreamLoad({ endpoints: cluster.clientEndpoints, ...LOAD });
    await load.waitForProgress(LOAD_PROGRESS_STEPS, LOAD_PROGRESS_TIMEOUT_MS);

    const writer = new RawKvClient(cluster.plan(leader).client);
    const bulkStartMs = Date.now();
    try {
      for (const id of [follower, leader])
        paused.push(...(await stalledWatchers(cluster.plan(id).client, writer)));
      const value = 'x'.repeat(BULK_VALUE_BYTES);
      for (let index = 0; index < BULK_PUTS; index++)
        await writer.put(`${BULK_PREFIX}${index}`, value, CALL_TIMEOUT_MS);
    } finally {
      writer.close();
    }
    const bulkMs = Date.now() - bulkStartMs;

    const followerStop = await stopAndTimeExit(cluster, follower);
    await load.waitForProgress(LOAD_PROGRESS_STEPS, LOAD_PROGRESS_TIMEOUT_MS);
    cluster.start(follower);
    await cluster.waitForLeader(LEADER_TIMEOUT_MS);
    await load.waitForProgress(LOAD_PROGRESS_STEPS, LOAD_PROGRESS_TIMEOUT_MS);

    // Still the leader unless an election moved it; it is the member with paused watchers either way.
    const leaderNow = await cluster.waitForLeader(LEADER_TIMEOUT_MS);
    const leaderStop = await stopAndTimeExit(cluster, leader);
    await load.waitForProgress(LOAD_PROGRESS_STEPS, LOAD_PROGRESS_TIMEOUT_MS);
    const progress = await load.stop();
    console.log(
      `stop under load: follower n${follower} ${followerStop}; n${leader} (leader now: n${leaderNow}) ${leaderStop}; load ${JSON.stringify(progress)}; paused watchers and bulk puts took ${bulkMs} ms`,
    );
  }, 600_000);
});
