/**
 * Opening a chain's directory: the promise file, then every segment in offset order with every
 * checksum checked. A torn final record of the last segment (and anything after it) is cut off
 * and the file synced; any other damage, a gap between segments or records out of order stops
 * the open with CHAIN_LOG_CORRUPT. Nothing damaged is ever served.
 */
import type { Logger } from '../lib/index.js';
import {
  parseSegmentFileName,
  RECORD_HEADER_BYTES,
  type StoreDirectory,
  scanFrames,
} from '../store/index.js';
import { CHAIN_FRAME_FORMAT, ChainRecordDecoder, type ChainRecordType } from './chain-record-codec.js';
import { ChainSegment } from './chain-segment.js';
import { CHAIN_STATE_FILE_NAME, decodeChainStateFile } from './chain-state-file.js';
import { ChainLogCorruptError } from './errors.js';
import type { EpochStart } from './types.js';

export interface RecoveredChainLog {
  /** Segments in offset order, each continuing the one before; empty for a new log. */
  readonly segments: ChainSegment[];
  readonly epochHistory: EpochStart[];
  readonly promisedEpoch: number;
  /** Bytes cut off the end of the last segment as a torn write. */
  readonly tornBytes: number;
}

export async function recoverChainLog(
  directory: StoreDirectory,
  logger?: Logger,
): Promise<RecoveredChainLog> {
  const names = await directory.list();
  await directory.removeTemporaryFiles(names);

  let promisedEpoch = 0;
  if (names.includes(CHAIN_STATE_FILE_NAME)) {
    const statePath = directory.pathOf(CHAIN_STATE_FILE_NAME);
    promisedEpoch = decodeChainStateFile(await directory.disk.readFile(statePath), statePath);
  }

  const segmentNames = names
    .map((name) => ({ name, firstOffset: parseSegmentFileName(name) }))
    .filter((entry): entry is { name: string; firstOffset: number } => entry.firstOffset !== undefined)
    .sort((a, b) => a.firstOffset - b.firstOffset);
  const segments: ChainSegment[] = [];
  const epochHistory: EpochStart[] = [];
  let tornBytes = 0;
  for (const [position, { name, firstOffset }] of segmentNames.entries()) {
    const isLast = position === segmentNames.length - 1;
    const filePath = directory.pathOf(name);
    const bytes = await directory.disk.readFile(filePath);
    const scan = scanFrames<ChainRecordType>(bytes, filePath, isLast, CHAIN_FRAME_FORMAT);
    if (scan.tornReason !== undefined) {
      const cutBytes = bytes.byteLength - scan.validEndOffset;
      tornBytes += cutBytes;
      logger?.warn(
        { file: filePath, offset: scan.validEndOffset, bytes: cutBytes, reason: scan.tornReason },
        'cutting a torn write off the end of a chain log',
      );
      await directory.truncateFile(filePath, scan.validEndOffset);
    }
    const [header, ...records] = scan.records;
    if (header === undefined) {
      // A segment's header is synced before anything else goes in: only a crash while the
      // newest segment was being created leaves one without it.
      if (!isLast) throw new ChainLogCorruptError(filePath, 0, 'sealed segment holds no records');
      await directory.remove(name);
      await directory.fsync();
      continue;
    }
    const decoder = new ChainRecordDecoder(filePath);
    const headerOffset = decoder.segmentHeader(header);
    if (headerOffset !== firstOffset) {
      decoder.fail(header, `header says first offset ${headerOffset} but the name says ${firstOffset}`);
    }
    const previous = segments.at(-1);
    if (previous !== undefined && previous.nextOffset !== firstOffset) {
      throw new ChainLogCorruptError(
        filePath,
        0,
        `segment starts at offset ${firstOffset} but the one before it ends at ${previous.nextOffset}`,
      );
    }
    const segment = new ChainSegment(firstOffset);
    for (const record of records) {
      const entry = decoder.fields(record);
      if (entry.offset !== segment.nextOffset) {
        decoder.fail(record, `record ${entry.offset} where ${segment.nextOffset} was expected`);
      }
      const lastEpoch = epochHistory.at(-1)?.epoch;
      if (lastEpoch !== undefined && entry.epoch < lastEpoch) {
        decoder.fail(record, `epoch ${entry.epoch} after epoch ${lastEpoch}`);
      }
      if (lastEpoch === undefined || entry.epoch > lastEpoch) {
        epochHistory.push({ epoch: entry.epoch, offset: entry.offset });
      }
      segment.recordWritten(
        record.offset,
        RECORD_HEADER_BYTES + record.payload.byteLength,
        entry.appendedAtMs,
      );
    }
    segments.push(segment);
  }
  return { segments, epochHistory, promisedEpoch, tornBytes };
}
