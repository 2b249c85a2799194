/**
 * `meshos chain backup NAME FILE` / `chain backup --all DIR` / `chain restore FILE [--name NEW]`:
 * a chain's definition and committed records through the client API, in the file format of
 * `src/chains/backup-format.ts` (docs/OPERATIONS.md "Chains"). Both directions stream: a backup
 * writes each read's answer before the next read, a restore checks the whole file in bounded
 * steps first and then appends one batch at a time, waiting for each to be acknowledged.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename } from 'node:fs/promises';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import {
  type ChainRecord,
  type ChainStatus,
  DEFAULT_CHAIN_READ_LIMIT_RECORDS,
  DEFAULT_CHAIN_READ_MAX_BYTES,
} from '../../api/index.js';
import {
  type ChainBackupHeader,
  ChainNotFoundError,
  ChainRestoreTargetNotEmptyError,
  checkChainBackup,
  decodeChainDefinition,
  encodeChainBackupEnd,
  encodeChainBackupHeader,
  encodeChainBackupPreamble,
  encodeChainBackupRecords,
  readChainBackup,
} from '../../chains/index.js';
import type { MeshClient } from '../../client/index.js';
import { chainKey, DEFAULT_CONTROL_ROOT } from '../../control/index.js';
import { assert, isMeshError, MeshError } from '../../lib/index.js';

/** Records and payload bytes of one restoring append (kept below the client port's message limit). */
export const RESTORE_APPEND_RECORDS = 1_000;
export const RESTORE_APPEND_BYTES = 1024 * 1024;
/** A read answering nothing new is asked again after this pause (a replica catching up)... */
const BACKUP_STALLED_READ_PAUSE_MS = 100;
/** ...for at most this long in a row before the backup fails. */
const BACKUP_STALL_LIMIT_MS = 30_000;
/** Chunks of the file as a restore reads it. */
const RESTORE_READ_CHUNK_BYTES = 256 * 1024;
/** Appends of one batch answered with an unknown outcome before a restore gives up. */
const RESTORE_UNKNOWN_OUTCOMES_LIMIT = 5;
/** How long a restore waits for the chain's leader to settle an append of unknown outcome... */
const RESTORE_SETTLE_LIMIT_MS = 60_000;
/** ...asking its status this often. */
const RESTORE_SETTLE_POLL_MS = 100;

export interface ChainBackupSummary {
  readonly name: string;
  readonly file: string;
  readonly startOffset: number;
  readonly endOffset: number;
  readonly records: number;
  readonly bytes: number;
}

export interface ChainRestoreSummary {
  readonly name: string;
  readonly file: string;
  readonly created: boolean;
  readonly records: number;
  /** Offsets the restored records got in the target chain (undefined when none were restored). */
  readonly firstOffset?: number;
  readonly lastOffset?: number;
  /** Offsets the same records had in the backed-up chain. */
  readonly sourceStartOffset: number;
  readonly sourceEndOffset: number;
}

/**
 * The committed records of chain `name` in [fromOffset, endOffset), read by read (the node's read
 * defaults), each read's batch as it comes. A replica that has not yet committed up to
 * `endOffset` (any replica may answer a read) is asked again after a pause, for at most
 * `BACKUP_STALL_LIMIT_MS` in a row (`CHAIN_BACKUP_STALLED`).
 */
async function* committedRecords(
  client: MeshClient,
  name: string,
  fromOffset: number,
  endOffset: number,
): AsyncGenerator<ChainRecord[]> {
  let offset = fromOffset;
  let stalledSinceMs: number | undefined;
  while (offset < endOffset) {
    const answer = await client.chains.read(name, {
      fromOffset: offset,
      limit: DEFAULT_CHAIN_READ_LIMIT_RECORDS,
      maxBytes: DEFAULT_CHAIN_READ_MAX_BYTES,
    });
    const batch = answer.records.filter((record) => record.offset < endOffset);
    if (batch.length > 0) yield batch;
    if (answer.nextOffset > offset) {
      offset = answer.nextOffset;
      stalledSinceMs = undefined;
      continue;
    }
    stalledSinceMs ??= Date.now();
    if (Date.now() - stalledSinceMs > BACKUP_STALL_LIMIT_MS)
      throw new ChainBackupStalledError(name, offset, endOffset);
    await delay(BACKUP_STALLED_READ_PAUSE_MS);
  }
}

export class ChainBackupStalledError extends MeshError {
  constructor(name: string, offset: number, endOffset: number) {
    super(
      'CHAIN_BACKUP_STALLED',
      `chain ${name}: no committed record past offset ${offset} came within ${BACKUP_STALL_LIMIT_MS} ms (reading up to offset ${endOffset})`,
      { details: { name, offset, endOffset } },
    );
  }
}

/** The definition as the control plane holds it, read through the KV API. */
async function chainDefinition(client: MeshClient, name: string) {
  const key = chainKey(name);
  const entry = await client.get(`${DEFAULT_CONTROL_ROOT}${key}`);
  if (entry === undefined) throw new ChainNotFoundError(name);
  return decodeChainDefinition(key, entry.value);
}

/**
 * Writes chain `name` to `file` (through `file.part`, synced, then renamed): its definition, then
 * every committed record from its first retained offset up to the commit offset the status
 * answered when the backup began. Records appended meanwhile are left for the next backup.
 */
export async function backupChain(
  client: MeshClient,
  name: string,
  file: string,
): Promise<ChainBackupSummary> {
  const status = await client.chains.status(name);
  const definition = await chainDefinition(client, name);
  const header: ChainBackupHeader = {
    name,
    definition: {
      replicas: definition.replicas.length,
      acks: definition.acks,
      sync: definition.sync,
      retention: definition.retention,
      ...(definition.maxRecordBytes === undefined ? {} : { maxRecordBytes: definition.maxRecordBytes }),
    },
    startOffset: status.startOffset,
    endOffset: Math.max(status.startOffset, status.commitOffset),
    savedAtMs: Date.now(),
  };
  const partial = `${file}.part`;
  const handle = await open(partial, 'w', 0o600);
  const digest = createHash('sha256');
  let bytes = 0;
  const write = async (chunk: Uint8Array): Promise<void> => {
    digest.update(chunk);
    bytes += chunk.length;
    await handle.write(chunk);
  };
  let records = 0;
  // One past the last record written (the read position runs past markers, the file's end does not).
  let recordsEnd = header.startOffset;
  try {
    await write(encodeChainBackupPreamble());
    await write(encodeChainBackupHeader(header));
    // One frame of the file per read.
    for await (const batch of committedRecords(client, name, header.startOffset, header.endOffset)) {
      await write(encodeChainBackupRecords(batch));
      records += batch.length;
      recordsEnd = (batch.at(-1)?.offset ?? recordsEnd - 1) + 1;
    }
    await write(encodeChainBackupEnd({ records, nextOffset: recordsEnd }));
    const sum = digest.digest();
    bytes += sum.length;
    await handle.write(sum);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(partial, file);
  return { name, file, startOffset: header.startOffset, endOffset: header.endOffset, records, bytes };
}

/** Every chain into `directory`, one `<name>.chain` file each, one after another. */
export async function backupAllChains(client: MeshClient, directory: string): Promise<ChainBackupSummary[]> {
  await mkdir(directory, { recursive: true });
  const summaries: ChainBackupSummary[] = [];
  for (const chain of await client.chains.list()) {
    summaries.push(await backupChain(client, chain.name, path.join(directory, `${chain.name}.chain`)));
  }
  return summaries;
}

function fileChunks(file: string): AsyncIterable<Uint8Array> {
  return createReadStream(file, { highWaterMark: RESTORE_READ_CHUNK_BYTES });
}

/** Checks `file` through to its SHA-256 without a cluster: its header and record count. */
export function inspectChainBackup(file: string) {
  return checkChainBackup(file, fileChunks(file), createHash('sha256'));
}

/**
 * Restores `file` into chain `as` (default: its own name). The file is checked through once
 * first, so a corrupt file changes nothing. An absent chain is created with the file's
 * definition; an existing one must hold no records (CHAIN_RESTORE_TARGET_NOT_EMPTY) and keeps its
 * own definition. Records are appended in the file's order, one batch at a time.
 */
export async function restoreChain(
  client: MeshClient,
  file: string,
  as?: string,
): Promise<ChainRestoreSummary> {
  const { header } = await inspectChainBackup(file);
  const name = as ?? header.name;
  const { created, startOffset } = await prepareTarget(client, name, header);
  let records = 0;
  let firstOffset: number | undefined;
  let lastOffset: number | undefined;
  let payloads: Uint8Array[] = [];
  let payloadBytes = 0;
  const flush = async (): Promise<void> => {
    let sent = 0;
    for (let unknownOutcomes = 0; sent < payloads.length; ) {
      try {
        const result = await client.chains.append(name, sent === 0 ? payloads : payloads.slice(sent));
        firstOffset ??= result.firstOffset;
        lastOffset = result.lastOffset;
        sent = payloads.length;
      } catch (error) {
        if (
          !isMeshError(error, 'CHAIN_APPEND_OUTCOME_UNKNOWN') ||
          ++unknownOutcomes > RESTORE_UNKNOWN_OUTCOMES_LIMIT
        )
          throw error;
        // The target is restore's alone: what it holds past the last acknowledged record is a
        // prefix of this batch. Resend only the rest, so nothing is lost or written twice.
        const landed = await recordsLanded(
          client,
          name,
          lastOffset === undefined ? startOffset : lastOffset + 1,
        );
        if (landed === undefined) throw error;
        assert(
          sent + landed.count <= payloads.length,
          () => `chain ${name} holds more records than restore sent`,
        );
        if (landed.count > 0) {
          firstOffset ??= landed.firstOffset;
          lastOffset = landed.lastOffset;
          sent += landed.count;
        }
      }
    }
    records += payloads.length;
    payloads = [];
    payloadBytes = 0;
  };
  for await (const item of readChainBackup(file, fileChunks(file), createHash('sha256'))) {
    if (item.kind !== 'records') continue;
    for (const record of item.records) {
      if (
        payloads.length >= RESTORE_APPEND_RECORDS ||
        (payloads.length > 0 && payloadBytes + record.payload.length > RESTORE_APPEND_BYTES)
      )
        await flush();
      payloads.push(record.payload);
      payloadBytes += record.payload.length;
    }
  }
  await flush();
  return {
    name,
    file,
    created,
    records,
    ...(firstOffset === undefined ? {} : { firstOffset }),
    ...(lastOffset === undefined ? {} : { lastOffset }),
    sourceStartOffset: header.startOffset,
    sourceEndOffset: header.endOffset,
  };
}

/**
 * After an append whose outcome is unknown, once the chain's leader has settled it: how many of its
 * records the chain holds from `fromOffset` (the offset after the last acknowledged record), and
 * where they are. Settled means the leader's epoch-start marker is committed (every record of an
 * earlier epoch is then kept and committed, or dropped for good) and its log holds nothing past
 * the commit offset (no append still waiting). Undefined when that is not seen in time.
 */
async function recordsLanded(
  client: MeshClient,
  name: string,
  fromOffset: number,
): Promise<{ count: number; firstOffset?: number; lastOffset?: number } | undefined> {
  const deadlineAtMs = Date.now() + RESTORE_SETTLE_LIMIT_MS;
  while (Date.now() < deadlineAtMs) {
    const status = await client.chains.status(name).catch(() => undefined);
    if (status !== undefined && settled(status)) {
      let count = 0;
      let firstOffset: number | undefined;
      let lastOffset: number | undefined;
      // Up to the leader's commit offset, waiting for a replica that lags it: stopping at an empty
      // answer would count too few and send records twice.
      for await (const batch of committedRecords(client, name, fromOffset, status.commitOffset)) {
        count += batch.length;
        firstOffset ??= batch[0]?.offset;
        lastOffset = batch.at(-1)?.offset;
      }
      return {
        count,
        ...(firstOffset === undefined ? {} : { firstOffset }),
        ...(lastOffset === undefined ? {} : { lastOffset }),
      };
    }
    await delay(RESTORE_SETTLE_POLL_MS);
  }
  return undefined;
}

function settled(status: ChainStatus): boolean {
  const { epochStartOffset, commitOffset } = status;
  return (
    epochStartOffset !== undefined &&
    commitOffset > epochStartOffset &&
    status.replicas.every((replica) => replica.offset + replica.lag <= commitOffset)
  );
}

/** Creates the chain when absent; refuses one that holds records. Where its records will start. */
async function prepareTarget(
  client: MeshClient,
  name: string,
  header: ChainBackupHeader,
): Promise<{ created: boolean; startOffset: number }> {
  try {
    const status = await client.chains.status(name);
    const first = await client.chains.read(name, { fromOffset: status.startOffset, limit: 1 });
    if (first.records.length > 0) throw new ChainRestoreTargetNotEmptyError(name, status.startOffset);
    return { created: false, startOffset: status.startOffset };
  } catch (error) {
    if (!isMeshError(error, 'CHAIN_NOT_FOUND')) throw error;
  }
  const { definition } = header;
  await client.chains.create(name, {
    replicas: definition.replicas,
    acks: definition.acks,
    sync: definition.sync,
    ...(Object.keys(definition.retention).length === 0 ? {} : { retention: definition.retention }),
    ...(definition.maxRecordBytes === undefined ? {} : { maxRecordBytes: definition.maxRecordBytes }),
  });
  return { created: true, startOffset: 0 };
}
