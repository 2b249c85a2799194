import { dataViewOf } from '../lib/index.js';
import { readUint64, writeUint64 } from './bytes.js';
import { crc32c } from './crc32c.js';
import { CorruptionError } from './errors.js';
import type { StoredHardState } from './types.js';

/**
 * The hard-state checkpoint file `hardstate` (little-endian): u32 magic "MHST", u32
 * version, u64 term, u64 vote, u64 commit, u32 CRC-32C of the 32 bytes before it.
 * Written atomically just before segments that may hold the newest hard-state record are
 * removed, so the hard state never depends on a file being deleted.
 */
export const HARD_STATE_FILE_NAME = 'hardstate';
const HARD_STATE_MAGIC = 0x5453484d;
const HARD_STATE_FORMAT_VERSION = 1;
const HARD_STATE_BODY_BYTES = 32;
const HARD_STATE_FILE_BYTES = HARD_STATE_BODY_BYTES + 4;

export function encodeHardStateFile(hardState: StoredHardState): Uint8Array {
  const file = new Uint8Array(HARD_STATE_FILE_BYTES);
  const view = dataViewOf(file);
  view.setUint32(0, HARD_STATE_MAGIC, true);
  view.setUint32(4, HARD_STATE_FORMAT_VERSION, true);
  writeUint64(view, 8, hardState.term);
  writeUint64(view, 16, hardState.vote);
  writeUint64(view, 24, hardState.commit);
  view.setUint32(HARD_STATE_BODY_BYTES, crc32c(file, 0, 0, HARD_STATE_BODY_BYTES), true);
  return file;
}

export function decodeHardStateFile(file: Uint8Array, fileName: string): StoredHardState {
  if (file.byteLength !== HARD_STATE_FILE_BYTES) {
    throw new CorruptionError(fileName, 0, `hard state file has ${file.byteLength} bytes`);
  }
  const view = dataViewOf(file);
  if (crc32c(file, 0, 0, HARD_STATE_BODY_BYTES) !== view.getUint32(HARD_STATE_BODY_BYTES, true)) {
    throw new CorruptionError(fileName, 0, 'hard state checksum mismatch');
  }
  if (view.getUint32(0, true) !== HARD_STATE_MAGIC || view.getUint32(4, true) !== HARD_STATE_FORMAT_VERSION) {
    throw new CorruptionError(fileName, 0, 'bad hard state magic or version');
  }
  const term = readUint64(view, 8);
  const vote = readUint64(view, 16);
  const commit = readUint64(view, 24);
  if (term === undefined || vote === undefined || commit === undefined) {
    throw new CorruptionError(fileName, 8, 'hard state field beyond the safe range');
  }
  return { term, vote, commit };
}

/**
 * Hard state only moves forward: the term grows, a vote is cast at most once per term and
 * commit never falls. So of two saved hard states the later one is the larger in
 * (term, voted, commit) order.
 */
export function newerHardState(a: StoredHardState, b: StoredHardState): StoredHardState {
  if (a.term !== b.term) return a.term > b.term ? a : b;
  const aVoted = a.vote !== 0 ? 1 : 0;
  const bVoted = b.vote !== 0 ? 1 : 0;
  if (aVoted !== bVoted) return aVoted > bVoted ? a : b;
  return a.commit >= b.commit ? a : b;
}
