export { AuthNotEnabledError } from './auth-service.js';
export { ETCD_ERRORS, type GrpcFailure, grpcFailureOf } from './error-map.js';
export {
  MemberBadUrlsError,
  MemberExistsError,
  MemberNotFoundError,
  MemberNotLearnerError,
  PeerUrlExistsError,
} from './errors.js';
export { type EtcdApiServer, type EtcdApiServerOptions, startEtcdApiServer } from './etcd-server.js';
export {
  DEFAULT_PROGRESS_NOTIFY_INTERVAL_MS,
  MAX_PENDING_KEEPALIVES_PER_STREAM,
  MAX_RECEIVE_MESSAGE_BYTES,
  MAX_WATCHES_PER_STREAM,
  SERVED_ETCD_API_VERSION,
  SNAPSHOT_CHUNK_BYTES,
} from './limits.js';
export {
  LEASE_EXPIRY_CHECK_INTERVAL_MS,
  LocalKvBackend,
  type LocalKvBackendOptions,
} from './local-backend.js';
export {
  BadSessionError,
  CLIENT_ID_HEADER,
  SEQUENCE_HEADER,
  sessionFromMetadata,
} from './session-metadata.js';
