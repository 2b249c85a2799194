/**
 * Typed errors of the client. A failure from a node arrives as a gRPC status and etcd's message
 * text; it is turned back into a `MeshError` with the same stable code the server raised, so that
 * callers match on `code` whichever side of the wire an error came from.
 */
import { status as grpcStatus } from '@grpc/grpc-js';
import { MeshError } from '../lib/index.js';

/** Every error the client throws for an operating failure. */
export class MeshClientError extends MeshError {
  /** The gRPC status code the node answered with, when the failure came from the wire. */
  readonly grpcCode: number | undefined;
  /** Whether sending the same request again (possibly elsewhere) may succeed. */
  readonly retryable: boolean;

  constructor(
    code: string,
    message: string,
    options: {
      grpcCode?: number;
      retryable?: boolean;
      cause?: unknown;
      details?: Record<string, unknown>;
    } = {},
  ) {
    super(code, message, {
      ...(options.cause === undefined ? {} : { cause: options.cause }),
      details: options.details ?? {},
    });
    this.grpcCode = options.grpcCode;
    this.retryable = options.retryable ?? false;
  }
}

/** The node answered that it is not the leader, or that there is no leader right now. */
export class NotLeaderError extends MeshClientError {
  constructor(message: string, grpcCode?: number) {
    super('NOT_LEADER', message, { retryable: true, ...(grpcCode === undefined ? {} : { grpcCode }) });
  }
}

/** The call's deadline passed before an answer arrived (on the client or the server). */
export class TimeoutError extends MeshClientError {
  constructor(message: string, options: { grpcCode?: number; retryable?: boolean; cause?: unknown } = {}) {
    super('TIMEOUT', message, options);
  }
}

/** No endpoint could be reached (refused, reset, unresolvable). */
export class UnavailableError extends MeshClientError {
  constructor(message: string, options: { grpcCode?: number; cause?: unknown } = {}) {
    super('UNAVAILABLE', message, { ...options, retryable: true });
  }
}

/** The revision asked for was compacted away; `compactRevision` is the oldest still kept, when known. */
export class CompactedError extends MeshClientError {
  readonly compactRevision: number | undefined;

  constructor(compactRevision: number | undefined, grpcCode?: number) {
    super(
      'KV_COMPACTED',
      compactRevision === undefined
        ? 'required revision has been compacted'
        : `required revision has been compacted (compact revision ${compactRevision})`,
      { ...(grpcCode === undefined ? {} : { grpcCode }), details: { compactRevision } },
    );
    this.compactRevision = compactRevision;
  }
}

export class LeaseNotFoundError extends MeshClientError {
  constructor(leaseId: number | undefined, grpcCode?: number) {
    super('KV_LEASE_NOT_FOUND', leaseId === undefined ? 'lease not found' : `lease ${leaseId} not found`, {
      ...(grpcCode === undefined ? {} : { grpcCode }),
      details: { leaseId },
    });
  }
}

/** The client was closed; no further calls are made. */
export class ClientClosedError extends MeshClientError {
  constructor() {
    super('CLIENT_CLOSED', 'the client is closed');
  }
}

/** A watch ended from the server side for a reason other than compaction. */
export class WatchCanceledError extends MeshClientError {
  constructor(reason: string) {
    super('WATCH_CANCELED', `watch canceled by the server${reason === '' ? '' : `: ${reason}`}`, {
      details: { reason },
    });
  }
}

/** A snapshot stream whose bytes do not match the digest that ends it, or that is malformed. */
export class SnapshotCorruptError extends MeshClientError {
  constructor(problem: string) {
    super('SNAPSHOT_CORRUPT', `snapshot is corrupt: ${problem}`, { details: { problem } });
  }
}

/** etcd's message text (after the "etcdserver: " prefix) -> our code and whether a retry may help. */
const BY_MESSAGE: ReadonlyArray<readonly [text: string, code: string, retryable: boolean]> = [
  ['key is not provided', 'KV_EMPTY_KEY', false],
  ['key not found', 'KV_KEY_NOT_FOUND', false],
  ['too many operations in txn request', 'KV_TOO_MANY_OPERATIONS', false],
  ['duplicate key given in txn request', 'KV_DUPLICATE_KEY', false],
  ['mvcc: required revision is a future revision', 'KV_FUTURE_REVISION', false],
  ['lease already exists', 'KV_LEASE_EXISTS', false],
  ['too large lease TTL', 'KV_LEASE_TTL_TOO_LARGE', false],
  ['request is too large', 'KV_REQUEST_TOO_LARGE', false],
  ['too many requests', 'TOO_MANY_REQUESTS', true],
  // Past the space quota: retrying cannot help until someone compacts and disarms the alarm.
  ['mvcc: database space exceeded', 'KV_NO_SPACE', false],
  ['member ID already exist', 'MEMBER_EXISTS', false],
  ['Peer URLs already exists', 'PEER_URL_EXISTS', false],
  ['given member URLs are invalid', 'MEMBER_BAD_URLS', false],
  ['member not found', 'MEMBER_NOT_FOUND', false],
  ['can only promote a learner member which is in sync with leader', 'LEARNER_NOT_READY', false],
  ['can only promote a learner member', 'MEMBER_NOT_LEARNER', false],
  ['too many learner members in cluster', 'TOO_MANY_LEARNERS', false],
  ['authentication is not enabled', 'AUTH_NOT_ENABLED', false],
  ['authentication failed, invalid user ID or password', 'AUTH_FAILED', false],
  ['permission denied', 'AUTH_PERMISSION_DENIED', false],
  // Retried by the client after it authenticates again (see auth-token.ts).
  ['invalid auth token', 'AUTH_INVALID_TOKEN', false],
  ['user name is empty', 'AUTH_USER_EMPTY', false],
  ['user name already exists', 'AUTH_USER_EXISTS', false],
  ['user name not found', 'AUTH_USER_NOT_FOUND', false],
  ['role name already exists', 'AUTH_ROLE_EXISTS', false],
  ['role name not found', 'AUTH_ROLE_NOT_FOUND', false],
  ['role is not granted to the user', 'AUTH_ROLE_NOT_GRANTED', false],
  ['permission is not granted to the role', 'AUTH_PERMISSION_NOT_GRANTED', false],
  ['root user does not exist', 'AUTH_ROOT_USER_MISSING', false],
  ['root user does not have root role', 'AUTH_ROOT_ROLE_MISSING', false],
  ['invalid auth management', 'AUTH_INVALID_MANAGEMENT', false],
  ['leader changed', 'LEADER_CHANGED', true],
  ['server stopped', 'NODE_STOPPED', true],
  ['unhealthy cluster', 'CONFIG_CHANGE_PENDING', true],
  ['corrupt cluster', 'CORRUPT', false],
];

const SERVER_PREFIX = 'etcdserver: ';

/** The shape grpc-js rejects a call with. */
interface GrpcFailureLike {
  readonly code?: number;
  readonly details?: string;
  readonly message?: string;
}

/** Turns whatever a gRPC call failed with into a typed client error. */
export function errorFromGrpc(error: unknown, endpoint: string): MeshClientError {
  if (error instanceof MeshClientError) return error;
  const failure = (typeof error === 'object' && error !== null ? error : {}) as GrpcFailureLike;
  const code = typeof failure.code === 'number' ? failure.code : grpcStatus.UNKNOWN;
  const detail = failure.details ?? failure.message ?? String(error);
  const text = detail.startsWith(SERVER_PREFIX) ? detail.slice(SERVER_PREFIX.length) : detail;
  const where = `${endpoint}: ${detail}`;
  if (text === 'not leader' || text === 'no leader') return new NotLeaderError(where, code);
  if (text === 'request timed out') return new TimeoutError(where, { grpcCode: code, retryable: true });
  if (text === 'mvcc: required revision has been compacted') return new CompactedError(undefined, code);
  if (text === 'requested lease not found') return new LeaseNotFoundError(undefined, code);
  for (const [known, meshCode, retryable] of BY_MESSAGE) {
    if (text === known) return new MeshClientError(meshCode, where, { grpcCode: code, retryable });
  }
  switch (code) {
    case grpcStatus.DEADLINE_EXCEEDED:
      return new TimeoutError(`${endpoint}: deadline exceeded`, { grpcCode: code, cause: error });
    case grpcStatus.UNAVAILABLE:
      return new UnavailableError(where, { grpcCode: code, cause: error });
    case grpcStatus.CANCELLED:
      return new MeshClientError('CANCELLED', where, { grpcCode: code, cause: error });
    case grpcStatus.UNIMPLEMENTED:
      return new MeshClientError('UNIMPLEMENTED', where, { grpcCode: code });
    case grpcStatus.INVALID_ARGUMENT:
      return new MeshClientError('INVALID_ARGUMENT', where, { grpcCode: code });
    case grpcStatus.RESOURCE_EXHAUSTED:
      return new MeshClientError('RESOURCE_EXHAUSTED', where, { grpcCode: code });
    default:
      return new MeshClientError('UNKNOWN', where, { grpcCode: code, cause: error });
  }
}
