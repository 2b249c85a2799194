/**
 * Chain backup and restore across real processes: a chain on a 3-node cluster, appended to before
 * and during `meshos chain backup`, is restored with `meshos chain restore` into a fresh 3-node
 * cluster, where every record below the backup's end offset reads back byte for byte in order and
 * with the chain's definition; a corrupted file and a restore into a chain that holds records are
 * refused, changing nothing.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ChainBackupHeader } from '../../src/chains/index.js';
import { MeshClient } from '../../src/client/index.js';
import { isMeshError } from '../../src/lib/index.js';
import { until } from '../support/until.js';
import { CONDITION_TIMEOUT_MS, eventually } from './chain-cluster.js';
import { exitCode, meshos, runMeshos } from './meshos-process.js';
import { ProcessCluster } from './process-cluster.js';

const LEADER_TIMEOUT_MS = 60_000;
const CLI_TIMEOUT_MS = 120_000;
const APPEND_TIMEOUT_MS = 10_000;
/** Records appended before the backup, in batches of this many. */
const RECORDS_BEFORE_BACKUP = 2_400;
const BATCH_RECORDS = 40;
/** Concurrent appenders during the backup, each bounded in count and time. */
const APPENDERS = 3;
const MAX_APPENDS_PER_APPENDER = 400;
const MAX_APPEND_LOAD_MS = 120_000;
/** Acknowledged concurrent appends wanted before the backup starts (so it runs under load). */
const CONCURRENT_BEFORE_BACKUP = 20;
const TEST_TIMEOUT_MS = 600_000;

/** A payload per index, with bytes that are not UTF-8 so the copy is checked byte for byte. */
function payloadOf(label: string, index: number): Uint8Array {
  return Buffer.concat([Buffer.from(`${label}-${index}:`), Buffer.from([0xff, 0x00, index % 256, 0xfe])]);
}

/** Every committed data record as offset and hex payload, read page by page. */
async function readRecords(
  client: MeshClient,
  chain: string,
): Promise<{ offset: number; payload: string }[]> {
  const records: { offset: number; payload: string }[] = [];
  const status = await client.chains.status(chain);
  let offset = status.startOffset;
  for (;;) {
    const page = await client.chains.read(chain, { fromOffset: offset });
    for (const record of page.records)
      records.push({ offset: record.offset, payload: Buffer.from(record.payload).toString('hex') });
    if (page.nextOffset === offset) return records;
    offset = page.nextOffset;
  }
}

/** Appends `payload` until acknowledged, retrying only what was certainly not written. */
async function appendSurely(client: MeshClient, chain: string, payloads: Uint8Array[]): Promise<void> {
  await eventually(`append to ${chain}`, async () => {
    try {
      await client.chains.append(chain, payloads, { timeoutMs: APPEND_TIMEOUT_MS });
      return true;
    } catch (error) {
      if (
        isMeshError(error) &&
        ['CHAIN_NOT_LEADER', 'CHAIN_UNAVAILABLE', 'CHAIN_OVERLOADED'].includes(error.code)
      )
        return undefined;
      throw error;
    }
  });
}

/** Appenders that go on until stopped (or their bounds), each append's acknowledged offset kept. */
class ConcurrentAppends {
  readonly acknowledged: { offset: number; payload: string }[] = [];
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(client: MeshClient, chain: string) {
    const deadline = Date.now() + MAX_APPEND_LOAD_MS;
    this.loops = Array.from({ length: APPENDERS }, async (_, appender) => {
      for (
        let count = 0;
        this.running && count < MAX_APPENDS_PER_APPENDER && Date.now() < deadline;
        count++
      ) {
        const payload = payloadOf(`during-${appender}`, count);
        try {
          const result = await client.chains.append(chain, payload, { timeoutMs: APPEND_TIMEOUT_MS });
          this.acknowledged.push({
            offset: result.firstOffset,
            payload: Buffer.from(payload).toString('hex'),
          });
        } catch {
          // Not acknowledged: nothing is asserted about it.
        }
      }
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}

describe('chain backup and restore across 3-node clusters', () => {
  const clusters: ProcessCluster[] = [];
  const clients: MeshClient[] = [];
  let scratch: string | undefined;
  afterAll(async () => {
    for (const client of clients) client.close();
    await Promise.all(clusters.map((cluster) => cluster.stopAll()));
    if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
  });

  it(
    'restores every record below the backup end, in order and byte for byte, into a fresh cluster',
    async () => {
      scratch = await mkdtemp(path.join(os.tmpdir(), 'meshos-chain-backup-'));
      const source = await ProcessCluster.create(3);
      clusters.push(source);
      source.startAll();
      await source.waitForLeader(LEADER_TIMEOUT_MS);
      const sourceClient = await MeshClient.connect({ endpoints: source.clientEndpoints });
      clients.push(sourceClient);

      const created = await runMeshos(
        [
          'chain',
          'create',
          'orders',
          '--replicas',
          '3',
          '--acks',
          'all',
          '--sync',
          'interval:20',
          '--retention-bytes',
          String(64 * 1024 * 1024),
        ],
        source.clientEndpoints.join(','),
        CLI_TIMEOUT_MS,
      );
      expect(created.code, created.output).toBe(0);
      for (let first = 0; first < RECORDS_BEFORE_BACKUP; first += BATCH_RECORDS) {
        const batch = Array.from({ length: BATCH_RECORDS }, (_, index) => payloadOf('before', first + index));
        await appendSurely(sourceClient, 'orders', batch);
      }

      // The backup runs while three appenders go on.
      const load = new ConcurrentAppends(sourceClient, 'orders');
      await until(
        () => load.acknowledged.length >= CONCURRENT_BEFORE_BACKUP,
        'concurrent appends',
        CONDITION_TIMEOUT_MS,
      );
      const file = path.join(scratch, 'orders.chain');
      const backedUp = await runMeshos(
        ['chain', 'backup', 'orders', file],
        source.clientEndpoints.join(','),
        CLI_TIMEOUT_MS,
      );
      expect(backedUp.code, backedUp.output).toBe(0);
      const acknowledgedBeforeBackupEnded = load.acknowledged.length;
      await until(
        () => load.acknowledged.length >= acknowledgedBeforeBackupEnded + CONCURRENT_BEFORE_BACKUP,
        'appends after the backup',
        CONDITION_TIMEOUT_MS,
      );
      await load.stop();

      const inspected = meshos(['chain', 'backup-status', file, '--json']);
      expect(await exitCode(inspected, CLI_TIMEOUT_MS)).toBe(0);
      const header = JSON.parse(inspected.output().trim().split('\n').at(-1) ?? '') as ChainBackupHeader & {
        records: number;
      };
      expect(header).toMatchObject({
        name: 'orders',
        definition: {
          replicas: 3,
          acks: 'all',
          sync: { mode: 'interval', intervalMs: 20 },
          retention: { maxBytes: 64 * 1024 * 1024 },
        },
        startOffset: 0,
      });
      // What the source holds below the backup's end is exactly what the file should carry.
      const sourceRecords = await readRecords(sourceClient, 'orders');
      const expected = sourceRecords.filter((record) => record.offset < header.endOffset);
      expect(header.records).toBe(expected.length);
      expect(expected.length).toBeGreaterThanOrEqual(RECORDS_BEFORE_BACKUP + CONCURRENT_BEFORE_BACKUP);
      // Some concurrent appends were acknowledged after the backup's end and are left out.
      expect(load.acknowledged.some((append) => append.offset >= header.endOffset)).toBe(true);
      for (const append of load.acknowledged.filter((entry) => entry.offset < header.endOffset))
        expect(expected).toContainEqual(append);

      // A fresh cluster: the corrupted copy is refused before anything is created.
      const target = await ProcessCluster.create(3);
      clusters.push(target);
      target.startAll();
      await target.waitForLeader(LEADER_TIMEOUT_MS);
      const targetClient = await MeshClient.connect({ endpoints: target.clientEndpoints });
      clients.push(targetClient);
      const corrupted = path.join(scratch, 'corrupted.chain');
      const bytes = await readFile(file);
      const middle = Math.floor(bytes.length / 2);
      bytes[middle] = (bytes[middle] ?? 0) ^ 0x40;
      await writeFile(corrupted, bytes);
      const refused = await runMeshos(
        ['chain', 'restore', corrupted],
        target.clientEndpoints.join(','),
        CLI_TIMEOUT_MS,
      );
      expect(refused.code, refused.output).toBe(1);
      expect(refused.output).toContain('CHAIN_BACKUP_CORRUPT');
      expect(await targetClient.chains.list()).toEqual([]);

      const restored = await runMeshos(
        ['chain', 'restore', file, '--json'],
        target.clientEndpoints.join(','),
        CLI_TIMEOUT_MS,
      );
      expect(restored.code, restored.output).toBe(0);
      expect(JSON.parse(restored.output.trim().split('\n').at(-1) ?? '')).toMatchObject({
        name: 'orders',
        created: true,
        records: expected.length,
      });
      const restoredRecords = await readRecords(targetClient, 'orders');
      expect(restoredRecords.map((record) => record.payload)).toEqual(
        expected.map((record) => record.payload),
      );
      const status = await targetClient.chains.status('orders');
      expect(status.acks).toBe('all');
      expect(status.replicas).toHaveLength(3);
      const definition = await targetClient.get('/meshos/v1/chains/orders');
      expect(JSON.parse(Buffer.from(definition?.value ?? []).toString('utf8'))).toMatchObject({
        sync: { mode: 'interval', intervalMs: 20 },
        retention: { maxBytes: 64 * 1024 * 1024 },
      });

      // A second restore into the chain, which now holds records, is refused and appends nothing.
      const again = await runMeshos(
        ['chain', 'restore', file],
        target.clientEndpoints.join(','),
        CLI_TIMEOUT_MS,
      );
      expect(again.code, again.output).toBe(1);
      expect(again.output).toContain('CHAIN_RESTORE_TARGET_NOT_EMPTY');
      expect(await readRecords(targetClient, 'orders')).toHaveLength(expected.length);
      console.log(
        `chain backup: ${header.records} records, ${bytes.length} bytes; load average ${os.loadavg()[0]?.toFixed(1)}`,
      );
    },
    TEST_TIMEOUT_MS,
  );
});
