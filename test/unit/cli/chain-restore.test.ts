/**
 * `meshos chain restore` when an append's outcome is unknown (a leader change under it, seen in
 * the chain-backup cluster test): the restore waits for the chain's leader to settle the append,
 * counts what the chain kept of it, and sends only the rest, so the target ends with the backup's
 * records once each, in order. A fake chains client stands in for the cluster: it can keep a
 * whole batch, a prefix of it or none before answering "outcome unknown".
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChainStatus } from '../../../src/api/index.js';
import {
  type ChainBackupHeader,
  encodeChainBackupEnd,
  encodeChainBackupHeader,
  encodeChainBackupPreamble,
  encodeChainBackupRecords,
} from '../../../src/chains/index.js';
import { RESTORE_APPEND_RECORDS, restoreChain } from '../../../src/cli/commands/chain-backup.js';
import type { MeshClient } from '../../../src/client/index.js';
import { isMeshError, MeshError } from '../../../src/lib/index.js';

const RECORDS = 2 * RESTORE_APPEND_RECORDS + 500;

const header: ChainBackupHeader = {
  name: 'orders',
  definition: { replicas: 3, acks: 'quorum', sync: { mode: 'batch' }, retention: {} },
  startOffset: 1,
  endOffset: RECORDS + 1,
  savedAtMs: 1_700_000_000_000,
};

function payloadOf(index: number): Uint8Array {
  return new TextEncoder().encode(`record ${index}`);
}

async function backupFile(directory: string): Promise<string> {
  const records = Array.from({ length: RECORDS }, (_, index) => ({
    offset: index + 1,
    epoch: 1,
    appendedAtMs: 1_700_000_000_000 + index,
    payload: payloadOf(index),
  }));
  const body = Buffer.concat([
    encodeChainBackupPreamble(),
    encodeChainBackupHeader(header),
    encodeChainBackupRecords(records.slice(0, 700)),
    encodeChainBackupRecords(records.slice(700)),
    encodeChainBackupEnd({ records: RECORDS, nextOffset: RECORDS + 1 }),
  ]);
  const file = path.join(directory, 'orders.chain');
  await writeFile(file, Buffer.concat([body, createHash('sha256').update(body).digest()]));
  return file;
}

/** What an append of unknown outcome leaves in the chain: all of it, the first `n`, or nothing. */
type Kept = 'all' | 'none' | number;

/**
 * One chain as its leader would show it: an epoch-start marker per epoch, data records after it.
 * `unknownOutcomes` scripts the appends (by call number) that keep `Kept` and then fail; such an
 * append also starts a new epoch, whose marker commits only after `settleAfterPolls` status calls.
 */
class FakeChain {
  readonly log: { offset: number; kind: 'data' | 'epoch-start'; payload: Uint8Array }[] = [];
  epoch = 0;
  epochStartOffset = 0;
  committed = 0;
  appends = 0;
  statusCalls = 0;
  /** Reads still to be answered by a replica that has not committed anything new (nothing, same offset). */
  laggingReads = 0;
  private unsettledPolls = 0;

  constructor(
    private readonly unknownOutcomes: ReadonlyMap<number, Kept>,
    private readonly settleAfterPolls = 3,
  ) {
    this.startEpoch();
    this.committed = this.log.length;
  }

  private startEpoch(): void {
    this.epoch++;
    this.epochStartOffset = this.log.length;
    this.log.push({ offset: this.log.length, kind: 'epoch-start', payload: new Uint8Array() });
  }

  append(payloads: readonly Uint8Array[]) {
    this.appends++;
    const kept = this.unknownOutcomes.get(this.appends);
    if (kept !== undefined) {
      const count = kept === 'all' ? payloads.length : kept === 'none' ? 0 : kept;
      for (const payload of payloads.slice(0, count))
        this.log.push({ offset: this.log.length, kind: 'data', payload });
      this.startEpoch();
      this.unsettledPolls = this.settleAfterPolls;
      throw new MeshError('CHAIN_APPEND_OUTCOME_UNKNOWN', 'the leader changed under the append');
    }
    const firstOffset = this.log.length;
    for (const payload of payloads) this.log.push({ offset: this.log.length, kind: 'data', payload });
    this.committed = this.log.length;
    return { epoch: this.epoch, firstOffset, lastOffset: this.log.length - 1 };
  }

  status(): ChainStatus {
    this.statusCalls++;
    if (this.unsettledPolls > 0 && --this.unsettledPolls === 0) this.committed = this.log.length;
    const end = this.log.length;
    return {
      name: header.name,
      epoch: this.epoch,
      leader: 1,
      acks: 'quorum',
      replicas: [1, 2, 3].map((node) => ({ node, offset: end, lag: 0, healthy: true })),
      commitOffset: this.committed,
      startOffset: 0,
      epochStartOffset: this.epochStartOffset,
    };
  }

  read(fromOffset: number, limit: number) {
    if (this.laggingReads > 0) {
      this.laggingReads--;
      return { records: [], nextOffset: fromOffset, commitOffset: fromOffset };
    }
    const records = this.log
      .slice(fromOffset, this.committed)
      .filter((record) => record.kind === 'data')
      .slice(0, limit)
      .map((record) => ({
        offset: record.offset,
        epoch: this.epoch,
        appendedAtMs: 0,
        payload: record.payload,
      }));
    const nextOffset =
      records.length === 0 ? Math.max(fromOffset, this.committed) : (records.at(-1)?.offset ?? 0) + 1;
    return { records, nextOffset, commitOffset: this.committed };
  }

  dataPayloads(): string[] {
    return this.log
      .filter((record) => record.kind === 'data')
      .map((record) => new TextDecoder().decode(record.payload));
  }
}

function clientOf(chain: FakeChain): MeshClient {
  let exists = false;
  const chains = {
    status: async () => {
      if (!exists) throw new MeshError('CHAIN_NOT_FOUND', 'no such chain');
      return chain.status();
    },
    read: async (_name: string, options: { fromOffset?: number; limit?: number } = {}) =>
      chain.read(options.fromOffset ?? 0, options.limit ?? 100),
    create: async () => {
      exists = true;
    },
    append: async (_name: string, payloads: readonly Uint8Array[]) => chain.append(payloads),
  };
  return { chains } as unknown as MeshClient;
}

const expected = Array.from({ length: RECORDS }, (_, index) => `record ${index}`);
let directory: string | undefined;

afterEach(async () => {
  if (directory !== undefined) await rm(directory, { recursive: true, force: true });
  directory = undefined;
});

async function restoreWith(unknownOutcomes: Map<number, Kept>, laggingReads = 0) {
  directory = await mkdtemp(path.join(tmpdir(), 'meshos-chain-restore-'));
  const chain = new FakeChain(unknownOutcomes);
  const statusOf = chain.status.bind(chain);
  // The reads after the chain settles first meet a replica that lags the leader's commit offset.
  chain.status = () => {
    const status = statusOf();
    if (status.commitOffset > status.epochStartOffset! && chain.epoch > 1 && laggingReads > 0) {
      chain.laggingReads = laggingReads;
      laggingReads = 0;
    }
    return status;
  };
  const summary = await restoreChain(clientOf(chain), await backupFile(directory));
  return { chain, summary };
}

describe('chain restore after an append of unknown outcome', () => {
  it.each<[string, Kept]>([
    ['kept whole', 'all'],
    ['dropped', 'none'],
    ['kept in part', 137],
  ])('sends only what the chain did not keep when the batch was %s', async (_label, kept) => {
    const { chain, summary } = await restoreWith(new Map([[2, kept]]));
    expect(chain.dataPayloads()).toEqual(expected);
    expect(summary.records).toBe(RECORDS);
    // It waited for the new epoch's marker to commit before counting.
    expect(chain.statusCalls).toBeGreaterThanOrEqual(3);
    const offsets = chain.log.filter((record) => record.kind === 'data').map((record) => record.offset);
    expect(summary.firstOffset).toBe(offsets[0]);
    expect(summary.lastOffset).toBe(offsets.at(-1));
  });

  it('counts what was kept only once a lagging replica has caught up with the leader', async () => {
    const { chain } = await restoreWith(new Map<number, Kept>([[2, 'all']]), 3);
    expect(chain.laggingReads).toBe(0);
    expect(chain.dataPayloads()).toEqual(expected);
  });

  it('survives the first batch and a resent rest both ending unknown', async () => {
    const { chain } = await restoreWith(
      new Map<number, Kept>([
        [1, 400],
        [2, 'none'],
        [4, 'all'],
      ]),
    );
    expect(chain.dataPayloads()).toEqual(expected);
  });

  it('gives up with the unknown outcome after repeated failures of one batch, having written nothing twice', async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'meshos-chain-restore-'));
    const chain = new FakeChain(
      new Map<number, Kept>(Array.from({ length: 8 }, (_, index) => [index + 2, 1])),
    );
    const attempt = restoreChain(clientOf(chain), await backupFile(directory));
    await expect(attempt).rejects.toSatisfy((error: unknown) =>
      isMeshError(error, 'CHAIN_APPEND_OUTCOME_UNKNOWN'),
    );
    const written = chain.dataPayloads();
    expect(written.length).toBeGreaterThan(RESTORE_APPEND_RECORDS);
    expect(written).toEqual(expected.slice(0, written.length));
  });
});
