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
import { DEFAULT_CHAIN_READ_LIMIT_RECORDS, DEFAULT_CHAIN_READ_MAX_BYTES } from '../../api/index.js';
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
import { isMeshError, MeshError } from '../../lib/index.js';

/** Records and payload bytes of one restoring append (kept below the client port's message limit). */
export const RESTORE_APPEND_RECORDS = 1_000;
export const RESTORE_APPEND_BYTES = 1024 * 1024;
/** A read answering nothing new is asked again after this pause (a replica catching up)... */
const BACKUP_STALLED_READ_PAUSE_MS = 100;
/** ...for at most this long in a row before the backup fails. */
const BACKUP_STALL_LIMIT_MS = 30_000;
/** Chunks of the file as a restore reads it. */
const RESTORE_READ_CHUNK_BYTES = 256 * 1024;

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

export class ChainBackupStalledError extends MeshError {
  constructor(name: string, offset: number, endOffset: number) {
    super(
      'CHAIN_BACKUP_STALLED',
      `chain ${name}: no committed record past offset ${offset} came within ${BACKUP_STALL_LIMIT_MS} ms (the backup's end is ${endOffset})`,
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
  let offset = header.startOffset;
  // One past the last record written (the read position runs past markers, the file's end does not).
  let recordsEnd = header.startOffset;
  try {
    await write(encodeChainBackupPreamble());
    await write(encodeChainBackupHeader(header));
    let stalledSinceMs: number | undefined;
    while (offset < header.endOffset) {
      const answer = await client.chains.read(name, {
        fromOffset: offset,
        // The node's read defaults; one frame of the file each.
        limit: DEFAULT_CHAIN_READ_LIMIT_RECORDS,
        maxBytes: DEFAULT_CHAIN_READ_MAX_BYTES,
      });
      const batch = answer.records.filter((record) => record.offset < header.endOffset);
      if (batch.length > 0) {
        await write(encodeChainBackupRecords(batch));
        records += batch.length;
        recordsEnd = (batch.at(-1)?.offset ?? recordsEnd - 1) + 1;
      }
      if (answer.nextOffset > offset) {
        offset = answer.nextOffset;
        stalledSinceMs = undefined;
        continue;
      }
      // The replica that answered has not yet committed up to the end the status gave.
      stalledSinceMs ??= Date.now();
      if (Date.now() - stalledSinceMs > BACKUP_STALL_LIMIT_MS)
        throw new ChainBackupStalledError(name, offset, header.endOffset);
      await new Promise((resolve) => setTimeout(resolve, BACKUP_STALLED_READ_PAUSE_MS));
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
  const created = await prepareTarget(client, name, header);
  let records = 0;
  let firstOffset: number | undefined;
  let lastOffset: number | undefined;
  let payloads: Uint8Array[] = [];
  let payloadBytes = 0;
  const flush = async (): Promise<void> => {
    if (payloads.length === 0) return;
    const result = await client.chains.append(name, payloads);
    firstOffset ??= result.firstOffset;
    lastOffset = result.lastOffset;
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

/** Creates the chain when absent (true); refuses one that holds records. */
async function prepareTarget(client: MeshClient, name: string, header: ChainBackupHeader): Promise<boolean> {
  try {
    const status = await client.chains.status(name);
    const first = await client.chains.read(name, { fromOffset: status.startOffset, limit: 1 });
    if (first.records.length > 0) throw new ChainRestoreTargetNotEmptyError(name, status.startOffset);
    return false;
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
  return true;
}
