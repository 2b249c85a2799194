/**
 * The trim floor of a daemon's inbound chain on three real processes (docs/CHAINS.md "Trim
 * floor"), with small segments and frequent checkpoints (`--chain-segment-bytes 4096
 * --daemon-checkpoint-events 50`) so that segments roll and checkpoints happen within seconds. A
 * `journal` standby group of 3 (an active and 2 hot standbys) under 4 closed-loop senders:
 *
 * - the floor rises and every node's replica of the inbound chain drops its segments below it
 *   (its oldest retained offset moves up, and never past the floor);
 * - a standby whose node is killed with -9 holds the floor at its last published checkpoint while
 *   the others checkpoint far past it, and the live replicas keep its records; restarted, it
 *   restores that checkpoint and replays the chain from there, then the floor moves on;
 * - kill -9 of the active: a standby is promoted, and the killed node, restarted, restores its own
 *   checkpoint and replays from there. Every member's journal holds every acknowledged event once.
 */
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONTROL_ROOT } from '../../src/control/keyspace.js';
import { inboundChainName } from '../../src/daemons/chain-names.js';
import { decodeTrimOffset, trimCheckpointKey, trimFloorKey } from '../../src/daemons/trim-floor.js';
import { CHAIN_RETENTION_INTERVAL_MS } from '../../src/mesh/chain-replicas.js';
import { parseSegmentFileName } from '../../src/store/index.js';
import { until } from '../support/until.js';
import { nanosecondsNow } from './chain-appenders.js';
import { eventually } from './chain-cluster.js';
import { expectEveryEventOnce, journalOf, writeSendHistory } from './daemon-checks.js';
import { type DaemonCluster, everyMemberSynced, startDaemonCluster } from './daemon-cluster.js';
import { DaemonSenders } from './daemon-senders.js';
import { RawKvClient } from './raw-client.js';
import type { RawDaemonStatus } from './raw-daemons-client.js';

const DAEMON = 'trimmed';
const CHAIN = inboundChainName(DAEMON);
const CHECKPOINT_EVERY_EVENTS = 50;
const SEGMENT_BYTES = 4_096;
/** Repairs would replace the killed standby's member and replicas: kept out of this test's way. */
const REPAIR_GRACE_MS = 600_000;
const SENDERS = 4;
/**
 * The load must outlast every step before the last kill -9, which waits for acknowledged sends: a
 * CI run at 6,000 per sender spent them all (24,000 events by the standby's restart, where a
 * quiet run had 11,700) and then waited in vain. LOAD_MAX_MS still bounds it.
 */
const MAX_SENDS_PER_SENDER = 30_000;
const LOAD_MAX_MS = 400_000;
const SEND_TIMEOUT_MS = 3_000;
/** How far (in records) the others' checkpoints must pass the lagging standby's. */
const LAG_RECORDS = 8 * CHECKPOINT_EVERY_EVENTS;
const ACKS_AFTER_FAULT = 60;
const CALL_TIMEOUT_MS = 5_000;
const CONDITION_TIMEOUT_MS = 120_000;

describe('the trim floor of a standby group on processes', () => {
  let mesh: DaemonCluster | undefined;
  const kv = new Map<number, RawKvClient>();
  afterEach(async () => {
    for (const client of kv.values()) client.close();
    kv.clear();
    await mesh?.stop();
  });

  it('3 nodes, 4 senders: segments below the floor dropped on every replica; a killed standby holds it and replays from its checkpoint; kill -9 of the active loses and doubles nothing', async () => {
    const started = await startDaemonCluster(3, {
      nodeArguments: [
        '--daemon-checkpoint-events',
        String(CHECKPOINT_EVERY_EVENTS),
        '--chain-segment-bytes',
        String(SEGMENT_BYTES),
        '--daemon-repair-grace-ms',
        String(REPAIR_GRACE_MS),
        '--chain-repair-grace-ms',
        String(REPAIR_GRACE_MS),
      ],
    });
    mesh = started;
    const { cluster, ids } = started;
    for (const plan of cluster.plans) kv.set(plan.id, new RawKvClient(plan.client));
    const down = new Set<number>();
    const up = () => ids.filter((id) => !down.has(id));

    /** An offset key of the trim floor, read through the first live node that answers (undefined: absent). */
    const offsetAt = async (key: string): Promise<number | undefined> => {
      for (const id of up()) {
        const value = await kv
          .get(id)!
          .get(`${DEFAULT_CONTROL_ROOT}${key}`, CALL_TIMEOUT_MS)
          .catch(() => undefined);
        if (value === undefined) continue;
        return value === null ? undefined : decodeTrimOffset(new TextEncoder().encode(value));
      }
      return undefined;
    };
    const floor = async (): Promise<number> => (await offsetAt(trimFloorKey(CHAIN))) ?? 0;
    const checkpointOf = (node: number) => offsetAt(trimCheckpointKey(CHAIN, node));
    /** The first offsets of node `id`'s segment files of the inbound chain, in order (its disk). */
    const segmentStarts = (id: number): number[] => {
      const directory = path.join(cluster.plan(id).data, 'chains', encodeURIComponent(CHAIN));
      let names: string[];
      try {
        names = readdirSync(directory);
      } catch {
        return [];
      }
      return names
        .map((name) => parseSegmentFileName(name))
        .filter((offset): offset is number => offset !== undefined)
        .sort((a, b) => a - b);
    };
    const oldestRetained = (id: number): number => segmentStarts(id)[0] ?? 0;
    const describeSegments = async () =>
      `floor ${await floor()}; oldest retained ${ids.map((id) => `n${id}=${oldestRetained(id)} (${segmentStarts(id).length} segments)`).join(', ')}`;
    const statusOf = () => started.statusVia(DAEMON, up(), CALL_TIMEOUT_MS);
    const activeOf = (status: RawDaemonStatus) =>
      status.members.find((member) => member.role === 'ROLE_ACTIVE');

    const deployed = await started.deploy(ids[0]!, DAEMON, 'journal', 'GROUP_STANDBY', 3, CALL_TIMEOUT_MS);
    const memberNodes = deployed.members.map((member) => member.node);
    expect(new Set(memberNodes)).toEqual(new Set(ids));
    const senders = new DaemonSenders({
      endpoints: cluster.clientEndpoints,
      daemon: DAEMON,
      senders: SENDERS,
      maxSendsPerSender: MAX_SENDS_PER_SENDER,
      maxDurationMs: LOAD_MAX_MS,
      sendTimeoutMs: SEND_TIMEOUT_MS,
    });
    let activeNode: number;
    let lagging: number;
    let laggingCheckpoint: number;
    try {
      // 1. The floor rises and every replica drops its segments below it, none at or above it.
      await until(
        async () =>
          (await floor()) >= 4 * CHECKPOINT_EVERY_EVENTS && ids.every((id) => oldestRetained(id) > 0),
        'the floor above 200 and every replica trimmed',
        CONDITION_TIMEOUT_MS,
      ).catch(async (error: Error) => {
        throw new Error(`${error.message}; ${await describeSegments()}\n${cluster.describeOutput()}`);
      });
      const firstFloor = await floor();
      for (const id of ids) {
        expect(oldestRetained(id)).toBeGreaterThan(0);
        expect(oldestRetained(id)).toBeLessThanOrEqual(firstFloor);
      }
      for (const node of memberNodes) expect(await checkpointOf(node)).toBeGreaterThanOrEqual(firstFloor);
      console.log(`trim floor rose: ${await describeSegments()}`);

      // 2. A standby's node killed: its last published checkpoint holds the floor while the others
      // checkpoint far past it and every live replica runs its retention passes.
      const status = await statusOf();
      activeNode = activeOf(status!)!.node;
      lagging = memberNodes.find((node) => node !== activeNode)!;
      await cluster.kill(lagging);
      down.add(lagging);
      const killedAtMs = Date.now();
      laggingCheckpoint = (await checkpointOf(lagging)) ?? 0;
      expect(laggingCheckpoint).toBeGreaterThanOrEqual(firstFloor);
      await until(
        async () =>
          Date.now() >= killedAtMs + 2 * CHAIN_RETENTION_INTERVAL_MS &&
          ((await checkpointOf(activeNode)) ?? 0) >= laggingCheckpoint + LAG_RECORDS,
        `the active's checkpoint ${LAG_RECORDS} records past the killed standby's and two retention passes`,
        CONDITION_TIMEOUT_MS,
      );
      const heldFloor = await floor();
      expect(heldFloor).toBeLessThanOrEqual(laggingCheckpoint);
      for (const id of up()) expect(oldestRetained(id)).toBeLessThanOrEqual(laggingCheckpoint);
      console.log(
        `node ${lagging} down with checkpoint ${laggingCheckpoint}, the active's at ${await checkpointOf(activeNode)}: ${await describeSegments()}`,
      );

      // Restarted, it restores its checkpoint and replays the chain from there; the floor moves on.
      const endAtRestart = (await statusOf())!.inboundThrough;
      expect(endAtRestart).toBeGreaterThan(laggingCheckpoint + LAG_RECORDS);
      cluster.start(lagging);
      down.delete(lagging);
      await started.awaitStatus(
        DAEMON,
        up(),
        'the restarted standby caught up',
        CONDITION_TIMEOUT_MS,
        (now) =>
          now.members.some(
            (member) => member.node === lagging && member.healthy && member.syncedThrough >= endAtRestart,
          ),
      );
      await until(
        async () =>
          (await floor()) > laggingCheckpoint && ids.every((id) => oldestRetained(id) > laggingCheckpoint),
        "the floor past the restarted standby's old checkpoint, and every replica trimmed past it",
        CONDITION_TIMEOUT_MS,
      ).catch(async (error: Error) => {
        throw new Error(`${error.message}; ${await describeSegments()}\n${cluster.describeOutput()}`);
      });
      console.log(`after the restart: ${await describeSegments()}`);

      // 3. kill -9 of the active under load: a standby is promoted, events are acknowledged again.
      const killedAt = nanosecondsNow();
      await cluster.kill(activeNode);
      down.add(activeNode);
      await started.awaitStatus(DAEMON, up(), 'a standby promoted', CONDITION_TIMEOUT_MS, (now) => {
        const active = activeOf(now);
        return active !== undefined && active.node !== activeNode && active.healthy;
      });
      await senders.awaitAcknowledged(
        ACKS_AFTER_FAULT,
        'events after the kill',
        CONDITION_TIMEOUT_MS,
        killedAt,
      );
    } finally {
      await senders.stop();
    }
    // The killed active, restarted, restores its own checkpoint and replays the chain's tail.
    cluster.start(activeNode);
    down.delete(activeNode);
    console.log(
      `trim floor history (${writeSendHistory('daemons-trim-3-nodes-history.jsonl', senders.operations)})`,
    );
    await started.awaitStatus(DAEMON, ids, 'every member synced', CONDITION_TIMEOUT_MS, everyMemberSynced);
    const final = (await statusOf())!;
    const journal = await journalOf(started.client(activeOf(final)!.node), DAEMON);
    await expectEveryEventOnce(started.client(activeOf(final)!.node), DAEMON, senders.operations, journal);
    for (const member of final.members) {
      const memberJournal = await eventually(`member ${member.index}'s journal`, async () => {
        const read = await journalOf(started.client(member.node), DAEMON, member.index);
        return read.length === journal.length ? read : undefined;
      });
      expect(memberJournal).toEqual(journal);
    }
    console.log(`at the end: ${journal.length} events; ${await describeSegments()}`);
  }, 600_000);
});
