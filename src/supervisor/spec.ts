/**
 * The AppSpec data model: what a supervision tree is made of, before `compile()` checks it and
 * fills in defaults. Plain data plus start functions; nothing here runs anything.
 */

/** OTP restart types: permanent always restarts, transient only after a crash, temporary never. */
export type RestartType = 'permanent' | 'transient' | 'temporary';

/**
 * What happens when a child's restart budget is spent. `critical` gives up on the whole
 * supervisor (which escalates to its parent, or stops the node at the root); `disable-optional`
 * disables an optional child, reports it, and keeps the rest running.
 */
export type ExhaustionAction = 'critical' | 'disable-optional';

export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly multiplier: number;
  /** Fraction in [0, 1] of the delay randomised either way. */
  readonly jitterRatio: number;
}

export interface RestartPolicy {
  readonly type: RestartType;
  /** At most this many restarts of the child inside any `periodMs` window. */
  readonly maxRestarts: number;
  readonly periodMs: number;
  readonly backoff: BackoffPolicy;
  readonly onExhausted: ExhaustionAction;
}

export interface RestartPolicyInput {
  readonly type?: RestartType;
  readonly maxRestarts?: number;
  readonly periodMs?: number;
  readonly backoff?: Partial<BackoffPolicy>;
  readonly onExhausted?: ExhaustionAction;
}

/** Restart strategies, by OTP name; see docs/SUPERVISION.md for the exact sequences. */
export type Strategy = 'one-for-one' | 'one-for-all' | 'rest-for-one';

/** Steps run, in order, to stop one child during shutdown. */
export type StopAction =
  | {
      readonly kind: 'drain';
      /** The child must hand back resume state, which is persisted before the child is stopped. */
      readonly requireResumeState: boolean;
      readonly deadlineMs?: number;
    }
  | { readonly kind: 'release-name-lease' }
  | { readonly kind: 'stop-child' };

/** What a supervisor does when a child's name lease is already held by another live child. */
export type CollisionPolicy = 'fail' | 'replace' | 'wait';

export interface LeaseSpec {
  /** The registered name; defaults to the child's name. */
  readonly name?: string;
  readonly onCollision?: CollisionPolicy;
}

/** Read access to the shared name registry, handed to every child. */
export interface NameLookup {
  /** The value published under `name` by its current holder, if any. */
  lookup(name: string): unknown;
  /** The child (as `supervisor/child`) holding `name`, if any. */
  holderOf(name: string): string | undefined;
}

/** Result of a drain: a child that requires resume state returns it here. */
export interface DrainOutcome {
  readonly resumeState?: unknown;
}

export type DrainHandler = (deadline: AbortSignal) => Promise<DrainOutcome | undefined>;

/** Handed to a child's start function. */
export interface ChildContext {
  readonly name: string;
  readonly role: string;
  /** 1 for the first start, then counting every restart. */
  readonly incarnation: number;
  readonly names: NameLookup;
  /** Resume state persisted by the last drain of this child, if any. */
  readonly resumeState: unknown;
  /** Tells the supervisor the child is serving; its dependents start only after this. */
  ready(): void;
  /** Publishes a value (an address, a handle) under the child's leased name. */
  publish(value: unknown): void;
  /** Registers what the `drain` stop action calls. */
  onDrain(handler: DrainHandler): void;
}

/**
 * Starts one child. The returned promise is the child's lifetime: it settles when the child
 * ends. Rejecting is a crash; resolving is a normal exit. The child calls `context.ready()` once
 * it serves, and must end soon after `signal` aborts.
 */
export type ChildStart = (signal: AbortSignal, context: ChildContext) => Promise<void>;

export interface ChildSpec {
  readonly name: string;
  /** Free-form description of what the child does; defaults to its name. */
  readonly role?: string;
  /** Cancellation scope identifier, unique in the tree; defaults to `supervisor/child`. */
  readonly region?: string;
  /** Exactly one of `start` and `supervisor`. */
  readonly start?: ChildStart;
  /** A nested supervisor run as this child. */
  readonly supervisor?: SupervisorSpec;
  readonly dependsOn?: readonly string[];
  readonly restart?: RestartPolicyInput;
  /** Defaults to release the name lease, then stop the child. */
  readonly stopActions?: readonly StopAction[];
  readonly shutdownTimeoutMs?: number;
  readonly startTimeoutMs?: number;
  /** Required by default; a required child that cannot start fails the boot. */
  readonly required?: boolean;
  /** Eager children start at boot; on-demand ones when `startChild` asks. */
  readonly activation?: 'eager' | 'on-demand';
  /** `required`: the child keeps state that must survive a stop, so it needs a drain action. */
  readonly resumeState?: 'required' | 'none';
  /** `false` to hold no name; otherwise a lease on the child's (or the given) name. */
  readonly lease?: LeaseSpec | false;
}

export interface SupervisorSpec {
  readonly name: string;
  readonly strategy?: Strategy;
  /**
   * Dependency-aware restarts (default true): the children that depend on a restarted child,
   * directly or not, are stopped before it and started again after it, whatever the strategy.
   */
  readonly restartDependents?: boolean;
  readonly children: readonly ChildSpec[];
}
