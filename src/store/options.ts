import { type Clock, type Logger, SystemClock, ValidationError } from '../lib/index.js';
import { createLogger } from '../lib/node/index.js';
import {
  DEFAULT_SEGMENT_SIZE_BYTES,
  DEFAULT_SNAPSHOTS_RETAINED,
  MAX_SEGMENT_SIZE_BYTES,
  MAX_SNAPSHOTS_RETAINED,
  MIN_SEGMENT_SIZE_BYTES,
} from './limits.js';

export interface RaftLogStoreOptions {
  /** Size at which a segment is sealed; default 64 MiB. */
  readonly segmentSizeBytes?: number;
  /** Snapshot files kept; default 2. */
  readonly snapshotsRetained?: number;
  /** Times fsyncs for the latency histogram; default the system clock. */
  readonly clock?: Clock;
  readonly logger?: Logger;
}

export interface ResolvedStoreOptions {
  readonly segmentSizeBytes: number;
  readonly snapshotsRetained: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** Every problem with the options, empty when they are fine. */
export function validateStoreOptions(options: RaftLogStoreOptions): string[] {
  const problems: string[] = [];
  const { segmentSizeBytes, snapshotsRetained } = options;
  if (
    segmentSizeBytes !== undefined &&
    (!Number.isInteger(segmentSizeBytes) ||
      segmentSizeBytes < MIN_SEGMENT_SIZE_BYTES ||
      segmentSizeBytes > MAX_SEGMENT_SIZE_BYTES)
  ) {
    problems.push(
      `segmentSizeBytes must be an integer from ${MIN_SEGMENT_SIZE_BYTES} to ${MAX_SEGMENT_SIZE_BYTES}, got ${segmentSizeBytes}`,
    );
  }
  if (
    snapshotsRetained !== undefined &&
    (!Number.isInteger(snapshotsRetained) ||
      snapshotsRetained < 1 ||
      snapshotsRetained > MAX_SNAPSHOTS_RETAINED)
  ) {
    problems.push(
      `snapshotsRetained must be an integer from 1 to ${MAX_SNAPSHOTS_RETAINED}, got ${snapshotsRetained}`,
    );
  }
  return problems;
}

export function resolveStoreOptions(options: RaftLogStoreOptions): ResolvedStoreOptions {
  const problems = validateStoreOptions(options);
  if (problems.length > 0) throw new ValidationError('raft log store options', problems);
  return {
    segmentSizeBytes: options.segmentSizeBytes ?? DEFAULT_SEGMENT_SIZE_BYTES,
    snapshotsRetained: options.snapshotsRetained ?? DEFAULT_SNAPSHOTS_RETAINED,
    clock: options.clock ?? new SystemClock(),
    logger: options.logger ?? createLogger('store'),
  };
}
