import { assert, type Clock, InputProblems, isRecord, type Random, type TimerId } from '../lib/index.js';
import { type ChildRuntime, type ChildStatus, ChildStopRequest, type Outcome } from './child-runtime.js';
import { type CompiledSupervisor, compileOrThrow } from './compile.js';
import { DEFAULT_EVENT_LOG_CAPACITY_EVENTS, MAX_EVENT_LOG_CAPACITY_EVENTS } from './constants.js';
import {
  BootFailedError,
  ChildStartError,
  EscalationError,
  SpecCompileError,
  SupervisorStateError,
} from './errors.js';
import { type EventListener, EventLog, type SupervisorMetrics } from './event-log.js';
import type { LifecycleAction, LifecycleEvent, LifecyclePhase } from './lifecycle.js';
import { NameRegistry } from './name-registry.js';
import {
  admitRestart,
  backoffDelayMs,
  type ExitKind,
  restartSet,
  shouldRestart,
  transitiveDependents,
} from './restart-plan.js';
import { MemoryResumeStateStore, type ResumeStateStore } from './resume-store.js';
import type { ChildContext, ChildStart, SupervisorSpec } from './spec.js';
import { releaseChildLease, type StopContext, stopChildRuntime } from './stop-procedure.js';
import { describeError } from './timing.js';

export interface SupervisorOptions {
  readonly clock: Clock;
  readonly random: Random;
  /** Shared by the whole tree (and by other trees on the node that must not collide). */
  readonly registry?: NameRegistry;
  readonly resumeStore?: ResumeStateStore;
  /** Shared by the whole tree; nested supervisors get their parent's. */
  readonly eventLog?: EventLog;
  readonly eventLogCapacityEvents?: number;
  /** A root supervisor calls this when a critical child spends its budget: stop the node. */
  readonly onNodeStop?: (error: EscalationError) => void;
  /** Set by a parent supervisor: a nested supervisor escalates by failing, which its parent sees. */
  readonly nested?: boolean;
}

export interface ChildSnapshot {
  readonly name: string;
  readonly status: ChildStatus;
  readonly incarnation: number;
  readonly restartsInWindow: number;
  /** Restarts since the supervisor started. */
  readonly restarts: number;
  /** Why the last incarnation crashed, exited or failed to start, if one did. */
  readonly lastExitReason?: string;
  readonly leaseName?: string;
}

export interface SupervisorMetricsSnapshot extends SupervisorMetrics {
  readonly runningChildren: number;
}

/**
 * Runs a compiled AppSpec: starts children in dependency order, restarts them by policy and
 * strategy, escalates, and shuts them down with their stop actions. Every state change runs as
 * one operation on a serial queue, so restarts, on-demand starts and shutdown never interleave.
 * The queue holds at most one pending exit per child incarnation plus one operation per caller.
 */
export class Supervisor {
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly registry: NameRegistry;
  private readonly resumeStore: ResumeStateStore;
  private readonly log: EventLog;
  private readonly onNodeStop: ((error: EscalationError) => void) | undefined;
  private readonly nested: boolean;
  private readonly spec: SupervisorSpec | undefined;
  private compiled: CompiledSupervisor | undefined;
  private readonly runtimes = new Map<string, ChildRuntime>();
  private readonly restartTimers = new Set<TimerId>();
  /** Children whose restart waits for a dependency that is itself waiting to restart. */
  private readonly deferredRestarts = new Set<string>();
  private currentPhase: LifecyclePhase = 'Constructed';
  private failureError: Error | undefined;
  private operations: Promise<void> = Promise.resolve();
  private resolveTerminated: () => void = () => {};
  private readonly terminated: Promise<void>;
  private readonly stopContext: StopContext;

  constructor(spec: SupervisorSpec | CompiledSupervisor, options: SupervisorOptions) {
    supervisorOptionsProblems(options).throwIfAny('supervisor options');
    this.clock = options.clock;
    this.random = options.random;
    this.registry = options.registry ?? new NameRegistry();
    this.resumeStore = options.resumeStore ?? new MemoryResumeStateStore();
    this.log =
      options.eventLog ?? new EventLog(options.eventLogCapacityEvents ?? DEFAULT_EVENT_LOG_CAPACITY_EVENTS);
    this.onNodeStop = options.onNodeStop;
    this.nested = options.nested ?? false;
    if (isCompiled(spec)) {
      this.spec = undefined;
      this.adopt(spec);
      this.currentPhase = 'Compiled';
    } else {
      this.spec = spec;
    }
    this.terminated = new Promise((resolve) => {
      this.resolveTerminated = resolve;
    });
    this.stopContext = {
      clock: this.clock,
      registry: this.registry,
      resumeStore: this.resumeStore,
      resumeKey: (child) => this.resumeKey(child),
      emit: (action, child, reason) => this.emit(action, child, reason),
    };
  }

  get name(): string {
    return this.compiled?.path ?? this.spec?.name ?? '';
  }

  phase(): LifecyclePhase {
    return this.currentPhase;
  }

  /** Set once the supervisor is `Failed`: the boot, compile or escalation error. */
  failure(): Error | undefined {
    return this.failureError;
  }

  /** Resolves when the supervisor reaches `Stopped` or `Failed`. */
  whenTerminated(): Promise<void> {
    return this.terminated;
  }

  plan(): CompiledSupervisor | undefined {
    return this.compiled;
  }

  names(): NameRegistry {
    return this.registry;
  }

  events(): LifecycleEvent[] {
    return this.log.events();
  }

  subscribe(listener: EventListener): () => void {
    return this.log.subscribe(listener);
  }

  metrics(): SupervisorMetricsSnapshot {
    let runningChildren = 0;
    for (const runtime of this.runtimes.values()) if (runtime.status === 'running') runningChildren++;
    return { ...this.log.metrics(), runningChildren };
  }

  children(): ChildSnapshot[] {
    return (this.compiled?.startOrder ?? []).map((name) => {
      const runtime = this.runtime(name);
      return {
        name,
        status: runtime.status,
        incarnation: runtime.incarnation,
        restartsInWindow: runtime.restartTimesMs.filter(
          (timeMs) => this.clock.nowMs() - timeMs < runtime.spec.restart.periodMs,
        ).length,
        restarts: runtime.restarts,
        ...(runtime.lastExitReason === undefined ? {} : { lastExitReason: runtime.lastExitReason }),
        ...(runtime.spec.lease === undefined ? {} : { leaseName: runtime.spec.lease.name }),
      };
    });
  }

  /** Validates the spec; on problems the supervisor is `Failed` and `SpecCompileError` is thrown. */
  compile(): CompiledSupervisor {
    if (this.compiled !== undefined) return this.compiled;
    assert(this.spec !== undefined, 'a supervisor without a compiled plan has a spec');
    try {
      const compiled = compileOrThrow(this.spec);
      this.adopt(compiled);
      this.setPhase('Compiled');
      return compiled;
    } catch (error) {
      if (error instanceof SpecCompileError) this.terminate('Failed', error, error.message);
      throw error;
    }
  }

  /**
   * Boots the eager children in start order, each after the ones it depends on are ready. When
   * a required child fails, what started is stopped in reverse order and `BootFailedError` names
   * the child and the reason. An optional child that fails is disabled along with its dependents.
   */
  start(): Promise<void> {
    if (this.currentPhase !== 'Constructed' && this.currentPhase !== 'Compiled') {
      return Promise.reject(
        new SupervisorStateError(`supervisor '${this.name}' cannot start in phase ${this.currentPhase}`),
      );
    }
    let compiled: CompiledSupervisor;
    try {
      compiled = this.compile();
    } catch (error) {
      return Promise.reject(error);
    }
    this.setPhase('Starting');
    return this.enqueue(async () => {
      for (const name of compiled.startOrder) {
        if (this.currentPhase !== 'Starting') return;
        const runtime = this.runtime(name);
        if (runtime.spec.activation !== 'eager' || runtime.status === 'disabled') continue;
        try {
          await this.startAfterDependencies(runtime);
        } catch (error) {
          if (runtime.spec.required) {
            const bootError = new BootFailedError(this.name, name, error);
            await this.stopRunningChildren(`boot failed at '${name}'`);
            this.terminate('Failed', bootError, bootError.message);
            throw bootError;
          }
          this.disableWithDependents(runtime, `failed to start at boot: ${describeError(error)}`);
        }
      }
      if (this.currentPhase === 'Starting') this.setPhase('Running');
    });
  }

  /** Starts an on-demand child (and on-demand dependencies that are not running). */
  startChild(name: string): Promise<void> {
    return this.enqueue(async () => {
      if (this.currentPhase !== 'Running') {
        throw new SupervisorStateError(
          `cannot start '${name}' while supervisor '${this.name}' is ${this.currentPhase}`,
        );
      }
      const target = this.runtime(name);
      const needed = this.dependencyClosure(name).filter((child) => this.runtime(child).status !== 'running');
      for (const child of needed) {
        const runtime = this.runtime(child);
        if (runtime.status === 'disabled') {
          throw new ChildStartError(target.spec.name, `dependency '${child}' is disabled`);
        }
        await this.startAfterDependencies(runtime);
      }
    });
  }

  /** Stops one child (its dependents first) without restarting it. */
  stopChild(name: string, reason = 'stopped on request'): Promise<void> {
    return this.enqueue(async () => {
      this.runtime(name); // refuses a name that is not a child, before the plan is read
      const affected = [...transitiveDependents(this.plan() as CompiledSupervisor, name), name].filter(
        (child) => this.runtime(child).status === 'running',
      );
      for (const child of this.inStopOrder(affected)) await this.stopOne(this.runtime(child), reason);
    });
  }

  /** Shuts down: every running child in stop order with its stop actions, then joins the root. */
  stop(reason = 'shutdown requested'): Promise<void> {
    if (this.currentPhase === 'Constructed' || this.currentPhase === 'Compiled') {
      this.terminate('Stopped', undefined, reason);
      return Promise.resolve();
    }
    return this.enqueue(async () => {
      if (this.isTerminated()) return;
      this.setPhase('Draining', reason);
      await this.stopRunningChildren(reason);
      this.emit('join-root', undefined, reason, 'Stopped');
      this.terminate('Stopped', undefined, reason);
    });
  }

  // --- starting ---------------------------------------------------------------------------

  /** Refuses to start a child whose dependency is not running (it crashed meanwhile, say). */
  private startAfterDependencies(runtime: ChildRuntime): Promise<void> {
    const missing = runtime.spec.dependsOn.find(
      (dependency) => this.runtime(dependency).status !== 'running',
    );
    if (missing !== undefined) {
      const reason = `dependency '${missing}' is ${this.runtime(missing).status}`;
      this.emit('child-start-failed', runtime.spec.name, reason);
      return Promise.reject(new ChildStartError(runtime.spec.name, reason));
    }
    return this.startIncarnation(runtime);
  }

  private async startIncarnation(runtime: ChildRuntime): Promise<void> {
    const spec = runtime.spec;
    runtime.incarnation++;
    runtime.status = 'starting';
    runtime.drainHandler = undefined;
    const incarnation = runtime.incarnation;
    this.emit('start-child', spec.name, `incarnation ${incarnation}`);
    const controller = new AbortController();
    runtime.controller = controller;
    const startTimer = this.clock.setTimer(spec.startTimeoutMs, () =>
      controller.abort(new ChildStopRequest(`not ready within ${spec.startTimeoutMs} ms`)),
    );
    try {
      if (spec.lease !== undefined) {
        runtime.lease = await this.registry.acquire(
          spec.lease.name,
          `${this.name}/${spec.name}`,
          spec.lease.onCollision,
          {
            signal: controller.signal,
            onRevoked: (reason) => this.onLeaseRevoked(runtime, incarnation, reason),
          },
        );
      }
      const resumeState = await this.resumeStore.load(this.resumeKey(spec.name));
      await this.runUntilReady(runtime, incarnation, controller, resumeState);
    } catch (error) {
      const reason = controller.signal.aborted
        ? describeError(controller.signal.reason)
        : describeError(error);
      controller.abort(new ChildStopRequest(`start failed: ${reason}`));
      this.releaseLease(runtime, 'start failed');
      runtime.status = 'stopped';
      runtime.lastExitReason = `start failed: ${reason}`;
      this.emit('child-start-failed', spec.name, reason);
      throw error instanceof ChildStartError ? error : new ChildStartError(spec.name, reason, error);
    } finally {
      this.clock.clearTimer(startTimer);
    }
    runtime.status = 'running';
    this.emit('child-ready', spec.name);
  }

  /** Calls the start function and waits for `ready()`, an early end, or the start timeout. */
  private runUntilReady(
    runtime: ChildRuntime,
    incarnation: number,
    controller: AbortController,
    resumeState: unknown,
  ): Promise<void> {
    const spec = runtime.spec;
    return new Promise<void>((resolve, reject) => {
      let isReady = false;
      const context: ChildContext = {
        name: spec.name,
        role: spec.role,
        incarnation,
        names: this.registry,
        resumeState,
        ready: () => {
          if (isReady || controller.signal.aborted) return;
          isReady = true;
          resolve();
        },
        publish: (value) => {
          assert(runtime.lease !== undefined, `child '${spec.name}' holds no name lease to publish under`);
          this.registry.publish(runtime.lease, value);
        },
        onDrain: (handler) => {
          if (runtime.incarnation === incarnation) runtime.drainHandler = handler;
        },
      };
      const abortedBeforeReady = (): void => {
        if (!isReady) reject(new ChildStartError(spec.name, describeError(controller.signal.reason)));
      };
      controller.signal.addEventListener('abort', abortedBeforeReady, { once: true });
      const start = this.startFunction(runtime);
      let lifetime: Promise<void>;
      try {
        lifetime = start(controller.signal, context);
      } catch (error) {
        lifetime = Promise.reject(error);
      }
      const settled = lifetime.then(
        (): Outcome => ({ kind: 'normal' }),
        (error: unknown): Outcome => ({ kind: 'crash', error }),
      );
      runtime.settled = settled;
      void settled.then((outcome) => {
        if (!isReady) {
          const reason =
            outcome.kind === 'crash' ? describeError(outcome.error) : 'exited before it was ready';
          reject(
            new ChildStartError(spec.name, reason, outcome.kind === 'crash' ? outcome.error : undefined),
          );
          return;
        }
        this.onChildExit(runtime, incarnation, outcome);
      });
    });
  }

  private startFunction(runtime: ChildRuntime): ChildStart {
    const spec = runtime.spec;
    if (spec.start !== undefined) return spec.start;
    const nestedPlan = spec.supervisor;
    assert(nestedPlan !== undefined, `child '${spec.name}' has neither a start function nor a supervisor`);
    return async (signal, context) => {
      const inner = new Supervisor(nestedPlan, {
        clock: this.clock,
        random: this.random.fork(nestedPlan.path),
        registry: this.registry,
        resumeStore: this.resumeStore,
        eventLog: this.log,
        nested: true,
      });
      await inner.start();
      if (signal.aborted) {
        await inner.stop(describeError(signal.reason));
        return;
      }
      context.ready();
      await new Promise<void>((resolve, reject) => {
        signal.addEventListener(
          'abort',
          () => inner.stop(describeError(signal.reason)).then(resolve, reject),
          {
            once: true,
          },
        );
        void inner.whenTerminated().then(() => {
          if (inner.phase() === 'Failed') reject(inner.failure());
          else resolve();
        });
      });
    };
  }

  // --- failures and restarts --------------------------------------------------------------

  private onChildExit(runtime: ChildRuntime, incarnation: number, outcome: Outcome): void {
    if (runtime.incarnation !== incarnation || runtime.status !== 'running') return;
    const name = runtime.spec.name;
    runtime.status = 'restarting';
    const reason = outcome.kind === 'crash' ? describeError(outcome.error) : 'exited normally';
    runtime.lastExitReason = reason;
    this.emit(outcome.kind === 'crash' ? 'child-crashed' : 'child-exited', name, reason);
    runtime.controller?.abort(new ChildStopRequest(`child ended: ${reason}`));
    this.releaseLease(runtime, reason);
    void this.enqueue(() => this.handleExit(name, outcome.kind, reason, []));
  }

  /**
   * Applies the child's restart policy: no restart (temporary, or transient after a normal
   * exit), a restart of the strategy's set after a backoff, or exhaustion.
   * `alsoRestart` carries children of an interrupted restart that still wait for their turn.
   */
  private async handleExit(
    name: string,
    exit: ExitKind,
    reason: string,
    alsoRestart: readonly string[],
  ): Promise<void> {
    if (this.currentPhase !== 'Running') return;
    const runtime = this.runtime(name);
    const policy = runtime.spec.restart;
    if (!shouldRestart(policy, exit)) {
      runtime.status = 'stopped';
      return;
    }
    const decision = admitRestart(policy, runtime.restartTimesMs, this.clock.nowMs());
    runtime.restartTimesMs = decision.restartTimesMs;
    if (!decision.admitted) {
      const exhausted =
        policy.maxRestarts === 0
          ? `failed and is never restarted: ${reason}`
          : `spent its restart budget (${policy.maxRestarts} in ${policy.periodMs} ms), last: ${reason}`;
      this.emit('restart-exhausted', name, exhausted);
      await this.onExhausted(runtime, exhausted, alsoRestart);
      return;
    }
    const compiled = this.plan() as CompiledSupervisor;
    const group = new Set([...restartSet(compiled, name), ...alsoRestart]);
    for (const member of this.inStopOrder([...group])) {
      const sibling = this.runtime(member);
      if (sibling.status !== 'running') continue;
      await this.stopOne(sibling, `restarting with '${name}'`);
      // OTP does not bring back temporary children stopped by a sibling's restart.
      sibling.status = sibling.spec.restart.type === 'temporary' ? 'stopped' : 'restarting';
    }
    const members = compiled.startOrder.filter(
      (member) => group.has(member) && this.runtime(member).status === 'restarting',
    );
    const delayMs = backoffDelayMs(policy.backoff, decision.attempt, this.random);
    this.emit(
      'restart-scheduled',
      name,
      `restart ${decision.attempt} of ${policy.maxRestarts} in window, in ${delayMs} ms: ${members.join(', ')}`,
    );
    if (delayMs === 0) {
      // No backoff: skip the timer round trip (a 0 ms timer still costs about a millisecond).
      void this.enqueue(() => this.restartGroup(members, name));
      return;
    }
    const timer = this.clock.setTimer(delayMs, () => {
      this.restartTimers.delete(timer);
      void this.enqueue(() => this.restartGroup(members, name));
    });
    this.restartTimers.add(timer);
  }

  private async restartGroup(members: readonly string[], trigger: string): Promise<void> {
    const interrupted = await this.restartMembers(members, trigger);
    if (interrupted) return;
    // Children deferred behind a dependency that is running again can start now.
    const compiled = this.plan() as CompiledSupervisor;
    const unblocked = compiled.startOrder.filter(
      (name) =>
        this.deferredRestarts.has(name) &&
        this.runtime(name).spec.dependsOn.every(
          (dependency) => this.runtime(dependency).status === 'running',
        ),
    );
    for (const name of unblocked) this.deferredRestarts.delete(name);
    if (unblocked.length > 0) await this.restartMembers(unblocked, trigger);
  }

  /** Starts the members still waiting to restart, in order; true when a start failed. */
  private async restartMembers(members: readonly string[], trigger: string): Promise<boolean> {
    for (let index = 0; index < members.length; index++) {
      if (this.currentPhase !== 'Running') return true;
      const runtime = this.runtime(members[index] as string);
      if (runtime.status !== 'restarting') continue;
      const missing = runtime.spec.dependsOn.find(
        (dependency) => this.runtime(dependency).status !== 'running',
      );
      if (missing !== undefined) {
        // A dependency still waiting for its own restart will bring this child back with it.
        if (this.runtime(missing).status === 'restarting') {
          this.deferredRestarts.add(runtime.spec.name);
          continue;
        }
        runtime.status = 'stopped';
        this.emit('child-start-failed', runtime.spec.name, `dependency '${missing}' is not running`);
        continue;
      }
      runtime.restarts++;
      this.emit('restart-child', runtime.spec.name, `after '${trigger}' ended`);
      try {
        await this.startIncarnation(runtime);
      } catch (error) {
        runtime.status = 'restarting';
        const waiting = members.slice(index + 1);
        await this.handleExit(runtime.spec.name, 'crash', describeError(error), waiting);
        return true;
      }
    }
    return false;
  }

  private async onExhausted(
    runtime: ChildRuntime,
    reason: string,
    alsoRestart: readonly string[],
  ): Promise<void> {
    if (runtime.spec.restart.onExhausted === 'disable-optional') {
      this.disableWithDependents(runtime, reason);
      for (const waiting of alsoRestart) {
        const other = this.runtime(waiting);
        if (other.status === 'restarting')
          void this.enqueue(() => this.restartGroup([waiting], runtime.spec.name));
      }
      // In stop order, so that no dependent runs on after what it depends on has stopped.
      const dependents = transitiveDependents(this.plan() as CompiledSupervisor, runtime.spec.name);
      for (const dependent of this.inStopOrder(dependents)) {
        const other = this.runtime(dependent);
        if (other.status === 'running')
          await this.stopOne(other, `dependency '${runtime.spec.name}' disabled`);
        other.status = 'disabled';
      }
      return;
    }
    const error = new EscalationError(this.name, runtime.spec.name, reason);
    this.emit('escalate', runtime.spec.name, error.message);
    this.setPhase('Draining', error.message);
    await this.stopRunningChildren(`escalating: ${error.message}`);
    this.terminate('Failed', error, error.message);
    if (!this.nested) this.onNodeStop?.(error);
  }

  private disableWithDependents(runtime: ChildRuntime, reason: string): void {
    runtime.status = 'disabled';
    this.emit('child-disabled', runtime.spec.name, reason);
    for (const dependent of transitiveDependents(this.plan() as CompiledSupervisor, runtime.spec.name)) {
      const other = this.runtime(dependent);
      if (other.status === 'disabled') continue;
      if (other.status !== 'running') other.status = 'disabled';
      this.emit('child-disabled', dependent, `depends on disabled '${runtime.spec.name}'`);
    }
  }

  private onLeaseRevoked(runtime: ChildRuntime, incarnation: number, reason: string): void {
    if (runtime.incarnation !== incarnation) return;
    runtime.lease = undefined;
    this.emit('lease-revoked', runtime.spec.name, reason);
    void this.enqueue(async () => {
      if (runtime.incarnation !== incarnation || runtime.status !== 'running') return;
      await this.stopOne(runtime, reason);
    });
  }

  // --- stopping ---------------------------------------------------------------------------

  private async stopRunningChildren(reason: string): Promise<void> {
    for (const timer of this.restartTimers) this.clock.clearTimer(timer);
    this.restartTimers.clear();
    this.deferredRestarts.clear();
    for (const name of this.plan()?.stopOrder ?? []) {
      const runtime = this.runtime(name);
      if (runtime.status === 'running') await this.stopOne(runtime, reason);
      else if (runtime.status === 'restarting' || runtime.status === 'starting') runtime.status = 'stopped';
    }
  }

  /** Runs the child's stop actions in order (see stop-procedure.ts). */
  private stopOne(runtime: ChildRuntime, reason: string): Promise<void> {
    return stopChildRuntime(runtime, reason, this.stopContext);
  }

  private releaseLease(runtime: ChildRuntime, reason: string): void {
    releaseChildLease(runtime, reason, this.stopContext);
  }

  // --- helpers ----------------------------------------------------------------------------

  private adopt(compiled: CompiledSupervisor): void {
    this.compiled = compiled;
    for (const child of compiled.children) {
      this.runtimes.set(child.name, {
        spec: child,
        status: 'idle',
        incarnation: 0,
        controller: undefined,
        settled: undefined,
        lease: undefined,
        drainHandler: undefined,
        restartTimesMs: [],
        restarts: 0,
        lastExitReason: undefined,
      });
    }
  }

  private runtime(name: string): ChildRuntime {
    const runtime = this.runtimes.get(name);
    if (runtime === undefined)
      throw new SupervisorStateError(`supervisor '${this.name}' has no child '${name}'`);
    return runtime;
  }

  private dependencyClosure(name: string): string[] {
    const needed = new Set<string>();
    const pending = [name];
    while (pending.length > 0) {
      const current = pending.pop() as string;
      if (needed.has(current)) continue;
      needed.add(current);
      pending.push(...this.runtime(current).spec.dependsOn);
    }
    return (this.plan()?.startOrder ?? []).filter((child) => needed.has(child));
  }

  private inStopOrder(names: readonly string[]): string[] {
    const wanted = new Set(names);
    return (this.plan()?.stopOrder ?? []).filter((name) => wanted.has(name));
  }

  private resumeKey(child: string): string {
    return `${this.name}/${child}`;
  }

  private isTerminated(): boolean {
    return this.currentPhase === 'Stopped' || this.currentPhase === 'Failed';
  }

  private enqueue<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.operations.then(operation);
    this.operations = result.then(
      () => {},
      () => {},
    );
    return result;
  }

  private setPhase(phase: LifecyclePhase, reason?: string): void {
    this.currentPhase = phase;
    this.emit('phase', undefined, reason);
  }

  private terminate(phase: 'Stopped' | 'Failed', error: Error | undefined, reason: string): void {
    if (this.isTerminated()) return;
    if (error !== undefined) this.failureError = error;
    this.setPhase(phase, reason);
    this.resolveTerminated();
  }

  private emit(
    action: LifecycleAction,
    child: string | undefined,
    reason?: string,
    phase?: LifecyclePhase,
  ): void {
    this.log.append({
      timeMs: this.clock.nowMs(),
      wallMs: this.clock.wallMs(),
      supervisor: this.name,
      phase: phase ?? this.currentPhase,
      action,
      ...(child === undefined ? {} : { child }),
      ...(reason === undefined ? {} : { reason }),
    });
  }
}

function isCompiled(spec: SupervisorSpec | CompiledSupervisor): spec is CompiledSupervisor {
  // A malformed spec from plain JavaScript is left to compile(), which lists its problems.
  return isRecord(spec) && 'startOrder' in spec;
}

/** What is wrong with options that may come from plain JavaScript. */
function supervisorOptionsProblems(options: SupervisorOptions): InputProblems {
  const problems = new InputProblems();
  if (!problems.record('options', options)) return problems;
  problems.methods('clock', options.clock, ['nowMs', 'wallMs', 'setTimer', 'clearTimer']);
  problems.methods('random', options.random, ['nextFloat', 'fork']);
  if (options.registry !== undefined && !(options.registry instanceof NameRegistry)) {
    problems.add('registry must be a NameRegistry');
  }
  if (options.eventLog !== undefined && !(options.eventLog instanceof EventLog)) {
    problems.add('eventLog must be an EventLog');
  }
  if (options.resumeStore !== undefined)
    problems.methods('resumeStore', options.resumeStore, ['load', 'save']);
  if (options.eventLogCapacityEvents !== undefined) {
    problems.integer(
      'eventLogCapacityEvents',
      options.eventLogCapacityEvents,
      1,
      MAX_EVENT_LOG_CAPACITY_EVENTS,
    );
  }
  if (options.onNodeStop !== undefined) problems.func('onNodeStop', options.onNodeStop);
  if (options.nested !== undefined) problems.boolean('nested', options.nested);
  return problems;
}
