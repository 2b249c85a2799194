/**
 * Our error codes (`MeshError.code`) -> etcd's gRPC status codes and exact messages, so etcd
 * clients recognise the errors (several clients match on the message text). The one place where
 * that mapping lives.
 */
import { status } from '@grpc/grpc-js';
import { isMeshError, type MeshError } from '../lib/index.js';

export interface GrpcFailure {
  readonly code: status;
  readonly message: string;
}

/** etcd's client-visible error messages, by the name etcd gives them. */
export const ETCD_ERRORS = {
  emptyKey: { code: status.INVALID_ARGUMENT, message: 'etcdserver: key is not provided' },
  keyNotFound: { code: status.INVALID_ARGUMENT, message: 'etcdserver: key not found' },
  valueProvided: { code: status.INVALID_ARGUMENT, message: 'etcdserver: value is provided' },
  leaseProvided: { code: status.INVALID_ARGUMENT, message: 'etcdserver: lease is provided' },
  tooManyOps: { code: status.INVALID_ARGUMENT, message: 'etcdserver: too many operations in txn request' },
  duplicateKey: { code: status.INVALID_ARGUMENT, message: 'etcdserver: duplicate key given in txn request' },
  compacted: { code: status.OUT_OF_RANGE, message: 'etcdserver: mvcc: required revision has been compacted' },
  futureRevision: {
    code: status.OUT_OF_RANGE,
    message: 'etcdserver: mvcc: required revision is a future revision',
  },
  leaseNotFound: { code: status.NOT_FOUND, message: 'etcdserver: requested lease not found' },
  leaseExists: { code: status.FAILED_PRECONDITION, message: 'etcdserver: lease already exists' },
  leaseTtlTooLarge: { code: status.OUT_OF_RANGE, message: 'etcdserver: too large lease TTL' },
  memberExists: { code: status.FAILED_PRECONDITION, message: 'etcdserver: member ID already exist' },
  peerUrlExists: { code: status.FAILED_PRECONDITION, message: 'etcdserver: Peer URLs already exists' },
  memberBadUrls: { code: status.INVALID_ARGUMENT, message: 'etcdserver: given member URLs are invalid' },
  memberNotFound: { code: status.NOT_FOUND, message: 'etcdserver: member not found' },
  memberNotLearner: {
    code: status.FAILED_PRECONDITION,
    message: 'etcdserver: can only promote a learner member',
  },
  learnerNotReady: {
    code: status.FAILED_PRECONDITION,
    message: 'etcdserver: can only promote a learner member which is in sync with leader',
  },
  tooManyLearners: {
    code: status.FAILED_PRECONDITION,
    message: 'etcdserver: too many learner members in cluster',
  },
  requestTooLarge: { code: status.INVALID_ARGUMENT, message: 'etcdserver: request is too large' },
  tooManyRequests: { code: status.RESOURCE_EXHAUSTED, message: 'etcdserver: too many requests' },
  noSpace: { code: status.RESOURCE_EXHAUSTED, message: 'etcdserver: mvcc: database space exceeded' },
  authNotEnabled: { code: status.FAILED_PRECONDITION, message: 'etcdserver: authentication is not enabled' },
  authFailed: {
    code: status.INVALID_ARGUMENT,
    message: 'etcdserver: authentication failed, invalid user ID or password',
  },
  permissionDenied: { code: status.PERMISSION_DENIED, message: 'etcdserver: permission denied' },
  invalidAuthToken: { code: status.UNAUTHENTICATED, message: 'etcdserver: invalid auth token' },
  userEmpty: { code: status.INVALID_ARGUMENT, message: 'etcdserver: user name is empty' },
  roleEmpty: { code: status.INVALID_ARGUMENT, message: 'etcdserver: role name is empty' },
  userExists: { code: status.FAILED_PRECONDITION, message: 'etcdserver: user name already exists' },
  userNotFound: { code: status.FAILED_PRECONDITION, message: 'etcdserver: user name not found' },
  roleExists: { code: status.FAILED_PRECONDITION, message: 'etcdserver: role name already exists' },
  roleNotFound: { code: status.FAILED_PRECONDITION, message: 'etcdserver: role name not found' },
  roleNotGranted: {
    code: status.FAILED_PRECONDITION,
    message: 'etcdserver: role is not granted to the user',
  },
  permissionNotGranted: {
    code: status.FAILED_PRECONDITION,
    message: 'etcdserver: permission is not granted to the role',
  },
  rootUserMissing: { code: status.FAILED_PRECONDITION, message: 'etcdserver: root user does not exist' },
  rootRoleMissing: {
    code: status.FAILED_PRECONDITION,
    message: 'etcdserver: root user does not have root role',
  },
  invalidAuthManagement: { code: status.INVALID_ARGUMENT, message: 'etcdserver: invalid auth management' },
  noLeader: { code: status.UNAVAILABLE, message: 'etcdserver: no leader' },
  // etcd answers FAILED_PRECONDITION here; our followers answer it where etcd would forward, so we
  // say UNAVAILABLE and clients fail over to another endpoint.
  notLeader: { code: status.UNAVAILABLE, message: 'etcdserver: not leader' },
  leaderChanged: { code: status.UNAVAILABLE, message: 'etcdserver: leader changed' },
  stopped: { code: status.UNAVAILABLE, message: 'etcdserver: server stopped' },
  timeout: { code: status.UNAVAILABLE, message: 'etcdserver: request timed out' },
  unhealthy: { code: status.UNAVAILABLE, message: 'etcdserver: unhealthy cluster' },
  corrupt: { code: status.DATA_LOSS, message: 'etcdserver: corrupt cluster' },
  // etcd has no gRPC status of its own for this; UNAVAILABLE sends clients to another member.
  memberRemoved: {
    code: status.UNAVAILABLE,
    message: 'etcdserver: the member has been permanently removed from the cluster',
  },
  badLeaderTransferee: { code: status.FAILED_PRECONDITION, message: 'etcdserver: bad leader transferee' },
  leaderTransferTimeout: {
    code: status.UNAVAILABLE,
    message: 'etcdserver: request timed out, leader transfer took too long',
  },
} as const satisfies Record<string, GrpcFailure>;

/** Codes whose etcd answer does not depend on the error's details. */
const BY_CODE: Readonly<Record<string, GrpcFailure>> = {
  KV_EMPTY_KEY: ETCD_ERRORS.emptyKey,
  KV_KEY_NOT_FOUND: ETCD_ERRORS.keyNotFound,
  KV_NO_SPACE: ETCD_ERRORS.noSpace,
  KV_TOO_MANY_OPERATIONS: ETCD_ERRORS.tooManyOps,
  KV_DUPLICATE_KEY: ETCD_ERRORS.duplicateKey,
  KV_COMPACTED: ETCD_ERRORS.compacted,
  KV_FUTURE_REVISION: ETCD_ERRORS.futureRevision,
  KV_LEASE_NOT_FOUND: ETCD_ERRORS.leaseNotFound,
  KV_LEASE_EXISTS: ETCD_ERRORS.leaseExists,
  KV_LEASE_TTL_TOO_LARGE: ETCD_ERRORS.leaseTtlTooLarge,
  KV_REQUEST_TOO_LARGE: ETCD_ERRORS.requestTooLarge,
  PROPOSAL_TOO_LARGE: ETCD_ERRORS.requestTooLarge,
  STORE_RECORD_TOO_LARGE: ETCD_ERRORS.requestTooLarge,
  KV_TOO_MANY_WATCHERS: ETCD_ERRORS.tooManyRequests,
  TOO_MANY_REQUESTS: ETCD_ERRORS.tooManyRequests,
  TOO_MANY_UNCOMMITTED: ETCD_ERRORS.tooManyRequests,
  TOO_MANY_PENDING_READS: ETCD_ERRORS.tooManyRequests,
  STORE_OVERLOADED: ETCD_ERRORS.tooManyRequests,
  KV_LESSOR_NOT_PRIMARY: ETCD_ERRORS.notLeader,
  PROPOSAL_DROPPED: ETCD_ERRORS.leaderChanged,
  LEADER_CHANGED: ETCD_ERRORS.leaderChanged,
  READ_DROPPED: ETCD_ERRORS.leaderChanged,
  TRANSFER_IN_PROGRESS: ETCD_ERRORS.leaderChanged,
  NODE_STOPPED: ETCD_ERRORS.stopped,
  // A request forwarded to a leader this node lost while it was in flight: outcome unknown.
  UNAVAILABLE: ETCD_ERRORS.leaderChanged,
  // A request that could not be sent to the leader until its wait ran out: never proposed.
  LEADER_UNREACHABLE: ETCD_ERRORS.noLeader,
  TIMEOUT: ETCD_ERRORS.timeout,
  CONFIG_CHANGE_PENDING: ETCD_ERRORS.unhealthy,
  KV_SNAPSHOT_CORRUPT: ETCD_ERRORS.corrupt,
  STORE_CORRUPT: ETCD_ERRORS.corrupt,
  MEMBER_NOT_FOUND: ETCD_ERRORS.memberNotFound,
  MEMBER_EXISTS: ETCD_ERRORS.memberExists,
  PEER_URL_EXISTS: ETCD_ERRORS.peerUrlExists,
  MEMBER_BAD_URLS: ETCD_ERRORS.memberBadUrls,
  MEMBER_NOT_LEARNER: ETCD_ERRORS.memberNotLearner,
  LEARNER_NOT_READY: ETCD_ERRORS.learnerNotReady,
  TOO_MANY_LEARNERS: ETCD_ERRORS.tooManyLearners,
  AUTH_NOT_ENABLED: ETCD_ERRORS.authNotEnabled,
  AUTH_FAILED: ETCD_ERRORS.authFailed,
  AUTH_PERMISSION_DENIED: ETCD_ERRORS.permissionDenied,
  AUTH_INVALID_TOKEN: ETCD_ERRORS.invalidAuthToken,
  AUTH_USER_EMPTY: ETCD_ERRORS.userEmpty,
  AUTH_ROLE_EMPTY: ETCD_ERRORS.roleEmpty,
  AUTH_USER_EXISTS: ETCD_ERRORS.userExists,
  AUTH_USER_NOT_FOUND: ETCD_ERRORS.userNotFound,
  AUTH_ROLE_EXISTS: ETCD_ERRORS.roleExists,
  AUTH_ROLE_NOT_FOUND: ETCD_ERRORS.roleNotFound,
  AUTH_ROLE_NOT_GRANTED: ETCD_ERRORS.roleNotGranted,
  AUTH_PERMISSION_NOT_GRANTED: ETCD_ERRORS.permissionNotGranted,
  AUTH_ROOT_USER_MISSING: ETCD_ERRORS.rootUserMissing,
  AUTH_ROOT_ROLE_MISSING: ETCD_ERRORS.rootRoleMissing,
  AUTH_INVALID_MANAGEMENT: ETCD_ERRORS.invalidAuthManagement,
  AUTH_SNAPSHOT_CORRUPT: ETCD_ERRORS.corrupt,
  MEMBER_REMOVED: ETCD_ERRORS.memberRemoved,
  BAD_LEADER_TRANSFEREE: ETCD_ERRORS.badLeaderTransferee,
  INVALID_TRANSFER_TARGET: ETCD_ERRORS.badLeaderTransferee,
  LEADER_TRANSFER_TIMEOUT: ETCD_ERRORS.leaderTransferTimeout,
};

function fromDetails(error: MeshError): GrpcFailure | undefined {
  switch (error.code) {
    case 'NOT_LEADER':
      return error.details.leaderId === 0 || error.details.leaderId === undefined
        ? ETCD_ERRORS.noLeader
        : ETCD_ERRORS.notLeader;
    case 'KV_INVALID_REQUEST':
      if (error.details.problem === 'value is provided') return ETCD_ERRORS.valueProvided;
      if (error.details.problem === 'lease is provided') return ETCD_ERRORS.leaseProvided;
      return { code: status.INVALID_ARGUMENT, message: `etcdserver: ${error.message}` };
    case 'KV_INVALID_RANGE':
    case 'BAD_SESSION':
    case 'STALE_REQUEST':
    case 'INVALID_CONFIG_CHANGE':
    case 'VALIDATION_FAILED':
    case 'AUTH_BAD_REQUEST':
      return { code: status.INVALID_ARGUMENT, message: `etcdserver: ${error.message}` };
    default:
      return undefined;
  }
}

/**
 * The gRPC status for an error. Known codes get etcd's exact answer; other operating errors are
 * UNKNOWN with their own message (as etcd does for errors it has no status for); anything that is
 * not a `MeshError` is a bug and answers INTERNAL.
 */
export function grpcFailureOf(error: unknown): GrpcFailure {
  if (isMeshError(error)) {
    return (
      BY_CODE[error.code] ??
      fromDetails(error) ?? { code: status.UNKNOWN, message: `etcdserver: ${error.message}` }
    );
  }
  return { code: status.INTERNAL, message: `etcdserver: internal error: ${String(error)}` };
}
