/**
 * Auto-compaction and the space quota on an in-process three-node cluster with the real node
 * state machine and backends: history stays bounded while puts continue, and a NOSPACE alarm is
 * raised through the log, refuses writes everywhere, survives a restart, and clears on disarm.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RECORD_OVERHEAD_BYTES } from '../../../src/kv/index.js';
import { isMeshError } from '../../../src/lib/index.js';
import {
  LEADER_DUTY_INTERVAL_MS,
  MIN_PERIODIC_SAMPLE_INTERVAL_MS,
  type RaftKvBackend,
} from '../../../src/server/index.js';
import { KvCluster, type KvClusterOptions } from './kv-cluster.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const KEYS = 10;
/** The load puts at least this many, and goes on until compaction ran `COMPACTIONS` times. */
const PUTS = 6_000;
const COMPACTIONS = 3;
/** Bounds the load in count and time, whatever compaction does. */
const MAX_PUTS = 100_000;
const MAX_LOAD_MS = 30_000;
const CLIENTS = 8;
const RETENTION_MS = 200;
/**
 * How far behind the newest put the compactor may legitimately leave history: one retention,
 * one revision sample, one leader duty turn, and room for the compaction to be committed and
 * applied on a loaded machine.
 */
const HISTORY_WINDOW_MS = RETENTION_MS + MIN_PERIODIC_SAMPLE_INTERVAL_MS + LEADER_DUTY_INTERVAL_MS + 300;

/** How often the running clock below looks for event-loop gaps. */
const LOOP_TICK_MS = 5;

/**
 * Wall time minus the time the event loop could not run (gaps between ticks beyond the tick): the
 * three nodes share this process, so a starved process samples revisions and compacts late by
 * that much. On a machine with spare cores it runs with the wall clock.
 */
class RunningClock {
  private lastTickMs = performance.now();
  private stalledMs = 0;
  private readonly timer = setInterval(() => {
    const nowMs = performance.now();
    this.stalledMs += Math.max(0, nowMs - this.lastTickMs - LOOP_TICK_MS);
    this.lastTickMs = nowMs;
  }, LOOP_TICK_MS);

  nowMs(): number {
    const nowMs = performance.now();
    // A gap that has not reached a tick yet counts too.
    return nowMs - this.stalledMs - Math.max(0, nowMs - this.lastTickMs - LOOP_TICK_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

let cluster: KvCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

async function started(
  options: KvClusterOptions,
): Promise<{ cluster: KvCluster; leader: RaftKvBackend; followers: RaftKvBackend[] }> {
  cluster = new KvCluster([1, 2, 3], options);
  await cluster.start();
  const leaderEntry = await cluster.waitForLeader();
  const followers = [...cluster.nodes.values()]
    .filter((entry) => entry.id !== leaderEntry.id)
    .map((entry) => cluster!.backend(entry));
  return { cluster, leader: cluster.backend(leaderEntry), followers };
}

describe('auto-compaction on a cluster', () => {
  it('keeps stored history bounded while puts continue, and every replica compacts alike', async () => {
    const { cluster, leader } = await started({
      backend: { autoCompaction: { mode: 'periodic', retention: RETENTION_MS } },
    });
    const machines = () => [...cluster.nodes.values()].map((entry) => entry.machine.kv);
    let written = 0;
    // Acknowledgement times of the puts (running clock), in order, and the worst excess of stored
    // records over what the retention allows: the keys' latest values plus the puts of the last
    // window.
    const clock = new RunningClock();
    const acknowledgedAtMs: number[] = [];
    let windowStart = 0;
    let worstExcess = Number.NEGATIVE_INFINITY;
    const compactRevisionsSeen = new Set<number>();
    // A load that long covers several compactions however quickly the machine puts (a quick one
    // did 6,000 puts within two retention windows).
    const loadEndsMs = performance.now() + MAX_LOAD_MS;
    const loading = (): boolean =>
      written < MAX_PUTS &&
      performance.now() < loadEndsMs &&
      (written < PUTS || compactRevisionsSeen.size < COMPACTIONS);
    const client = async (): Promise<void> => {
      while (loading()) {
        const key = `key/${written++ % KEYS}`;
        await leader.execute({ type: 'put', key: bytes(key), value: bytes(`value ${written}`) });
        const nowMs = clock.nowMs();
        acknowledgedAtMs.push(nowMs);
        while ((acknowledgedAtMs[windowStart] as number) < nowMs - HISTORY_WINDOW_MS) windowStart++;
        const allowed = KEYS + (acknowledgedAtMs.length - windowStart);
        for (const machine of machines()) {
          worstExcess = Math.max(worstExcess, machine.storedRecordCount - allowed);
        }
        compactRevisionsSeen.add(machines()[0]!.compactRevision);
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, client)).finally(() => clock.stop());
    // Compaction ran during the load, several times, and no replica ever kept history older than
    // the retention allows, whatever the machine's put rate and however starved the process was.
    expect(compactRevisionsSeen.size).toBeGreaterThanOrEqual(COMPACTIONS);
    expect(worstExcess).toBeLessThanOrEqual(0);
    // Once the load stops, every replica drops all superseded history: one record per key.
    await cluster.until(
      () => machines().every((machine) => machine.storedRecordCount === KEYS),
      'history compacted to one record per key on every replica',
    );
    const [first, ...others] = machines();
    for (const machine of others) {
      expect(machine.compactRevision).toBe(first!.compactRevision);
      expect(machine.storedBytes).toBe(first!.storedBytes);
    }
    expect(leader.compactor?.counters.steps).toBeGreaterThanOrEqual(3);
    // A watcher asking for history the compactor dropped is cancelled with the compact revision.
    const [response] = leader.watch({ key: bytes('key/'), prefix: true, startRevision: 1 }).drain();
    expect(response).toMatchObject({ canceled: true, compactRevision: first!.compactRevision });
  });
});

describe('space quota on a cluster', () => {
  it('raises NOSPACE through the log, refuses writes until compaction and disarm, and keeps the alarm over a restart', async () => {
    const valueBytes = 100;
    const recordBytes = 'quota/00'.length + valueBytes + RECORD_OVERHEAD_BYTES;
    const quotaBackendBytes = 40 * recordBytes;
    const { cluster, leader, followers } = await started({
      backend: { quotaBackendBytes },
      snapshotEveryEntries: 20,
    });
    const put = (backend: RaftKvBackend, index: number) =>
      backend.execute({
        type: 'put',
        key: bytes(`quota/${String(index % 10).padStart(2, '0')}`),
        value: new Uint8Array(valueBytes),
      });
    let refused: unknown;
    let index = 0;
    for (; index < 100 && refused === undefined; index++)
      await put(leader, index).catch((error) => (refused = error));
    expect(isMeshError(refused, 'KV_NO_SPACE')).toBe(true);
    expect(index).toBe(41);
    const leaderId = Number(leader.memberId);
    // As etcd's quota check: the refusal is answered once the alarm applied on the member that
    // refused, so an alarm list the refused client sends next shows it.
    expect(cluster.nodes.get(leaderId)?.machine.kv.alarms).toEqual([
      { memberId: leaderId, alarm: 'NOSPACE' },
    ]);
    // The alarm is replicated: every member lists it and reports it in its status.
    await cluster.until(
      () => [...cluster.nodes.values()].every((entry) => entry.machine.kv.alarms.length === 1),
      'alarm on every replica',
    );
    expect(await followers[0]!.alarms()).toEqual([{ memberId: leaderId, alarm: 'NOSPACE' }]);
    const follower = followers[0]!;
    const tinyPut = { type: 'put', key: bytes('t'), value: bytes('') } as const;
    const leaseGrant = { type: 'leaseGrant', id: 0, ttlSeconds: 60 } as const;
    for (const command of [tinyPut, leaseGrant]) {
      const error = await leader.execute(command).catch((caught: unknown) => caught);
      expect(isMeshError(error, 'KV_NO_SPACE')).toBe(true);
    }
    expect((await follower.status()).errors).toEqual([`memberID:${leaderId} alarm:NOSPACE`]);
    // Deletes and compaction still run; the alarm stays until it is disarmed (the leader's own quota
    // check passes for a tiny put now, so this refusal comes from the replicated alarm).
    await leader.execute({ type: 'deleteRange', key: bytes('quota/05') });
    await leader.execute({ type: 'compact', revision: leader.currentRevision() });
    expect(cluster.get(Number(leader.memberId)).machine.kv.storedBytes).toBeLessThan(quotaBackendBytes / 2);
    expect(isMeshError(await leader.execute(tinyPut).catch((error: unknown) => error), 'KV_NO_SPACE')).toBe(
      true,
    );
    // The alarm survives a crash and restart (rebuilt from the member's snapshot and log).
    const restartedId = Number(follower.memberId);
    await cluster.restart(restartedId);
    await cluster.until(
      () => cluster.get(restartedId).machine.kv.alarms.length === 1,
      'alarm back on the restarted member',
    );
    // Disarm (as `etcdctl alarm disarm` does: one deactivate per listed alarm); writes work again.
    const disarmed = await leader.execute({
      type: 'alarm',
      action: 'deactivate',
      memberId: leaderId,
      alarm: 'NOSPACE',
    });
    expect(disarmed).toMatchObject({ type: 'alarm', alarms: [{ memberId: leaderId, alarm: 'NOSPACE' }] });
    expect(await leader.alarms()).toEqual([]);
    await put(leader, 0);
    await cluster.until(
      () => [...cluster.nodes.values()].every((entry) => entry.machine.kv.alarms.length === 0),
      'alarm cleared on every replica',
    );
  });
});
