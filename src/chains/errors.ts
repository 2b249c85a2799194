/**
 * The typed errors of the chains layer. Their codes are the contract between a node and its
 * clients: `src/protocol/chain-errors.ts` maps each to a gRPC status and says whether an append
 * that failed with it was certainly not written (so a client may send it again).
 */
import { MeshError, type NodeId } from '../lib/index.js';

/** No chain of that name exists (or it was deleted). */
export class ChainNotFoundError extends MeshError {
  constructor(name: string) {
    super('CHAIN_NOT_FOUND', `chain ${name} does not exist`, { details: { name } });
  }
}

/** Create of a name that is already taken. */
export class ChainExistsError extends MeshError {
  constructor(name: string) {
    super('CHAIN_EXISTS', `chain ${name} already exists`, { details: { name } });
  }
}

/**
 * The node asked is not the chain's leader in any epoch it can serve (its epoch lease ran out, a
 * higher epoch exists, or the leader is still claiming its epoch). Raised only before the records
 * were proposed, so the append was not written and may be sent again. `leader` is the leader
 * this node knows of, when it knows one.
 */
export class ChainNotLeaderError extends MeshError {
  constructor(name: string, epoch: number, leader?: NodeId) {
    super(
      'CHAIN_NOT_LEADER',
      `not the leader of chain ${name} (epoch ${epoch}${leader === undefined ? ', no leader known' : `, leader ${leader}`})`,
      { details: { name, epoch, ...(leader === undefined ? {} : { leader }) } },
    );
  }
}

/**
 * The records were handed to a leader but no acknowledgement came back (the leader was lost, the
 * deadline passed while replicating): they may or may not be in the chain. Never retried blindly.
 */
export class ChainAppendOutcomeUnknownError extends MeshError {
  constructor(name: string, reason: string, cause?: unknown) {
    super('CHAIN_APPEND_OUTCOME_UNKNOWN', `append to chain ${name} has an unknown outcome: ${reason}`, {
      details: { name, reason },
      ...(cause === undefined ? {} : { cause }),
    });
  }
}

/** A record larger than the chain's `maxRecordBytes`; nothing of the batch was written. */
export class ChainRecordTooLargeError extends MeshError {
  constructor(name: string, recordBytes: number, maxRecordBytes: number) {
    super(
      'CHAIN_RECORD_TOO_LARGE',
      `a record of ${recordBytes} bytes is larger than chain ${name}'s limit of ${maxRecordBytes} bytes`,
      { details: { name, recordBytes, maxRecordBytes } },
    );
  }
}

/**
 * The chain cannot serve right now (no leader reachable, no quorum to create it on). For an
 * append: it was never sent to a leader, so it was not written and may be sent again.
 */
export class ChainUnavailableError extends MeshError {
  constructor(name: string, reason: string, cause?: unknown) {
    super('CHAIN_UNAVAILABLE', `chain ${name} is unavailable: ${reason}`, {
      details: { name, reason },
      ...(cause === undefined ? {} : { cause }),
    });
  }
}

/**
 * A bounded queue on the way to the leader is full (appends waiting, pending bytes). The
 * records were refused before they were proposed: not written, may be sent again later.
 */
export class ChainOverloadedError extends MeshError {
  constructor(name: string, limit: string) {
    super('CHAIN_OVERLOADED', `chain ${name} is overloaded: ${limit}`, { details: { name, limit } });
  }
}

/** A read or subscription from an offset retention has already dropped. */
export class ChainOffsetTruncatedError extends MeshError {
  constructor(name: string, fromOffset: number, startOffset: number) {
    super(
      'CHAIN_OFFSET_TRUNCATED',
      `chain ${name} no longer holds offset ${fromOffset}; its first kept offset is ${startOffset}`,
      { details: { name, fromOffset, startOffset } },
    );
  }
}

/** A subscriber read so slowly that its bounded buffer filled: the subscription is ended. */
export class ChainSubscriberTooSlowError extends MeshError {
  constructor(name: string, bufferedRecords: number) {
    super(
      'CHAIN_SUBSCRIBER_TOO_SLOW',
      `subscription to chain ${name} ended: the subscriber fell ${bufferedRecords} records behind`,
      { details: { name, bufferedRecords } },
    );
  }
}

/** A node-wide limit on chains (chains held, subscriptions open) refused the request; `limit` names it. */
export class ChainLimitError extends MeshError {
  constructor(limit: string, message: string, details: Readonly<Record<string, unknown>> = {}) {
    super('CHAIN_LIMIT_REACHED', message, { details: { limit, ...details } });
  }
}

/** The name `ChainLimitError` gives the per-node chain limit (`capacity.chains`). */
export const CHAINS_PER_NODE_LIMIT = 'max chains per node';

/**
 * A definition changed since the caller read it (its compare-and-swap lost): re-read and decide
 * again. `modRevision` is the definition's current mod revision.
 */
export class ChainConflictError extends MeshError {
  constructor(name: string, expectedModRevision: number, modRevision: number) {
    super(
      'CHAIN_CONFLICT',
      `chain ${name} changed (expected mod revision ${expectedModRevision}, now ${modRevision})`,
      { details: { name, expectedModRevision, modRevision } },
    );
  }
}

/**
 * A definition change refused because the writer's fence no longer holds (the coordinator lost
 * its key): nothing was written.
 */
export class ChainFencedError extends MeshError {
  constructor(name: string) {
    super('CHAIN_FENCED', `change to chain ${name} refused: the writer no longer holds its fence`, {
      details: { name },
    });
  }
}

/**
 * A chain log's file failed a checksum or format check before its tail (a torn final record is
 * cut off at open instead). Corrupt records are never served; the log does not open.
 */
export class ChainLogCorruptError extends MeshError {
  readonly file: string;
  readonly offset: number;

  constructor(file: string, offset: number, reason: string) {
    super('CHAIN_LOG_CORRUPT', `corrupt chain log file ${file} at byte ${offset}: ${reason}`, {
      details: { file, offset, reason },
    });
    this.file = file;
    this.offset = offset;
  }
}

/**
 * An offset outside what a chain log can take: a read from beyond its end, a truncation outside
 * its kept records, or an append whose records do not continue it.
 */
export class ChainOffsetOutOfRangeError extends MeshError {
  constructor(name: string, offset: number, startOffset: number, endOffset: number, what: string) {
    super(
      'CHAIN_OFFSET_OUT_OF_RANGE',
      `${what} at offset ${offset} is outside chain ${name}'s log (${startOffset}..${endOffset})`,
      { details: { name, offset, startOffset, endOffset } },
    );
  }
}

/** A record handed to a chain log with a field it cannot store (epoch going back, bad number). */
export class ChainEntryInvalidError extends MeshError {
  constructor(name: string, offset: number, reason: string) {
    super('CHAIN_ENTRY_INVALID', `record ${offset} of chain ${name} is invalid: ${reason}`, {
      details: { name, offset, reason },
    });
  }
}

/**
 * A write or sync of a chain log failed. After a failed fsync the page cache cannot be trusted, so
 * the log refuses every later call until it is reopened from what is on disk.
 */
export class ChainLogFailedError extends MeshError {
  constructor(name: string, cause: unknown) {
    super(
      'CHAIN_LOG_FAILED',
      `chain ${name}'s log failed${cause instanceof Error ? `: ${cause.message}` : ''}`,
      { cause, details: { name } },
    );
  }
}

/** A call on a chain log after `close()`. */
export class ChainLogClosedError extends MeshError {
  constructor(name: string) {
    super('CHAIN_LOG_CLOSED', `chain ${name}'s log is closed`, { details: { name } });
  }
}

/** A replication message between replicas that does not decode (a bug or a foreign sender). */
export class ChainMessageDecodeError extends MeshError {
  constructor(subject: string, problem: string) {
    super('CHAIN_MESSAGE_INVALID', `bad ${subject}: ${problem}`, { details: { subject, problem } });
  }
}
