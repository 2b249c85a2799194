export type { ChildStatus } from './child-runtime.js';
export {
  type CompiledChild,
  type CompiledStopAction,
  type CompiledSupervisor,
  type CompileResult,
  compile,
  compileOrThrow,
} from './compile.js';
export {
  DEFAULT_BACKOFF_INITIAL_MS,
  DEFAULT_BACKOFF_JITTER_RATIO,
  DEFAULT_BACKOFF_MAX_MS,
  DEFAULT_BACKOFF_MULTIPLIER,
  DEFAULT_DRAIN_DEADLINE_MS,
  DEFAULT_EVENT_LOG_CAPACITY_EVENTS,
  DEFAULT_MAX_RESTARTS,
  DEFAULT_NESTED_SUPERVISOR_SHUTDOWN_TIMEOUT_MS,
  DEFAULT_RESTART_PERIOD_MS,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  DEFAULT_START_TIMEOUT_MS,
  MAX_CHILDREN_PER_SUPERVISOR,
  MAX_NAME_WAITERS_PER_NAME,
  MAX_RESTARTS_LIMIT,
} from './constants.js';
export {
  BootFailedError,
  ChildStartError,
  EscalationError,
  NameTakenError,
  SpecCompileError,
  type SpecProblem,
  type SpecProblemCode,
  SupervisorStateError,
} from './errors.js';
export { type EventListener, EventLog, type SupervisorMetrics } from './event-log.js';
export { findDependencyCycles, topologicalOrder } from './graph.js';
export type { LifecycleAction, LifecycleEvent, LifecyclePhase, PlannedEvent } from './lifecycle.js';
export { type AcquireOptions, type NameLease, NameRegistry } from './name-registry.js';
export {
  admitRestart,
  backoffDelayMs,
  type ExitKind,
  type RestartDecision,
  restartSet,
  shouldRestart,
  transitiveDependents,
} from './restart-plan.js';
export { MemoryResumeStateStore, type ResumeStateStore } from './resume-store.js';
export type {
  BackoffPolicy,
  ChildContext,
  ChildSpec,
  ChildStart,
  CollisionPolicy,
  DrainHandler,
  DrainOutcome,
  ExhaustionAction,
  LeaseSpec,
  NameLookup,
  RestartPolicy,
  RestartPolicyInput,
  RestartType,
  StopAction,
  Strategy,
  SupervisorSpec,
} from './spec.js';
export {
  type ChildSnapshot,
  Supervisor,
  type SupervisorMetricsSnapshot,
  type SupervisorOptions,
} from './supervisor.js';
