/**
 * Typed errors of the control plane. Every backend turns its own failures (a node's `KvError`,
 * a gRPC status) into these, so callers match on one set of codes whichever store runs below.
 */
import { MeshError } from '../lib/index.js';

/** Every operating error of the control plane. */
export class ControlPlaneError extends MeshError {
  /** Whether the same request may succeed if sent again later. */
  readonly retryable: boolean;

  constructor(
    code: string,
    message: string,
    options: { retryable?: boolean; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(code, message, {
      ...(options.cause === undefined ? {} : { cause: options.cause }),
      details: options.details ?? {},
    });
    this.retryable = options.retryable ?? false;
  }
}

/**
 * The store could not be reached or had no leader in time. A write that fails this way may or
 * may not have been applied: re-read (or compare) before acting on the assumption it was not.
 */
export class ControlUnavailableError extends ControlPlaneError {
  constructor(message: string, cause?: unknown) {
    super('CONTROL_UNAVAILABLE', message, { retryable: true, cause });
  }
}

/** The revision asked for was compacted; re-list, then watch from the listing's revision + 1. */
export class ControlCompactedError extends ControlPlaneError {
  /** The oldest revision still kept, when the store said. */
  readonly compactRevision: number | undefined;

  constructor(compactRevision: number | undefined, cause?: unknown) {
    super(
      'CONTROL_COMPACTED',
      compactRevision === undefined
        ? 'the revision was compacted'
        : `the revision was compacted (oldest kept: ${compactRevision})`,
      { cause, details: { compactRevision } },
    );
    this.compactRevision = compactRevision;
  }
}

/** The revision asked for is later than the store's current one. */
export class ControlFutureRevisionError extends ControlPlaneError {
  constructor(revision: number, cause?: unknown) {
    super('CONTROL_FUTURE_REVISION', `revision ${revision} is later than the current revision`, {
      cause,
      details: { revision },
    });
  }
}

/** The lease does not exist: it expired, was revoked, or was never granted. */
export class ControlLeaseNotFoundError extends ControlPlaneError {
  readonly leaseId: number;

  constructor(leaseId: number, cause?: unknown) {
    super('CONTROL_LEASE_NOT_FOUND', `lease ${leaseId} not found (expired or revoked)`, {
      cause,
      details: { leaseId },
    });
    this.leaseId = leaseId;
  }
}

/** A key is empty, too long, not text the store round-trips, or outside the plane's root. */
export class ControlBadKeyError extends ControlPlaneError {
  constructor(key: string, problem: string) {
    super('CONTROL_BAD_KEY', `bad key ${JSON.stringify(key.slice(0, 80))}: ${problem}`, {
      details: { problem },
    });
  }
}

/** A value is larger than `MAX_CONTROL_VALUE_BYTES`. */
export class ControlBadValueError extends ControlPlaneError {
  constructor(key: string, problem: string) {
    super('CONTROL_BAD_VALUE', `bad value for ${JSON.stringify(key.slice(0, 80))}: ${problem}`, {
      details: { problem },
    });
  }
}

/** Some other argument is out of its domain (a TTL, a limit, a revision, a txn too large). */
export class ControlBadRequestError extends ControlPlaneError {
  constructor(problem: string) {
    super('CONTROL_BAD_REQUEST', `bad control-plane request: ${problem}`, { details: { problem } });
  }
}

/** The store refused the request for a reason of its own (no space, ...); `reason` is its code. */
export class ControlRejectedError extends ControlPlaneError {
  readonly reason: string;

  constructor(reason: string, message: string, cause?: unknown) {
    super('CONTROL_REJECTED', `the store refused the request: ${message}`, { cause, details: { reason } });
    this.reason = reason;
  }
}

/** A stored record is not the JSON the caller expected. */
export class ControlRecordDecodeError extends ControlPlaneError {
  constructor(key: string, problem: string, cause?: unknown) {
    super('CONTROL_RECORD_DECODE', `record ${JSON.stringify(key.slice(0, 80))} does not decode: ${problem}`, {
      cause,
      details: { key, problem },
    });
  }
}

/** The control plane was closed; no further calls are made. */
export class ControlClosedError extends ControlPlaneError {
  constructor() {
    super('CONTROL_CLOSED', 'the control plane is closed');
  }
}
