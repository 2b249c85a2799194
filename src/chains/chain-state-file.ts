/**
 * A chain replica's promise, kept in the file `promised` (little-endian): u32 magic "MCPE", u32
 * format version (1), u64 promised epoch, u32 CRC-32C of the 16 bytes before it. It is replaced
 * atomically (temporary file, fdatasync, rename, directory fsync), so a crash leaves the old
 * promise or the new one. Promises are rare (one per epoch), so three syncs each are cheap.
 */
import { dataViewOf } from '../lib/index.js';
import { crc32c, readUint64, writeUint64 } from '../store/index.js';
import { ChainLogCorruptError } from './errors.js';

export const CHAIN_STATE_FILE_NAME = 'promised';
/** "MCPE" read as a little-endian u32. */
const CHAIN_STATE_MAGIC = 0x4550434d;
const CHAIN_STATE_FORMAT_VERSION = 1;
const CHAIN_STATE_BODY_BYTES = 16;
const CHAIN_STATE_FILE_BYTES = CHAIN_STATE_BODY_BYTES + 4;

export function encodeChainStateFile(promisedEpoch: number): Uint8Array {
  const file = new Uint8Array(CHAIN_STATE_FILE_BYTES);
  const view = dataViewOf(file);
  view.setUint32(0, CHAIN_STATE_MAGIC, true);
  view.setUint32(4, CHAIN_STATE_FORMAT_VERSION, true);
  writeUint64(view, 8, promisedEpoch);
  view.setUint32(CHAIN_STATE_BODY_BYTES, crc32c(file, 0, 0, CHAIN_STATE_BODY_BYTES), true);
  return file;
}

/** The promised epoch in the file; a damaged file is corruption (a promise must not be forgotten). */
export function decodeChainStateFile(file: Uint8Array, filePath: string): number {
  if (file.byteLength !== CHAIN_STATE_FILE_BYTES) {
    throw new ChainLogCorruptError(filePath, 0, `state file has ${file.byteLength} bytes`);
  }
  const view = dataViewOf(file);
  if (crc32c(file, 0, 0, CHAIN_STATE_BODY_BYTES) !== view.getUint32(CHAIN_STATE_BODY_BYTES, true)) {
    throw new ChainLogCorruptError(filePath, 0, 'state file checksum mismatch');
  }
  if (
    view.getUint32(0, true) !== CHAIN_STATE_MAGIC ||
    view.getUint32(4, true) !== CHAIN_STATE_FORMAT_VERSION
  ) {
    throw new ChainLogCorruptError(filePath, 0, 'bad state file magic or version');
  }
  const promisedEpoch = readUint64(view, 8);
  if (promisedEpoch === undefined)
    throw new ChainLogCorruptError(filePath, 8, 'promised epoch beyond the safe range');
  return promisedEpoch;
}
