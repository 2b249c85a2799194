export { AuthNotEnabledError } from './auth-service.js';
export type { BlobPutResult, BlobRead, BlobsBackend } from './blobs-backend.js';
export {
  type BlobsPortService,
  blobStatusToPb,
  blobsPortService,
  DEFAULT_BLOB_REPLICAS,
} from './blobs-service.js';
export { chainRecordStream } from './chain-record-stream.js';
export type {
  ChainAppendResult,
  ChainCreateInput,
  ChainReadResult,
  ChainRecord,
  ChainRecordStream,
  ChainReplicaStatus,
  ChainStatus,
  ChainSummary,
  ChainsBackend,
} from './chains-backend.js';
export { type ChainsPortService, chainsPortService } from './chains-service.js';
export { type CallWithAuthContext, clientCertificateCommonName } from './client-certificate.js';
export {
  type ClientPortServer,
  type ClientPortServerOptions,
  type ClientPortService,
  startClientPortServer,
} from './client-port-server.js';
export {
  CLIENT_TLS_REFUSAL_REASONS,
  type ClientPortTls,
  ClientTlsError,
  type ClientTlsRefusalReason,
  type ClientTlsRefusals,
  clientCertificateAuthProblem,
  clientPortTlsProblems,
  newClientTlsRefusals,
} from './client-port-tls.js';
export type {
  DaemonDeployInput,
  DaemonMoveResult,
  DaemonOutput,
  DaemonSendResult,
  DaemonStateResult,
  DaemonsBackend,
} from './daemons-backend.js';
export { type DaemonsPortService, daemonsPortService } from './daemons-service.js';
export { ETCD_ERRORS, type GrpcFailure, grpcFailureOf } from './error-map.js';
export {
  BadLeaderTransfereeError,
  checkPeerUrls,
  LeaderTransferTimeoutError,
  MemberBadUrlsError,
  MemberExistsError,
  MemberNotFoundError,
  MemberNotLearnerError,
  PeerUrlExistsError,
} from './errors.js';
export {
  type EtcdApiServer,
  type EtcdApiServerOptions,
  etcdPortServices,
  startEtcdApiServer,
} from './etcd-server.js';
export { type AuthForwarder, forwardedAuthService } from './forwarded-auth-service.js';
export {
  type AnswerTo,
  answerOf,
  type BackendStatus,
  type ClientSession,
  type ClusterMember,
  describeAlarm,
  type KvAnswer,
  type KvBackend,
  type LeaseTimeToLiveAnswer,
  type MemberChange,
  type RequestOptions,
} from './kv-backend.js';
export {
  DEFAULT_CHAIN_READ_LIMIT_RECORDS,
  DEFAULT_CHAIN_READ_MAX_BYTES,
  DEFAULT_PROGRESS_NOTIFY_INTERVAL_MS,
  MAX_PENDING_KEEPALIVES_PER_STREAM,
  MAX_RECEIVE_MESSAGE_BYTES,
  MAX_WATCHES_PER_STREAM,
  SERVED_ETCD_API_VERSION,
  SNAPSHOT_CHUNK_BYTES,
} from './limits.js';
export {
  type MeshAccessCheck,
  type MeshResourceKind,
  meshAccess,
  meshResourceInterval,
  OPEN_MESH_ACCESS,
} from './mesh-access.js';
export { EtcdApiNotServedError, refusedEtcdServices } from './refused-etcd-services.js';
export { asCaller, callerOf, credentialsOf, requireRoot, TOKEN_METADATA } from './request-auth.js';
export {
  BadSessionError,
  CLIENT_ID_HEADER,
  SEQUENCE_HEADER,
  sessionFromMetadata,
} from './session-metadata.js';
