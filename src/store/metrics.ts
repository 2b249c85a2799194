import { FSYNC_LATENCY_BUCKET_BOUNDS_MS } from './limits.js';

/** Counters of one open store, as a plain object for the metrics exporter to read. */
export interface StoreMetrics {
  /** `append` calls accepted. */
  appends: number;
  appendedEntries: number;
  /** Bytes written to segments, framing included. */
  bytesWritten: number;
  /** File data syncs (fdatasync) issued by the store. */
  fsyncs: number;
  /** Directory fsyncs (file creation, rename, removal). */
  directoryFsyncs: number;
  /** Counts per bucket: `fsyncLatencyBucketsMs[i]` is the inclusive upper bound of bucket i; the last bucket is unbounded. */
  fsyncLatencyBuckets: number[];
  fsyncLatencyBucketsMs: readonly number[];
  fsyncLatencyTotalMs: number;
  /** Segment files currently in the directory. */
  segments: number;
  segmentsCreated: number;
  segmentsCompacted: number;
  truncations: number;
  snapshotsSaved: number;
  snapshotsSkipped: number;
  recoveredTornBytes: number;
}

export function createStoreMetrics(): StoreMetrics {
  return {
    appends: 0,
    appendedEntries: 0,
    bytesWritten: 0,
    fsyncs: 0,
    directoryFsyncs: 0,
    fsyncLatencyBuckets: new Array<number>(FSYNC_LATENCY_BUCKET_BOUNDS_MS.length + 1).fill(0),
    fsyncLatencyBucketsMs: FSYNC_LATENCY_BUCKET_BOUNDS_MS,
    fsyncLatencyTotalMs: 0,
    segments: 0,
    segmentsCreated: 0,
    segmentsCompacted: 0,
    truncations: 0,
    snapshotsSaved: 0,
    snapshotsSkipped: 0,
    recoveredTornBytes: 0,
  };
}

export function recordFsyncLatency(metrics: StoreMetrics, latencyMs: number): void {
  metrics.fsyncs++;
  metrics.fsyncLatencyTotalMs += latencyMs;
  let bucket = FSYNC_LATENCY_BUCKET_BOUNDS_MS.findIndex((boundMs) => latencyMs <= boundMs);
  if (bucket === -1) bucket = FSYNC_LATENCY_BUCKET_BOUNDS_MS.length;
  metrics.fsyncLatencyBuckets[bucket] = (metrics.fsyncLatencyBuckets[bucket] ?? 0) + 1;
}
