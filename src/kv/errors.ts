import { MeshError } from '../lib/index.js';

/**
 * Operating errors of the key-value state machine. Each has a stable code and carries the numbers a
 * client needs (compact revision, current revision, lease id) in `details`, so the codec can carry
 * them and rebuild the same typed error on the other side.
 */
export class KvError extends MeshError {}

/** The revision asked for was removed by compaction; `compactRevision` is the oldest readable one. */
export class CompactedError extends KvError {
  readonly compactRevision: number;
  constructor(compactRevision: number) {
    super('KV_COMPACTED', `revision has been compacted (compact revision ${compactRevision})`, {
      details: { compactRevision },
    });
    this.compactRevision = compactRevision;
  }
}

/** The revision asked for is later than the store's current revision. */
export class FutureRevisionError extends KvError {
  readonly currentRevision: number;
  constructor(currentRevision: number) {
    super('KV_FUTURE_REVISION', `revision is later than the current revision ${currentRevision}`, {
      details: { currentRevision },
    });
    this.currentRevision = currentRevision;
  }
}

export class LeaseNotFoundError extends KvError {
  readonly leaseId: number;
  constructor(leaseId: number) {
    super('KV_LEASE_NOT_FOUND', `lease ${leaseId} not found`, { details: { leaseId } });
    this.leaseId = leaseId;
  }
}

export class LeaseExistsError extends KvError {
  readonly leaseId: number;
  constructor(leaseId: number) {
    super('KV_LEASE_EXISTS', `lease ${leaseId} already exists`, { details: { leaseId } });
    this.leaseId = leaseId;
  }
}

export class LeaseTtlTooLargeError extends KvError {
  constructor(maxSeconds: number) {
    super('KV_LEASE_TTL_TOO_LARGE', `lease TTL exceeds the maximum of ${maxSeconds} seconds`, {
      details: { maxSeconds },
    });
  }
}

/** A txn branch writes one key twice (two puts, or a put inside a deleted range). */
export class DuplicateKeyError extends KvError {
  constructor() {
    super('KV_DUPLICATE_KEY', 'duplicate key given in txn request');
  }
}

export class TooManyOperationsError extends KvError {
  constructor(limit: number) {
    super('KV_TOO_MANY_OPERATIONS', `too many operations in txn request (limit ${limit})`, {
      details: { limit },
    });
  }
}

export class RequestTooLargeError extends KvError {
  constructor(sizeBytes: number, limitBytes: number) {
    super('KV_REQUEST_TOO_LARGE', `request is ${sizeBytes} bytes, larger than ${limitBytes}`, {
      details: { sizeBytes, limitBytes },
    });
  }
}

export class EmptyKeyError extends KvError {
  constructor() {
    super('KV_EMPTY_KEY', 'key is not provided');
  }
}

/** The range end sorts before the key (and is not the "\0" all-keys sentinel). */
export class InvalidRangeError extends KvError {
  constructor() {
    super('KV_INVALID_RANGE', 'range end sorts before the key');
  }
}

/** `ignoreValue` or `ignoreLease` was asked for on a key that does not exist. */
export class KeyNotFoundError extends KvError {
  constructor() {
    super('KV_KEY_NOT_FOUND', 'key not found');
  }
}

/** A request field is out of its domain (negative number, contradictory flags, ...). */
export class InvalidRequestError extends KvError {
  constructor(problem: string) {
    super('KV_INVALID_REQUEST', `invalid request: ${problem}`, { details: { problem } });
  }
}

/** Bytes did not decode as a command, result or snapshot; `problem` names what was wrong. */
export class KvCodecError extends KvError {
  constructor(subject: string, problem: string) {
    super('KV_CODEC', `cannot decode ${subject}: ${problem}`, { details: { subject, problem } });
  }
}

/** The decode-error factory the key-value codecs hand to `BinaryReader`. */
export function kvCodecError(subject: string, problem: string): KvCodecError {
  return new KvCodecError(subject, problem);
}

/** A snapshot failed its checksum or structure check on restore. */
export class SnapshotCorruptError extends KvError {
  constructor(problem: string) {
    super('KV_SNAPSHOT_CORRUPT', `snapshot is corrupt: ${problem}`, { details: { problem } });
  }
}

/** A write was refused: the space quota is exceeded, or a NOSPACE alarm is raised. */
export class NoSpaceError extends KvError {
  constructor() {
    super('KV_NO_SPACE', 'database space exceeded');
  }
}

/** Rebuilds a typed error from its code and details, as carried by the result codec. */
export function kvErrorFromCode(
  code: string,
  details: Readonly<Record<string, number>>,
  message: string,
): KvError {
  const number = (name: string): number => details[name] ?? 0;
  switch (code) {
    case 'KV_COMPACTED':
      return new CompactedError(number('compactRevision'));
    case 'KV_FUTURE_REVISION':
      return new FutureRevisionError(number('currentRevision'));
    case 'KV_LEASE_NOT_FOUND':
      return new LeaseNotFoundError(number('leaseId'));
    case 'KV_LEASE_EXISTS':
      return new LeaseExistsError(number('leaseId'));
    case 'KV_LEASE_TTL_TOO_LARGE':
      return new LeaseTtlTooLargeError(number('maxSeconds'));
    case 'KV_DUPLICATE_KEY':
      return new DuplicateKeyError();
    case 'KV_TOO_MANY_OPERATIONS':
      return new TooManyOperationsError(number('limit'));
    case 'KV_REQUEST_TOO_LARGE':
      return new RequestTooLargeError(number('sizeBytes'), number('limitBytes'));
    case 'KV_EMPTY_KEY':
      return new EmptyKeyError();
    case 'KV_INVALID_RANGE':
      return new InvalidRangeError();
    case 'KV_KEY_NOT_FOUND':
      return new KeyNotFoundError();
    case 'KV_NO_SPACE':
      return new NoSpaceError();
    default:
      return new KvError(code, message, { details: { ...details } });
  }
}

/** The numeric details of an error, the only details the result codec carries. */
export function numericDetails(error: KvError): Record<string, number> {
  const numbers: Record<string, number> = {};
  for (const [name, value] of Object.entries(error.details)) {
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) numbers[name] = value;
  }
  return numbers;
}
