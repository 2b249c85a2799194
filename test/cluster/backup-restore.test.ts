/**
 * Backup and restore across real processes: a 3-node cluster under a bounded put load is backed
 * up with `etcdctl snapshot save`; `etcdctl endpoint hashkv --cluster` agrees on every member once
 * the load stops; `meshos snapshot restore` builds a fresh 3-node cluster (new data directories,
 * ports, certificates and cluster) that serves every put acknowledged at or below the snapshot's
 * revision; a corrupted copy of the file is refused with SNAPSHOT_FILE_CORRUPT.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MeshClient } from '../../src/client/index.js';
import type { SnapshotFileSummary } from '../../src/mesh/index.js';
import { until } from '../support/until.js';
import { etcdctl } from './etcdctl.js';
import { CLUSTER_ID, ProcessCluster } from './process-cluster.js';

const MAIN_SCRIPT = path.resolve('dist/src/cli/main.js');
const LEADER_TIMEOUT_MS = 60_000;
const CLI_TIMEOUT_MS = 60_000;
/** The load: this many clients, each putting keys of its own, bounded in count and time. */
const LOAD_CLIENTS = 4;
const MAX_PUTS_PER_CLIENT = 400;
const MAX_LOAD_MS = 60_000;
/** Puts acknowledged before the snapshot is taken, and after it (the load goes on meanwhile). */
const PUTS_BEFORE_SNAPSHOT = 200;
const PUTS_AFTER_SNAPSHOT = 50;
const PUT_TIMEOUT_MS = 10_000;
/** Two clusters started, a load, six CLI runs: generous for a loaded 2-core machine. */
const TEST_TIMEOUT_MS = 480_000;

interface AcknowledgedPut {
  readonly key: string;
  readonly value: string;
  readonly revision: number;
}

interface CliOutcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `meshos args...` to its end (bounded). */
function meshosCli(args: readonly string[]): Promise<CliOutcome> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [MAIN_SCRIPT, ...args],
      { timeout: CLI_TIMEOUT_MS, env: { ...process.env, MESHOS_LOG: 'warn' } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A bounded put load whose every acknowledged put is kept with the revision it was written at. */
class RecordedPutLoad {
  readonly acknowledged: AcknowledgedPut[] = [];
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(client: MeshClient) {
    const deadline = Date.now() + MAX_LOAD_MS;
    this.loops = Array.from({ length: LOAD_CLIENTS }, async (_, writer) => {
      for (let count = 0; this.running && count < MAX_PUTS_PER_CLIENT && Date.now() < deadline; count++) {
        const key = `backup/${writer}/${String(count).padStart(4, '0')}`;
        const value = `value-${writer}-${count}`;
        try {
          const answer = await client.put(key, value, { timeoutMs: PUT_TIMEOUT_MS });
          this.acknowledged.push({ key, value, revision: answer.header.revision });
        } catch {
          // Unacknowledged: the restored cluster may or may not hold it; nothing is asserted.
        }
      }
    });
  }

  async waitForAcknowledged(count: number, timeoutMs: number): Promise<void> {
    await until(() => this.acknowledged.length >= count, `${count} acknowledged puts`, timeoutMs);
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}

describe('backup and restore of a 3-node cluster', () => {
  const clusters: ProcessCluster[] = [];
  const clients: MeshClient[] = [];
  let scratch: string | undefined;
  afterAll(async () => {
    for (const client of clients) client.close();
    await Promise.all(clusters.map((cluster) => cluster.stopAll()));
    if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
  });

  it(
    'restores into a fresh cluster every put acknowledged at or below the snapshot revision',
    async () => {
      scratch = await mkdtemp(path.join(os.tmpdir(), 'meshos-backup-'));
      const source = await ProcessCluster.create(3);
      clusters.push(source);
      source.startAll();
      await source.waitForLeader(LEADER_TIMEOUT_MS);
      const sourceClient = await MeshClient.connect({ endpoints: source.clientEndpoints });
      clients.push(sourceClient);

      // Backed up under the load, through etcdctl as an etcd user would.
      const load = new RecordedPutLoad(sourceClient);
      await load.waitForAcknowledged(PUTS_BEFORE_SNAPSHOT, MAX_LOAD_MS);
      const file = path.join(scratch, 'backup.db');
      const saveStarted = Date.now();
      // etcdctl takes a snapshot from one endpoint only.
      expect(await etcdctl(source.clientEndpoints.slice(0, 1), ['snapshot', 'save', file])).toContain(
        'Snapshot saved at',
      );
      const saveMs = Date.now() - saveStarted;
      // meshos snapshot save writes the same kind of file, through any endpoints.
      const meshosFile = path.join(scratch, 'meshos-backup.db');
      const meshosSave = await meshosCli([
        'snapshot',
        'save',
        meshosFile,
        '--endpoints',
        source.clientEndpoints.join(','),
      ]);
      expect(meshosSave.code, meshosSave.stderr).toBe(0);
      const afterSave = load.acknowledged.length;
      await load.waitForAcknowledged(afterSave + PUTS_AFTER_SNAPSHOT, MAX_LOAD_MS);
      await load.stop();

      const status = await meshosCli(['snapshot', 'status', file, '--json']);
      expect(status.code, status.stderr).toBe(0);
      const summary = JSON.parse(status.stdout) as SnapshotFileSummary;
      expect(summary.hashChecked).toBe(true);
      const meshosStatus = await meshosCli(['snapshot', 'status', meshosFile, '--json']);
      expect(meshosStatus.code, meshosStatus.stderr).toBe(0);
      // Taken after etcdctl's: it holds at least as much.
      expect((JSON.parse(meshosStatus.stdout) as SnapshotFileSummary).revision).toBeGreaterThanOrEqual(
        summary.revision,
      );
      const covered = load.acknowledged.filter((put) => put.revision <= summary.revision);
      const later = load.acknowledged.filter((put) => put.revision > summary.revision);
      // The snapshot was taken while the load ran: some puts are in it, some came after it.
      expect(covered.length).toBeGreaterThanOrEqual(PUTS_BEFORE_SNAPSHOT);
      expect(later.length).toBeGreaterThan(0);

      // Once the load stops every member reaches one revision and hashes its history alike.
      const finalRevision = Math.max(...load.acknowledged.map((put) => put.revision));
      await until(
        async () => {
          const statuses = await sourceClient.statusAll();
          return statuses.every((entry) => (entry.status?.revision ?? 0) >= finalRevision);
        },
        `every member at revision ${finalRevision}`,
        LEADER_TIMEOUT_MS,
      );
      const hashes = await etcdctl(source.clientEndpoints, [
        'endpoint',
        'hashkv',
        '--cluster',
        `--rev=${finalRevision}`,
      ]);
      const perMember = hashes
        .trim()
        .split('\n')
        .map((line) => line.split(', ')[1]);
      expect(perMember).toHaveLength(3);
      expect(new Set(perMember).size).toBe(1);

      // A corrupted copy is refused, and leaves no data directory behind.
      const corrupted = path.join(scratch, 'corrupted.db');
      const bytes = await readFile(file);
      const middle = Math.floor(bytes.length / 2);
      bytes[middle] = (bytes[middle] ?? 0) ^ 0x40;
      await writeFile(corrupted, bytes);
      const target = await ProcessCluster.create(3);
      clusters.push(target);
      const initialCluster = target.plans.map((plan) => `${plan.id}=${plan.peer}`).join(',');
      const refused = await meshosCli([
        'snapshot',
        'restore',
        corrupted,
        '--data',
        target.plan(1).data,
        '--id',
        '1',
        '--initial-cluster',
        initialCluster,
        '--cluster',
        CLUSTER_ID,
      ]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('SNAPSHOT_FILE_CORRUPT');
      await expect(readFile(path.join(target.plan(1).data, 'node.json'))).rejects.toThrow();

      // Restored member by member, as etcd's restore, into the new cluster's directories.
      const restoreStarted = Date.now();
      for (const plan of target.plans) {
        const restored = await meshosCli([
          'snapshot',
          'restore',
          file,
          '--data',
          plan.data,
          '--id',
          String(plan.id),
          '--initial-cluster',
          initialCluster,
          '--cluster',
          CLUSTER_ID,
          '--json',
        ]);
        expect(restored.code, restored.stderr).toBe(0);
        expect(JSON.parse(restored.stdout)).toMatchObject({ revision: summary.revision, voters: [1, 2, 3] });
      }
      const restoreMs = Date.now() - restoreStarted;
      target.startAll();
      await target.waitForLeader(LEADER_TIMEOUT_MS);
      const targetClient = await MeshClient.connect({ endpoints: target.clientEndpoints });
      clients.push(targetClient);

      const members = await targetClient.members();
      expect(members.map((member) => member.id).sort()).toEqual([1n, 2n, 3n]);
      expect(members.map((member) => member.peerUrls[0]).sort()).toEqual(
        target.plans.map((plan) => `http://${plan.peer}`).sort(),
      );
      const stored = new Map(
        (await targetClient.getPrefix('backup/')).map((kv) => [
          Buffer.from(kv.key).toString('utf8'),
          { value: Buffer.from(kv.value).toString('utf8'), modRevision: kv.modRevision },
        ]),
      );
      for (const put of covered)
        expect(stored.get(put.key)).toEqual({ value: put.value, modRevision: put.revision });
      for (const put of later) expect(stored.has(put.key)).toBe(false);
      // The restored members hash the snapshot's history as the file's status said.
      const restoredHashes = await etcdctl(target.clientEndpoints, [
        'endpoint',
        'hashkv',
        '--cluster',
        `--rev=${summary.revision}`,
      ]);
      for (const line of restoredHashes.trim().split('\n'))
        expect(line.split(', ')[1]).toBe(String(summary.hashKv));
      console.log(
        `backup: ${summary.keys} keys, ${summary.fileBytes} bytes; etcdctl snapshot save ${saveMs} ms, 3 restores ${restoreMs} ms, load average ${os.loadavg()[0]?.toFixed(1)}`,
      );
    },
    TEST_TIMEOUT_MS,
  );
});
