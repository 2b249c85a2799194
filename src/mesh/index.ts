export {
  type OpenedSnapshotFile,
  openSnapshotFile,
  SnapshotFileCorruptError,
  type SnapshotFileSummary,
  summarizeSnapshotFile,
} from '../server/index.js';
export {
  type ActionsDocument,
  ADMIN_SCHEMA_VERSION,
  type ChainsDocument,
  type ConsensusDocument,
  type DaemonStatusDocument,
  type DaemonsDocument,
  type DeckSnapshot,
  type LeaderChange,
  type MaintenanceDocument,
  type MaintenanceStatusDocument,
  type NodesDocument,
  type ReconcileDocument,
  type RttDocument,
  type Versioned,
  versioned,
} from './admin-documents.js';
export { ADMIN_SCHEMA, type SchemaNode, schemaProblems } from './admin-schema.js';
export {
  ACTION_STATES,
  type ActionState,
  type ActionsReport,
  type ActionView,
  actionsFromAudit,
  describeWireAction,
  type QueueLatencySummary,
} from './audit-actions.js';
export { type AuditedEvent, AuditFeed, type AuditFeedOptions } from './audit-feed.js';
export {
  AUDIT_BATCH_RECORDS,
  AUDIT_BUFFER_RECORDS,
  AUDIT_CLOSE_TIMEOUT_MS,
  AUDIT_READ_PAGE_RECORDS,
  AUDIT_RETAINED_RECORDS,
  AUDIT_TRIM_RECORDS_PER_WRITE,
  MAX_AUDIT_REASON_CHARACTERS,
  MAX_AUDIT_RECORD_BYTES,
  MIN_AUDIT_RETAINED_RECORDS,
} from './audit-limits.js';
export {
  type AuditBounds,
  type AuditFollow,
  type AuditListOptions,
  AuditReader,
  openAuditReader,
} from './audit-reader.js';
export {
  AUDIT_EMPTY_ANCHOR,
  AUDIT_GENESIS_HASH,
  AUDIT_RECORD_VERSION,
  type AuditAnchor,
  type AuditEntry,
  type AuditEntryType,
  type AuditHead,
  type AuditRecord,
  type AuditWriter,
  auditRecordHash,
  canonicalJson,
  decodeAuditRecord,
  sealAuditRecord,
} from './audit-record.js';
export {
  AuditRecorder,
  type AuditRecorderOptions,
  type AuditRecorderStatus,
  type AuditTerm,
} from './audit-recorder.js';
export {
  AuditChainVerifier,
  type AuditExpectation,
  type AuditGap,
  type AuditProblem,
  type AuditProblemKind,
  type AuditVerifyReport,
} from './audit-verify.js';
export {
  AvoidClient,
  type AvoidClientOptions,
  type AvoidListEntry,
  AvoidRequestInvalidError,
  MAX_AVOID_REASON_CHARACTERS,
} from './avoid-client.js';
export {
  CLIENT_TLS_FILES_CHECK_INTERVAL_MS,
  type ClientPortTlsFiles,
  readClientPortTls,
  watchClientPortTls,
} from './client-tls-files.js';
export { DATA_DIRECTORY_LOCK_START_TIMEOUT_MS } from './common-services.js';
export {
  checkpointEveryEventsProblems,
  MAX_MEMBER_CHECKPOINT_EVERY_EVENTS,
  MEMBER_CHECKPOINT_EVERY_EVENTS,
  MIN_MEMBER_CHECKPOINT_EVERY_EVENTS,
} from './daemon-member-checkpoints.js';
export { DaemonScaleClient, DaemonScaleInvalidError, type DaemonScaleResult } from './daemon-scale-client.js';
export {
  claimIsLive,
  DATA_DIRECTORY_LOCK_ATTEMPTS,
  DATA_DIRECTORY_LOCK_RETRY_MAX_MS,
  DataDirectoryLock,
  DataDirectoryLockedError,
  type ProcessProbe,
} from './data-directory-lock.js';
export {
  DRAIN_MOVE_TIMEOUT_MS,
  MAINTENANCE_CHECK_INTERVAL_MS,
  MaintenanceAgent,
  type MaintenanceAgentOptions,
} from './maintenance-agent.js';
export {
  DRAIN_OUTCOME_MARGIN_MS,
  DRAIN_POLL_INTERVAL_MS,
  MaintenanceClient,
  type MaintenanceClientOptions,
  type MaintenanceStatus,
} from './maintenance-client.js';
export { type DaemonDrainStep, planDaemonDrain } from './maintenance-drain-plan.js';
export {
  MaintenanceDrainFailedError,
  MaintenanceDurationError,
  MaintenanceNodeUnknownError,
  MaintenanceNotEnteredError,
  MaintenanceOutcomeByNodeError,
  MaintenanceWriteConflictError,
  MaintenanceWriteFencedError,
} from './maintenance-errors.js';
export { describeHoldings, holdingsOf, type NodeHoldings } from './maintenance-holdings.js';
export { MaintenanceOwner, type MaintenanceOwnerOptions, type OwnerDispatch } from './maintenance-owner.js';
export type { MaintenanceRecord, StoredMaintenanceRequest } from './maintenance-record.js';
export { MAX_MAINTENANCE_WRITE_ATTEMPTS, MaintenanceStore } from './maintenance-store.js';
export { type MaintenanceStates, MaintenanceView } from './maintenance-view.js';
export {
  MAX_DIALED_NODES,
  MAX_LEASE_QUERIES_IN_FLIGHT,
  Membership,
  type MembershipOptions,
  type NodeListing,
  type NodesReport,
  nodesToDial,
  nodesToMeasure,
  registerMembershipMetrics,
} from './membership.js';
export {
  type ControlPlaneCredentialFiles,
  type ControlPlaneTlsFiles,
  DEFAULT_NODE_LEASE_TTL_SECONDS,
  MAX_CONTROL_PLANE_ENDPOINTS,
  MAX_NODE_LEASE_TTL_SECONDS,
  type MembershipConfig,
  MIN_NODE_LEASE_TTL_SECONDS,
  membershipConfigProblems,
  validateWorkerNodeConfig,
  type WorkerNodeConfig,
} from './membership-config.js';
export {
  type MemberNode,
  type MembershipChange,
  MembershipView,
  type MembershipViewOptions,
  type NodeHealth,
} from './membership-view.js';
export {
  MeshNode,
  type MeshNodeDependencies,
  type MeshNodeEndpoints,
  NodeBuilder,
  type NodeExit,
} from './mesh-node.js';
export { createNodeMetrics, type NodeMetrics } from './metrics.js';
export {
  durationMs,
  formatPeerList,
  type MeshNodeConfig,
  parseAutoCompaction,
  parsePeerList,
  raftDirectory,
  validateMeshNodeConfig,
} from './node-config.js';
export {
  checkIdentity,
  IdentityCorruptError,
  IdentityMismatchError,
  loadOrCreateIdentity,
  type NodeIdentity,
  readIdentity,
} from './node-identity.js';
export { type CommonNodeConfig, type CommonServiceContext, type NodeParts, SERVICE } from './node-parts.js';
export {
  capacityProblems,
  MAX_CAPACITY_RESOURCE_CHARACTERS,
  MAX_CAPACITY_RESOURCES,
  MAX_NODE_NAME_CHARACTERS,
  MAX_VERSION_CHARACTERS,
  MAX_ZONE_CHARACTERS,
  NODE_ROLES,
  type NodeAddresses,
  type NodeCapacity,
  type NodeRecord,
  NodeRecordError,
  type NodeRole,
  nodeRecordProblems,
  readNodeRecord,
  validateNodeRecord,
} from './node-record.js';
export {
  NodeRegistration,
  type NodeRegistrationOptions,
  REGISTRATION_RETRY_MAX_MS,
  REGISTRATION_RETRY_MIN_MS,
  REVOKE_ON_STOP_TIMEOUT_MS,
  registrationRetryDelayMs,
} from './node-registration.js';
export {
  type NodeService,
  RESTARTABLE_SERVICE_BACKOFF_INITIAL_MS,
  RESTARTABLE_SERVICE_BACKOFF_MAX_MS,
  RESTARTABLE_SERVICE_MAX_RESTARTS,
  RESTARTABLE_SERVICE_PERIOD_MS,
  type RunningService,
  SERVICE_RESTART_POLICIES,
  type ServicePolicy,
  serviceChild,
} from './node-service.js';
export {
  clusterIdNumber,
  type NodeServiceContext,
  RAFT_SHUTDOWN_TIMEOUT_MS,
  RAFT_START_TIMEOUT_MS,
  SHUTDOWN_TRANSFER_TIMEOUT_MS,
  voterServices,
} from './node-services.js';
export {
  measuredMatrix,
  type ProximityParts,
  type RttReport,
  type RttReportRow,
  registerProximityMetrics,
  rttReport,
} from './proximity-service.js';
export { ReconcileActionRefusedError, ReconcileTermFencedError } from './reconcile-errors.js';
export {
  type ReconcileDispatch,
  type ReconcileEventRecord,
  ReconcileHub,
  type ReconcileOwner,
  type ReconcileStateSource,
  type ReconcileTerm,
  reconcileHubOf,
} from './reconcile-hub.js';
export { reconcileService } from './reconcile-service.js';
export { fencedPut } from './reconcile-writes.js';
export { Reconciler, type ReconcilerStatus } from './reconciler.js';
export { InjectedFaultError, ServiceFaults } from './service-faults.js';
export {
  type ServicePhase,
  type ServiceStatus,
  type ServiceTreeStatus,
  serviceTreeStatus,
} from './service-status.js';
export { NodeStartError, ServiceTree } from './service-tree.js';
export {
  type RestoredDirectory,
  type RestorePlan,
  RestoreTargetError,
  restoreDataDirectory,
} from './snapshot-restore.js';
export { meshosVersion } from './version.js';
export {
  allocateWorkerNodeId,
  FIRST_WORKER_NODE_ID,
  LAST_WORKER_NODE_ID,
  MAX_WORKER_ID_ALLOCATION_ATTEMPTS,
  WorkerIdAllocationError,
} from './worker-id.js';
export {
  type WorkerExit,
  WorkerNode,
  type WorkerNodeDependencies,
  type WorkerNodeEndpoints,
} from './worker-node.js';
export { readCredentials, workerServices } from './worker-services.js';
