// The reconcile loop's pure core (docs/RECONCILE.md): reconcile(observed, desired) -> actions,
// the executor, crash-loop backoff, the avoid list and the maintenance state machine. Nodes run
// it through src/mesh/reconcile-service.ts (one holder of the reconciler lease at a time).
export {
  ACTION_KINDS,
  type ActionId,
  ActionIds,
  type ActionKind,
  type ActionOwner,
  actionKey,
  NO_ACTION_ID,
  nodeOf,
  ownerOf,
  type PendingAction,
  type ReconcileAction,
} from './actions.js';
export type { AdmissionDecision } from './admission.js';
export { AvoidList, avoidedAt, avoidTtlProblem } from './avoid-list.js';
export { backoffDelayMs, type CrashBackoff, crashBackoff } from './backoff.js';
export {
  ACTION_RETRY_INITIAL_MS,
  ACTION_RETRY_MAX_MS,
  ACTION_RETRY_RESET_MS,
  BACKPRESSURE_OFF_QUEUED_ACTIONS,
  BACKPRESSURE_ON_QUEUED_ACTIONS,
  BLOB_HOT_HEAT,
  CAUGHT_UP_LAG_RECORDS,
  CRASH_BACKOFF_INITIAL_MS,
  CRASH_BACKOFF_MAX_MS,
  CRASH_BACKOFF_RESET_MS,
  CRASH_LOOP_COOLDOWN_MS,
  CRASH_LOOP_CRASHES,
  CRASH_LOOP_WINDOW_MS,
  DEFAULT_DRAIN_DEADLINE_MS,
  DOWN_NODE_GRACE_MS,
  DRAIN_RATE_WINDOW_MS,
  MAX_ACTIONS_IN_FLIGHT,
  MAX_AVOID_ENTRIES,
  MAX_AVOID_TTL_MS,
  MAX_BLOB_REPLICAS,
  MAX_CHAIN_REPLICAS_DESIRED,
  MAX_CRASH_TIMES_KEPT,
  MAX_DAEMON_MEMBERS,
  MAX_DEFERRALS_PER_ACTION,
  MAX_DRAIN_DEADLINE_MS,
  MAX_DRAIN_REASON_ITEMS,
  MAX_DRAINS_PER_ZONE_PER_WINDOW,
  MAX_RECOVERY_RAMP_UP_MS,
  OPERATOR_AVOID_SLACK_MS,
  RECOVERY_RAMP_UP_MS,
  REPLICA_PULL_COOLDOWN_MS,
  SLOW_PEER_AVOID_TTL_MS,
  SLOW_PEER_RTT_MS,
  STOP_DAEMON_GRACE_MS,
} from './constants.js';
export type { Blocked, ReconcileResult } from './emitter.js';
export {
  AvoidListError,
  ExecutorInputError,
  MaintenanceTransitionError,
  ReconcileInputError,
  type ReconcileProblem,
  type ReconcileProblemCode,
} from './errors.js';
export {
  ActionExecutor,
  type ActionHandler,
  type ActionOwners,
  type ExecutorEvent,
  type ExecutorOptions,
  type ExecutorStatus,
  type SubmitOutcome,
} from './executor.js';
export {
  ACTIVE,
  applyMaintenanceTransition,
  type DrainProgress,
  drainFailedReason,
  freezesPlacement,
  isAllowedTransition,
  isDraining,
  MAINTENANCE_PHASES,
  type MaintenancePhase,
  type MaintenanceRequest,
  type MaintenanceState,
  nextMaintenanceTransition,
} from './maintenance.js';
export { reconcile } from './reconcile.js';
export type {
  AvoidEntry,
  AvoidRequest,
  BlobSpec,
  ChainSpec,
  DaemonSpec,
  DesiredState,
  NodeHealth,
  ObservedBlob,
  ObservedChain,
  ObservedDaemon,
  ObservedNode,
  ObservedReplica,
  ObservedState,
  RttRow,
} from './state.js';
export { monotonicFromWall, type ReconcileTime, wallFromMonotonic } from './time.js';
export { validateReconcileInput } from './validate.js';
export type { ReconcileOptions } from './view.js';
export { toWireRecord, type WireAction, type WireActionRecord } from './wire-record.js';
