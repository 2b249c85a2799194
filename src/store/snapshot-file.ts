import { type Disk, type DiskFile, dataViewOf } from '../lib/index.js';
import { readUint64, writeUint64 } from './bytes.js';
import { crc32c } from './crc32c.js';
import { SnapshotReadError } from './errors.js';
import { SNAPSHOT_FILE_PART_BYTES } from './limits.js';
import type { SnapshotToSave, StoredSnapshot } from './types.js';

/**
 * A snapshot file (little-endian):
 *
 *   0  u32 magic "MSNP"
 *   4  u32 format version
 *   8  u64 index
 *  16  u64 term
 *  24  u32 config length
 *  28  u32 0 (reserved)
 *  32  u64 data length
 *  40  config bytes, then data bytes
 * end  u32 CRC-32C of everything before it
 */
const SNAPSHOT_MAGIC = 0x504e534d;
const SNAPSHOT_FORMAT_VERSION = 1;
const SNAPSHOT_HEADER_BYTES = 40;
const SNAPSHOT_TRAILER_BYTES = 4;

/**
 * The file in parts, in order: header, config, the data in parts of at most `partBytes`, then the
 * checksum. Each part is checksummed when it is taken, so a writer that yields between parts
 * never spends longer than one part on the event loop.
 */
export function* snapshotFileParts(
  snapshot: SnapshotToSave,
  partBytes = SNAPSHOT_FILE_PART_BYTES,
): Generator<Uint8Array> {
  const dataParts = snapshot.data instanceof Uint8Array ? [snapshot.data] : snapshot.data;
  let dataBytes = 0;
  for (const part of dataParts) dataBytes += part.byteLength;
  const header = snapshotFileHeader(snapshot, dataBytes);
  let checksum = crc32c(header);
  yield header;
  checksum = crc32c(snapshot.config, checksum);
  yield snapshot.config;
  for (const data of dataParts) {
    for (let offset = 0; offset < data.byteLength; offset += partBytes) {
      const part = data.subarray(offset, offset + partBytes);
      checksum = crc32c(part, checksum);
      yield part;
    }
  }
  yield snapshotFileTrailer(checksum);
}

/** The header of a snapshot file whose data is `dataBytes` long. */
export function snapshotFileHeader(snapshot: Omit<SnapshotToSave, 'data'>, dataBytes: number): Uint8Array {
  const header = new Uint8Array(SNAPSHOT_HEADER_BYTES);
  const view = dataViewOf(header);
  view.setUint32(0, SNAPSHOT_MAGIC, true);
  view.setUint32(4, SNAPSHOT_FORMAT_VERSION, true);
  writeUint64(view, 8, snapshot.index);
  writeUint64(view, 16, snapshot.term);
  view.setUint32(24, snapshot.config.byteLength, true);
  writeUint64(view, 32, dataBytes);
  return header;
}

/** The trailer of a snapshot file: the CRC-32C of everything before it. */
export function snapshotFileTrailer(checksum: number): Uint8Array {
  const trailer = new Uint8Array(SNAPSHOT_TRAILER_BYTES);
  dataViewOf(trailer).setUint32(0, checksum, true);
  return trailer;
}

export type SnapshotDecoding =
  | { readonly ok: true; readonly snapshot: StoredSnapshot }
  | { readonly ok: false; readonly reason: string };

interface SnapshotHeader {
  readonly index: number;
  readonly term: number;
  readonly configBytes: number;
  readonly dataBytes: number;
}

/** The header at the start of `bytes`: its magic, version and integer fields checked. */
function decodeSnapshotHeader(
  bytes: Uint8Array,
): { readonly ok: true; readonly header: SnapshotHeader } | { readonly ok: false; readonly reason: string } {
  if (bytes.byteLength < SNAPSHOT_HEADER_BYTES) {
    return { ok: false, reason: `file of ${bytes.byteLength} bytes is shorter than a snapshot header` };
  }
  const view = dataViewOf(bytes);
  if (view.getUint32(0, true) !== SNAPSHOT_MAGIC) return { ok: false, reason: 'bad magic' };
  const version = view.getUint32(4, true);
  if (version !== SNAPSHOT_FORMAT_VERSION)
    return { ok: false, reason: `unsupported format version ${version}` };
  const index = readUint64(view, 8);
  const term = readUint64(view, 16);
  const configBytes = view.getUint32(24, true);
  const dataBytes = readUint64(view, 32);
  if (index === undefined || term === undefined || dataBytes === undefined) {
    return { ok: false, reason: 'integer field beyond the safe range' };
  }
  return { ok: true, header: { index, term, configBytes, dataBytes } };
}

/** Checks length, magic, version, checksum and the index named by the file before trusting anything. */
export function decodeSnapshot(file: Uint8Array, expectedIndex: number): SnapshotDecoding {
  if (file.byteLength < SNAPSHOT_HEADER_BYTES + SNAPSHOT_TRAILER_BYTES) {
    return { ok: false, reason: `file of ${file.byteLength} bytes is shorter than a snapshot header` };
  }
  const bodyBytes = file.byteLength - SNAPSHOT_TRAILER_BYTES;
  if (crc32c(file, 0, 0, bodyBytes) !== dataViewOf(file).getUint32(bodyBytes, true)) {
    return { ok: false, reason: 'checksum mismatch' };
  }
  const decoded = decodeSnapshotHeader(file);
  if (!decoded.ok) return decoded;
  const { index, term, configBytes, dataBytes } = decoded.header;
  if (SNAPSHOT_HEADER_BYTES + configBytes + dataBytes !== bodyBytes) {
    return { ok: false, reason: 'lengths do not match the file size' };
  }
  if (index !== expectedIndex) {
    return { ok: false, reason: `holds index ${index} but its name says ${expectedIndex}` };
  }
  const configStart = SNAPSHOT_HEADER_BYTES;
  const dataStart = configStart + configBytes;
  return {
    ok: true,
    snapshot: {
      index,
      term,
      config: file.slice(configStart, dataStart),
      data: file.slice(dataStart, bodyBytes),
    },
  };
}

/**
 * An open snapshot file, to read ranges of its data (chunks to send to a follower) without
 * reading the rest. The header, read once at open, says where the data starts and how long it
 * is; the whole file's checksum was verified when it was written or opened, and the receiver
 * checks what it assembles. Each read is one positional read.
 */
export class SnapshotDataReader {
  private constructor(
    private readonly file: DiskFile,
    private readonly dataStart: number,
    private readonly dataBytes: number,
  ) {}

  static async open(disk: Disk, filePath: string): Promise<SnapshotDataReader> {
    const file = await disk.open(filePath, 'read');
    try {
      const decoded = decodeSnapshotHeader(await file.readAt(0, SNAPSHOT_HEADER_BYTES));
      if (!decoded.ok) throw new SnapshotReadError(filePath, decoded.reason);
      const { configBytes, dataBytes } = decoded.header;
      return new SnapshotDataReader(file, SNAPSHOT_HEADER_BYTES + configBytes, dataBytes);
    } catch (error) {
      await file.close();
      throw error;
    }
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new SnapshotReadError(this.file.path, `bad range ${offset}+${length}`);
    }
    if (offset + length > this.dataBytes) {
      throw new SnapshotReadError(
        this.file.path,
        `bytes ${offset}+${length} are outside its ${this.dataBytes} data bytes`,
      );
    }
    const data = await this.file.readAt(this.dataStart + offset, length);
    if (data.byteLength !== length) throw new SnapshotReadError(this.file.path, 'file ends before its data');
    return data;
  }

  close(): Promise<void> {
    return this.file.close();
  }
}
