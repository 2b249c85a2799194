import { MeshError } from '../lib/index.js';

/** A checksum or format failure in data that was once durable. Never served; the open stops. */
export class CorruptionError extends MeshError {
  readonly file: string;
  readonly offset: number;

  constructor(file: string, offset: number, reason: string) {
    super('STORE_CORRUPT', `corrupt store file ${file} at byte ${offset}: ${reason}`, {
      details: { file, offset, reason },
    });
    this.file = file;
    this.offset = offset;
  }
}

/** The files are each valid but together cannot rebuild the log (for example a missing range). */
export class StoreUnrecoverableError extends MeshError {
  constructor(reason: string, details: Record<string, unknown> = {}) {
    super('STORE_UNRECOVERABLE', `store cannot be recovered: ${reason}`, { details });
  }
}

/**
 * A write or sync failed. After a failed fsync the page cache can no longer be trusted,
 * so the store refuses every later write until it is reopened.
 */
export class StoreFailedError extends MeshError {
  constructor(cause: unknown) {
    super('STORE_FAILED', `store write failed${cause instanceof Error ? `: ${cause.message}` : ''}`, {
      cause,
    });
  }
}

/** Too many writes are waiting; the caller should wait for earlier ones to finish. */
export class StoreOverloadedError extends MeshError {
  constructor(pendingOperations: number) {
    super('STORE_OVERLOADED', `store has ${pendingOperations} writes waiting`, {
      details: { pendingOperations },
    });
  }
}

/** A single record larger than the store accepts. */
export class RecordTooLargeError extends MeshError {
  constructor(payloadBytes: number, limitBytes: number) {
    super('STORE_RECORD_TOO_LARGE', `record of ${payloadBytes} bytes exceeds ${limitBytes} bytes`, {
      details: { payloadBytes, limitBytes },
    });
  }
}

/** The store was closed or failed before this call. */
export class StoreClosedError extends MeshError {
  constructor() {
    super('STORE_CLOSED', 'store is closed');
  }
}

/** A read of a saved snapshot's data outside it, or from a file that is not a snapshot. */
export class SnapshotReadError extends MeshError {
  constructor(file: string, reason: string) {
    super('STORE_SNAPSHOT_READ', `cannot read snapshot data from ${file}: ${reason}`, {
      details: { file, reason },
    });
  }
}

/**
 * A segment file could not be sized to the segment size when it was started or reopened (the
 * store then refuses the writes that needed it; every acknowledged write is in the files
 * before it). `diskFull` says the file system answered ENOSPC.
 */
export class SegmentPreallocationError extends MeshError {
  readonly diskFull: boolean;

  constructor(file: string, sizeBytes: number, cause: unknown) {
    const diskFull = hasErrorCode(cause, 'ENOSPC');
    super(
      'STORE_PREALLOCATE',
      `cannot size segment ${file} to ${sizeBytes} bytes: ${diskFull ? 'the disk is full' : cause instanceof Error ? cause.message : String(cause)}`,
      { cause, details: { file, sizeBytes, diskFull } },
    );
    this.diskFull = diskFull;
  }
}

/** Whether `error` or any error in its chain of causes carries the system error `code`. */
function hasErrorCode(error: unknown, code: string): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 8; depth++) {
    if ((current as NodeJS.ErrnoException).code === code) return true;
    current = current.cause;
  }
  return false;
}
