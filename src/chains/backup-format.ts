/**
 * The chain backup file (`meshos chain backup` / `restore`, docs/OPERATIONS.md): a chain's
 * definition and its committed records from its first retained offset to the end recorded when the
 * backup began, written and read in bounded frames so neither side holds the chain in memory.
 *
 * Layout: u32 magic `MCBK`, u32 version; then frames, each a u32 length and that many bytes whose
 * first byte is the frame's kind: one `header` (UTF-8 JSON, `ChainBackupHeader`), any number of
 * `records` (varuint count, then per record varuints offset, epoch, appendedAtMs and the payload
 * with its length), one `end` (varuints record count and the offset after the last record); then
 * the SHA-256 of every byte before it (32 bytes), as the KV snapshot file ends with its own.
 * Pure: the digest is handed in, the bytes come from any async iterable.
 */
import { BinaryReader, BinaryWriter, InputProblems, isRecord, MeshError } from '../lib/index.js';
import {
  ACKS_POLICIES,
  checkChainName,
  checkMaxRecordBytes,
  checkOnlyFields,
  checkRetention,
  checkSyncPolicy,
} from './definition-fields.js';
import { MAX_CHAIN_RECORD_BYTES } from './definition-limits.js';
import type { AcksPolicy, ChainRetention, ChainSyncPolicy } from './types.js';

export const CHAIN_BACKUP_MAGIC = 0x4d43424b; // 'MCBK'
export const CHAIN_BACKUP_VERSION = 1;
export const CHAIN_BACKUP_DIGEST_BYTES = 32;
/** A frame's body at most: a read answers at most 4 MiB of payloads, framed with a little more. */
export const MAX_CHAIN_BACKUP_FRAME_BYTES = 16 * 1024 * 1024;
const FRAME_LENGTH_BYTES = 4;
const PREAMBLE_BYTES = 8;

const FRAME_HEADER = 1;
const FRAME_RECORDS = 2;
const FRAME_END = 3;

/** What a restore needs to create the chain again: its policies and how many replicas. */
export interface ChainBackupDefinition {
  readonly replicas: number;
  readonly acks: AcksPolicy;
  readonly sync: ChainSyncPolicy;
  readonly retention: ChainRetention;
  readonly maxRecordBytes?: number;
}

export interface ChainBackupHeader {
  readonly name: string;
  readonly definition: ChainBackupDefinition;
  /** The chain's first retained offset when the backup began (above 0 once trimmed). */
  readonly startOffset: number;
  /** The commit offset when the backup began: the file holds every data record below it. */
  readonly endOffset: number;
  readonly savedAtMs: number;
}

/** A record as the file keeps it: the offset, epoch and time it had in the backed-up chain. */
export interface ChainBackupRecord {
  readonly offset: number;
  readonly epoch: number;
  readonly appendedAtMs: number;
  readonly payload: Uint8Array;
}

export interface ChainBackupEnd {
  readonly records: number;
  /** One past the last record's offset (the header's `startOffset` for an empty chain). */
  readonly nextOffset: number;
}

/** A running SHA-256 (node:crypto's Hash, handed in so this module stays free of IO). */
export interface ByteDigest {
  update(bytes: Uint8Array): unknown;
  digest(): Uint8Array;
}

export class ChainBackupCorruptError extends MeshError {
  constructor(file: string, problem: string, cause?: unknown) {
    super('CHAIN_BACKUP_CORRUPT', `chain backup file ${file} is corrupt: ${problem}`, {
      ...(cause === undefined ? {} : { cause }),
      details: { file, problem },
    });
  }
}

/** Restore into a chain that already holds records: refused, nothing appended. */
export class ChainRestoreTargetNotEmptyError extends MeshError {
  constructor(name: string, startOffset: number) {
    super(
      'CHAIN_RESTORE_TARGET_NOT_EMPTY',
      `chain ${name} already holds records (from offset ${startOffset}): restore into a new name (--name) or delete it first`,
      { details: { name, startOffset } },
    );
  }
}

/** Every problem with a value meant as a backup's header; empty when it is one. */
export function chainBackupHeaderProblems(value: unknown): string[] {
  const problems = new InputProblems();
  if (!problems.record('header', value)) return problems.list;
  checkChainName(problems, value.name);
  if (problems.record('definition', value.definition)) {
    const definition = value.definition;
    problems.integer('definition.replicas', definition.replicas, 1, 64);
    problems.oneOf('definition.acks', definition.acks, ACKS_POLICIES);
    checkSyncPolicy(problems, definition.sync);
    checkRetention(problems, definition.retention);
    if (definition.maxRecordBytes !== undefined) checkMaxRecordBytes(problems, definition.maxRecordBytes);
    checkOnlyFields(problems, 'definition', definition, [
      'replicas',
      'acks',
      'sync',
      'retention',
      'maxRecordBytes',
    ]);
  }
  problems.integer('startOffset', value.startOffset, 0, Number.MAX_SAFE_INTEGER);
  problems.integer('endOffset', value.endOffset, 0, Number.MAX_SAFE_INTEGER);
  if (typeof value.startOffset === 'number' && typeof value.endOffset === 'number') {
    if (value.endOffset < value.startOffset) problems.add('endOffset is below startOffset');
  }
  problems.integer('savedAtMs', value.savedAtMs, 0, Number.MAX_SAFE_INTEGER);
  checkOnlyFields(problems, 'header', value, ['name', 'definition', 'startOffset', 'endOffset', 'savedAtMs']);
  return problems.list;
}

/** The magic and version that open the file. */
export function encodeChainBackupPreamble(): Uint8Array {
  return new BinaryWriter(PREAMBLE_BYTES).uint32(CHAIN_BACKUP_MAGIC).uint32(CHAIN_BACKUP_VERSION).finish();
}

export function encodeChainBackupHeader(header: ChainBackupHeader): Uint8Array {
  return frame(new BinaryWriter().byte(FRAME_HEADER).text(JSON.stringify(header)));
}

/** One frame of records (callers keep a frame to one read's answer: a few MiB at most). */
export function encodeChainBackupRecords(records: readonly ChainBackupRecord[]): Uint8Array {
  const writer = new BinaryWriter(64 + records.reduce((sum, record) => sum + record.payload.length + 24, 0));
  writer.byte(FRAME_RECORDS).varuint(records.length);
  for (const record of records) {
    writer.varuint(record.offset).varuint(record.epoch).varuint(record.appendedAtMs).bytes(record.payload);
  }
  return frame(writer);
}

export function encodeChainBackupEnd(end: ChainBackupEnd): Uint8Array {
  return frame(new BinaryWriter().byte(FRAME_END).varuint(end.records).varuint(end.nextOffset));
}

function frame(body: BinaryWriter): Uint8Array {
  const bytes = body.finish();
  if (bytes.length > MAX_CHAIN_BACKUP_FRAME_BYTES) {
    throw new MeshError(
      'CHAIN_BACKUP_FRAME_TOO_LARGE',
      `a backup frame of ${bytes.length} bytes is too large`,
    );
  }
  const framed = new Uint8Array(FRAME_LENGTH_BYTES + bytes.length);
  new DataView(framed.buffer).setUint32(0, bytes.length);
  framed.set(bytes, FRAME_LENGTH_BYTES);
  return framed;
}

/** What reading a backup file yields, in order: the header, batches of records, the end. */
export type ChainBackupItem =
  | { readonly kind: 'header'; readonly header: ChainBackupHeader }
  | { readonly kind: 'records'; readonly records: readonly ChainBackupRecord[] }
  | { readonly kind: 'end'; readonly end: ChainBackupEnd };

/**
 * Reads a backup file's bytes frame by frame, checking as it goes that offsets rise within the
 * header's range, the end frame counts what came, and (once the last frame is read) that the
 * SHA-256 matches and nothing follows it. Items are yielded before the digest is known: a caller
 * that must not act on a bad file reads it through once first (`checkChainBackup`).
 */
export async function* readChainBackup(
  file: string,
  chunks: AsyncIterable<Uint8Array>,
  digest: ByteDigest,
): AsyncGenerator<ChainBackupItem> {
  const input = new ChunkQueue(chunks[Symbol.asyncIterator]());
  const corrupt = (problem: string, cause?: unknown): ChainBackupCorruptError =>
    new ChainBackupCorruptError(file, problem, cause);
  const take = async (length: number, what: string): Promise<Uint8Array> => {
    const bytes = await input.take(length);
    if (bytes === undefined) throw corrupt(`it ends inside the ${what}`);
    digest.update(bytes);
    return bytes;
  };
  const preamble = new DataView((await take(PREAMBLE_BYTES, 'preamble')).slice().buffer);
  if (preamble.getUint32(0) !== CHAIN_BACKUP_MAGIC) throw corrupt('it is not a MeshOS chain backup');
  const version = preamble.getUint32(4);
  if (version !== CHAIN_BACKUP_VERSION) throw corrupt(`unknown version ${version}`);
  let header: ChainBackupHeader | undefined;
  let records = 0;
  let nextOffset = 0;
  for (;;) {
    const length = new DataView((await take(FRAME_LENGTH_BYTES, 'frame length')).slice().buffer).getUint32(0);
    if (length === 0 || length > MAX_CHAIN_BACKUP_FRAME_BYTES) throw corrupt(`a frame of ${length} bytes`);
    const reader = new BinaryReader(
      await take(length, 'frame'),
      `chain backup ${file}`,
      (_subject, problem) => corrupt(problem),
    );
    const kind = reader.byte();
    if (header === undefined) {
      if (kind !== FRAME_HEADER) throw corrupt('it does not start with a header');
      header = decodeHeader(reader, corrupt);
      nextOffset = header.startOffset;
      yield { kind: 'header', header };
    } else if (kind === FRAME_RECORDS) {
      const batch = decodeRecords(reader, header, nextOffset, corrupt);
      records += batch.length;
      nextOffset = (batch.at(-1)?.offset ?? nextOffset - 1) + 1;
      yield { kind: 'records', records: batch };
    } else if (kind === FRAME_END) {
      const end = { records: reader.varuint(), nextOffset: reader.varuint() };
      reader.end();
      if (end.records !== records || end.nextOffset !== nextOffset) {
        throw corrupt(
          `its end says ${end.records} records up to ${end.nextOffset}, it holds ${records} up to ${nextOffset}`,
        );
      }
      const expected = digest.digest();
      const stored = await input.take(CHAIN_BACKUP_DIGEST_BYTES);
      if (stored === undefined) throw corrupt('its SHA-256 is missing');
      if (!sameBytes(stored, expected)) throw corrupt('its SHA-256 does not match its contents');
      if (!(await input.atEnd())) throw corrupt('bytes follow its SHA-256');
      yield { kind: 'end', end };
      return;
    } else {
      throw corrupt(`unknown frame kind ${kind}`);
    }
  }
}

/** Reads the whole file once, in bounded steps: its header and end when every check passes. */
export async function checkChainBackup(
  file: string,
  chunks: AsyncIterable<Uint8Array>,
  digest: ByteDigest,
): Promise<{ header: ChainBackupHeader; end: ChainBackupEnd }> {
  let header: ChainBackupHeader | undefined;
  for await (const item of readChainBackup(file, chunks, digest)) {
    if (item.kind === 'header') header = item.header;
    else if (item.kind === 'end' && header !== undefined) return { header, end: item.end };
  }
  throw new ChainBackupCorruptError(file, 'it has no end');
}

function decodeHeader(
  reader: BinaryReader,
  corrupt: (problem: string, cause?: unknown) => Error,
): ChainBackupHeader {
  let value: unknown;
  try {
    value = JSON.parse(reader.text());
  } catch (error) {
    throw corrupt('its header is not JSON', error);
  }
  reader.end();
  const problems = chainBackupHeaderProblems(value);
  if (problems.length > 0 || !isRecord(value)) throw corrupt(`its header: ${problems.join('; ')}`);
  return value as unknown as ChainBackupHeader;
}

function decodeRecords(
  reader: BinaryReader,
  header: ChainBackupHeader,
  nextOffset: number,
  corrupt: (problem: string) => Error,
): ChainBackupRecord[] {
  // Each record takes at least four bytes (three varuints and a payload length).
  const count = reader.count(4);
  const batch: ChainBackupRecord[] = [];
  let expectedAtLeast = nextOffset;
  for (let index = 0; index < count; index++) {
    const offset = reader.varuint();
    const epoch = reader.varuint();
    const appendedAtMs = reader.varuint();
    const payload = reader.bytes(MAX_CHAIN_RECORD_BYTES);
    if (offset < expectedAtLeast || offset >= header.endOffset) {
      throw corrupt(
        `record offset ${offset} is out of order or outside [${header.startOffset}, ${header.endOffset})`,
      );
    }
    expectedAtLeast = offset + 1;
    batch.push({ offset, epoch, appendedAtMs, payload });
  }
  reader.end();
  return batch;
}

function sameBytes(left: Uint8Array, right: Uint8Array): boolean {
  return left.length === right.length && left.every((byte, index) => byte === right[index]);
}

/** Takes exact byte counts from a stream of chunks of any size, holding at most one chunk ahead. */
class ChunkQueue {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private ended = false;

  constructor(private readonly source: AsyncIterator<Uint8Array>) {}

  /** Exactly `length` bytes, or undefined when the stream ends first. */
  async take(length: number): Promise<Uint8Array | undefined> {
    while (this.buffered < length && !this.ended) {
      const next = await this.source.next();
      if (next.done === true) this.ended = true;
      else if (next.value.length > 0) {
        this.chunks.push(next.value);
        this.buffered += next.value.length;
      }
    }
    if (this.buffered < length) return undefined;
    const out = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      const chunk = this.chunks[0] as Uint8Array;
      const used = Math.min(chunk.length, length - filled);
      out.set(chunk.subarray(0, used), filled);
      filled += used;
      if (used === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(used);
    }
    this.buffered -= length;
    return out;
  }

  async atEnd(): Promise<boolean> {
    return (await this.take(1)) === undefined;
  }
}
