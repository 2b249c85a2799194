/** Lifecycle phases of a supervisor, observable through `Supervisor.phase()` and its events. */
export type LifecyclePhase =
  | 'Constructed'
  | 'Compiled'
  | 'Starting'
  | 'Running'
  | 'Draining'
  | 'Stopped'
  | 'Failed';

/** What happened to a child (or to the supervisor itself, for `phase` and `join-root`). */
export type LifecycleAction =
  | 'phase'
  | 'start-child'
  | 'child-ready'
  | 'child-start-failed'
  | 'child-exited'
  | 'child-crashed'
  | 'restart-scheduled'
  | 'restart-child'
  | 'restart-exhausted'
  | 'child-disabled'
  | 'escalate'
  | 'drain'
  | 'resume-state-persisted'
  | 'drain-failed'
  | 'release-name-lease'
  | 'lease-revoked'
  | 'stop-child'
  | 'force-stop'
  | 'join-root';

/** One entry of a compiled lifecycle plan: what the live supervisor will do, in order. */
export interface PlannedEvent {
  readonly phase: LifecyclePhase;
  readonly child?: string;
  readonly action: LifecycleAction;
}

/** One thing that happened, as recorded in the event log and sent to listeners. */
export interface LifecycleEvent {
  /** Counts every event of one supervisor tree from 1, so gaps show dropped entries. */
  readonly sequence: number;
  /** `Clock.nowMs()` when it happened. */
  readonly timeMs: number;
  /** `Clock.wallMs()` when it happened, for people reading the log. */
  readonly wallMs: number;
  /** Path of the supervisor, e.g. `node/storage`. */
  readonly supervisor: string;
  readonly phase: LifecyclePhase;
  readonly child?: string;
  readonly action: LifecycleAction;
  readonly reason?: string;
}
