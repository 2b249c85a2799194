export { BACKGROUND_SYNC_BYTES, BackgroundFileWriter } from './background-file-writer.js';
export { concatBytes, readUint64, writeUint64 } from './bytes.js';
export { crc32c } from './crc32c.js';

export {
  CorruptionError,
  RecordTooLargeError,
  SegmentPreallocationError,
  SnapshotReadError,
  StoreClosedError,
  StoreFailedError,
  StoreOverloadedError,
  StoreUnrecoverableError,
} from './errors.js';
export { joinPath, parseSegmentFileName, segmentFileName, TEMPORARY_SUFFIX } from './file-names.js';
export {
  DEFAULT_SEGMENT_SIZE_BYTES,
  DEFAULT_SNAPSHOTS_RETAINED,
  FSYNC_LATENCY_BUCKET_BOUNDS_MS,
  MAX_BATCH_BYTES,
  MAX_PENDING_OPERATIONS,
  MAX_PENDING_SNAPSHOT_SAVES,
  MAX_RECORD_PAYLOAD_BYTES,
} from './limits.js';
export type { StoreMetrics } from './metrics.js';
export { createStoreMetrics } from './metrics.js';
export { type RaftLogStoreOptions, validateStoreOptions } from './options.js';
export { type OpenedRaftLogStore, openRaftLogStore, RaftLogStore } from './raft-log-store.js';
export {
  encodeFrame,
  type FrameAt,
  type FramedRecord,
  type FrameFormat,
  frameAt,
  RECORD_HEADER_BYTES,
  type SegmentScan,
  scanFrames,
} from './record-frame.js';
export { SnapshotReception } from './snapshot-reception.js';
export { StoreDirectory } from './store-io.js';
export type {
  RecoveredState,
  SkippedSnapshot,
  SnapshotToSave,
  StoredEntry,
  StoredHardState,
  StoredSnapshot,
} from './types.js';
export { EMPTY_HARD_STATE } from './types.js';
