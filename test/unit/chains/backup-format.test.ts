/**
 * The chain backup file: what is written reads back record for record, in chunks of any size,
 * and every kind of damage (digest, truncation, magic, order, trailing bytes) is refused with
 * CHAIN_BACKUP_CORRUPT.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type ChainBackupHeader,
  type ChainBackupItem,
  type ChainBackupRecord,
  checkChainBackup,
  encodeChainBackupEnd,
  encodeChainBackupHeader,
  encodeChainBackupPreamble,
  encodeChainBackupRecords,
  readChainBackup,
} from '../../../src/chains/index.js';
import { isMeshError } from '../../../src/lib/index.js';

const header: ChainBackupHeader = {
  name: 'orders',
  definition: { replicas: 3, acks: 'quorum', sync: { mode: 'interval', intervalMs: 50 }, retention: {} },
  startOffset: 5,
  endOffset: 40,
  savedAtMs: 1_700_000_000_000,
};

function recordsFrom(first: number, count: number, gap = 1): ChainBackupRecord[] {
  return Array.from({ length: count }, (_, index) => ({
    offset: first + index * gap,
    epoch: 2,
    appendedAtMs: 1_700_000_000_000 + index,
    payload: new TextEncoder().encode(`record ${first + index * gap}`),
  }));
}

function backupBytes(
  batches: readonly ChainBackupRecord[][],
  end?: { records: number; nextOffset: number },
): Uint8Array {
  const parts = [encodeChainBackupPreamble(), encodeChainBackupHeader(header)];
  for (const batch of batches) parts.push(encodeChainBackupRecords(batch));
  const all = batches.flat();
  parts.push(
    encodeChainBackupEnd(
      end ?? { records: all.length, nextOffset: (all.at(-1)?.offset ?? header.startOffset - 1) + 1 },
    ),
  );
  const body = Buffer.concat(parts);
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

async function* chunksOf(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let start = 0; start < bytes.length; start += size) yield bytes.subarray(start, start + size);
}

async function readAll(bytes: Uint8Array, chunkBytes = 7): Promise<ChainBackupItem[]> {
  const items: ChainBackupItem[] = [];
  for await (const item of readChainBackup('f', chunksOf(bytes, chunkBytes), createHash('sha256')))
    items.push(item);
  return items;
}

async function corruptProblem(bytes: Uint8Array): Promise<string> {
  try {
    await checkChainBackup('f', chunksOf(bytes, 13), createHash('sha256'));
  } catch (error) {
    if (isMeshError(error, 'CHAIN_BACKUP_CORRUPT')) return String(error.details.problem);
    throw error;
  }
  throw new Error('the file was accepted');
}

describe('chain backup file', () => {
  it('reads back the header and every record in order, whatever the chunk size', async () => {
    // Offsets with gaps, as markers leave them.
    const batches = [recordsFrom(5, 10, 2), recordsFrom(25, 3), recordsFrom(30, 5)];
    for (const chunkBytes of [1, 7, 4096]) {
      const items = await readAll(backupBytes(batches), chunkBytes);
      expect(items[0]).toEqual({ kind: 'header', header });
      const records = items.flatMap((item) => (item.kind === 'records' ? item.records : []));
      expect(
        records.map((record) => ({ ...record, payload: Buffer.from(record.payload).toString() })),
      ).toEqual(
        batches.flat().map((record) => ({ ...record, payload: Buffer.from(record.payload).toString() })),
      );
      expect(items.at(-1)).toEqual({ kind: 'end', end: { records: 18, nextOffset: 35 } });
    }
  });

  it('checks an empty chain', async () => {
    const checked = await checkChainBackup('f', chunksOf(backupBytes([]), 5), createHash('sha256'));
    expect(checked.end).toEqual({ records: 0, nextOffset: 5 });
  });

  it('refuses a changed byte, a cut file, trailing bytes and a foreign file', async () => {
    const good = backupBytes([recordsFrom(5, 10)]);
    const flipped = Uint8Array.from(good);
    // A byte of the last record's payload: every frame still decodes, only the digest tells.
    const inPayload = good.length - 32 - 7 - 2;
    flipped[inPayload] = (flipped[inPayload] as number) ^ 0x01;
    expect(await corruptProblem(flipped)).toMatch(/SHA-256 does not match/);
    expect(await corruptProblem(good.subarray(0, good.length - 1))).toMatch(/SHA-256 is missing/);
    expect(await corruptProblem(good.subarray(0, 50))).toMatch(/ends inside/);
    expect(await corruptProblem(Buffer.concat([good, Buffer.from([0])]))).toMatch(/bytes follow/);
    expect(await corruptProblem(new TextEncoder().encode('not a chain backup at all'))).toMatch(
      /not a MeshOS chain backup/,
    );
  });

  it('refuses a digest that matches but records out of order, out of range or miscounted', async () => {
    expect(await corruptProblem(backupBytes([recordsFrom(10, 3), recordsFrom(9, 1)]))).toMatch(
      /out of order/,
    );
    expect(await corruptProblem(backupBytes([recordsFrom(38, 3)]))).toMatch(/outside \[5, 40\)/);
    expect(await corruptProblem(backupBytes([recordsFrom(5, 3)], { records: 4, nextOffset: 8 }))).toMatch(
      /its end says 4 records/,
    );
  });
});
