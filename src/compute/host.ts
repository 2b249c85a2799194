import type { Clock } from '../lib/index.js';
import { describeValue, InputProblems, ValidationError } from '../lib/index.js';
import { type ChainEntry, highHalf, joinHalves, LinkHasher, lowHalf } from './causal.js';
import { type DaemonEvent, EMPTY_STATE, type MeshDaemon } from './daemon.js';
import {
  DaemonBusyError,
  DaemonCrashedError,
  DaemonQueueFullError,
  StatelessDaemonStateError,
} from './errors.js';
import { type DaemonIdentity, identityProblems } from './identity.js';
import {
  DEFAULT_MAX_QUEUED_DELIVERIES,
  DEFAULT_OUTPUT_LOG_CAPACITY_ENTRIES,
  DEFAULT_SNAPSHOT_EVERY_EVENTS,
  MAX_OUTPUT_LOG_CAPACITY_ENTRIES,
  MAX_QUEUED_DELIVERIES_LIMIT,
} from './limits.js';
import { OutputLog } from './output-log.js';

export interface DaemonHostConfig {
  /** Automatic snapshot every this many inbound events; 0 = only when asked. */
  readonly snapshotEveryEvents: number;
  /** Outputs kept in the output log. */
  readonly outputLogCapacityEntries: number;
  /** Deliveries that may wait behind an asynchronous `process`. */
  readonly maxQueuedDeliveries: number;
}

export const DEFAULT_HOST_CONFIG: DaemonHostConfig = Object.freeze({
  snapshotEveryEvents: DEFAULT_SNAPSHOT_EVERY_EVENTS,
  outputLogCapacityEntries: DEFAULT_OUTPUT_LOG_CAPACITY_ENTRIES,
  maxQueuedDeliveries: DEFAULT_MAX_QUEUED_DELIVERIES,
});

/** Returns every problem with a host configuration (empty when valid); safe on any value. */
export function hostConfigProblems(config: DaemonHostConfig): string[] {
  const problems = new InputProblems();
  if (!problems.record('host config', config)) return problems.list;
  problems.integer('snapshotEveryEvents', config.snapshotEveryEvents, 0, Number.MAX_SAFE_INTEGER);
  problems.integer(
    'outputLogCapacityEntries',
    config.outputLogCapacityEntries,
    1,
    MAX_OUTPUT_LOG_CAPACITY_ENTRIES,
  );
  problems.integer('maxQueuedDeliveries', config.maxQueuedDeliveries, 0, MAX_QUEUED_DELIVERIES_LIMIT);
  return problems.list;
}

/** The methods a daemon must have; the others (`snapshot`, `restore`) are optional. */
const DAEMON_METHODS = ['process', 'health', 'saturation', 'onControl'];

function chainPositionProblems(problems: InputProblems, position: ChainPosition): void {
  if (!problems.record('chainPosition', position)) return;
  problems.integer('chainPosition.sequence', position.sequence, 0, Number.MAX_SAFE_INTEGER);
  if (typeof position.head !== 'bigint') {
    problems.add(`chainPosition.head must be a bigint, got ${describeValue(position.head)}`);
  }
}

export function validateHostConfig(config: DaemonHostConfig): void {
  const problems = hostConfigProblems(config);
  if (problems.length > 0) throw new ValidationError('daemon host config', problems);
}

/**
 * A point-in-time copy of a daemon: its state, how far its own output chain had got
 * (`throughSequence`, `chainHead` = the parent hash of the next link) and how many inbound
 * events that state reflects (`inboundThrough`). Restoring on another member moves state
 * and inbound position; the member keeps its own chain.
 */
export interface DaemonSnapshot {
  readonly originHash: bigint;
  readonly throughSequence: number;
  readonly chainHead: bigint;
  readonly inboundThrough: number;
  readonly state: Uint8Array;
  readonly createdAtMs: number;
}

/** Where a re-spawned host picks its chain up, so its origin never reuses a sequence. */
export interface ChainPosition {
  readonly sequence: number;
  readonly head: bigint;
}

interface WaitingDelivery {
  readonly event: DaemonEvent;
  readonly resolve: (position: number) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Runs one daemon: feeds it events in order and turns each output into the next link of
 * the daemon's own causal chain. A synchronous `process` is handled without promises or
 * allocations in the host; an asynchronous one serializes later deliveries behind it in a
 * bounded queue.
 */
export class DaemonHost {
  readonly originHash: bigint;
  readonly config: DaemonHostConfig;
  private readonly originHigh: number;
  private readonly originLow: number;
  private readonly hasher = new LinkHasher();
  private readonly log: OutputLog;
  private headSequence = 0;
  private headHashHigh: number;
  private headHashLow: number;
  private inbound = 0;
  private eventsSinceSnapshot = 0;
  private inFlight = false;
  /** Rejects the delivery in flight; dropped once that delivery settles. */
  private rejectInFlight: ((error: unknown) => void) | undefined;
  /** Set once the host was removed from its runtime; every delivery fails with it from then on. */
  private removedError: unknown;
  private readonly waiting: WaitingDelivery[] = [];
  private idleWaiters: (() => void)[] = [];
  private crashCause: unknown;
  private crashedFlag = false;
  private lastSnapshot: DaemonSnapshot | undefined;
  /**
   * Called right after an event was applied, before `deliver` returns or its promise
   * settles, so that whoever waits for the host to go idle also sees every notification.
   */
  onApplied: ((event: DaemonEvent, inboundPosition: number) => void) | undefined;

  constructor(
    readonly identity: DaemonIdentity,
    readonly daemon: MeshDaemon,
    private readonly clock: Clock,
    config: DaemonHostConfig = DEFAULT_HOST_CONFIG,
    chainPosition?: ChainPosition,
  ) {
    const problems = new InputProblems();
    identityProblems(problems, 'identity', identity);
    problems.methods('daemon', daemon, DAEMON_METHODS);
    problems.methods('clock', clock, ['wallMs']);
    if (problems.record('config', config)) problems.nested('config', hostConfigProblems(config));
    if (chainPosition !== undefined) chainPositionProblems(problems, chainPosition);
    problems.throwIfAny('daemon host');
    this.config = config;
    this.originHash = identity.originHash;
    this.originHigh = highHalf(this.originHash);
    this.originLow = lowHalf(this.originHash);
    this.log = new OutputLog(config.outputLogCapacityEntries, this.originHash);
    if (chainPosition === undefined) {
      // The chain starts at its genesis link: sequence 0, parent 0, horizon 0, no payload.
      this.hasher.hashInto(this.originHigh, this.originLow, 0, 0, 0, 0, EMPTY_STATE);
      this.headHashHigh = this.hasher.result.high;
      this.headHashLow = this.hasher.result.low;
    } else {
      this.headSequence = chainPosition.sequence;
      this.headHashHigh = highHalf(chainPosition.head);
      this.headHashLow = lowHalf(chainPosition.head);
    }
  }

  /** Inbound events applied so far (restored snapshots count as applied). */
  get inboundPosition(): number {
    return this.inbound;
  }

  /** Sequence of the newest link of this daemon's chain (0 = only the genesis). */
  get sequence(): number {
    return this.headSequence;
  }

  /** The parent hash the next link will carry. */
  get chainHead(): bigint {
    return joinHalves(this.headHashHigh, this.headHashLow);
  }

  get chainPosition(): ChainPosition {
    return { sequence: this.headSequence, head: this.chainHead };
  }

  get crashed(): boolean {
    return this.crashedFlag;
  }

  get crashError(): unknown {
    return this.crashCause;
  }

  get pendingDeliveries(): number {
    return (this.inFlight ? 1 : 0) + this.waiting.length;
  }

  get latestSnapshot(): DaemonSnapshot | undefined {
    return this.lastSnapshot;
  }

  /** The retained outputs as chain entries, oldest first. */
  outputLog(): ChainEntry[] {
    return this.log.entries();
  }

  /**
   * Delivers one event. Returns the event's inbound position (1-based) synchronously when
   * `process` answered synchronously and nothing was queued; otherwise a promise of it.
   * A throwing or rejecting daemon is marked crashed and `DaemonCrashedError` is raised.
   */
  deliver(event: DaemonEvent): number | Promise<number> {
    if (this.removedError !== undefined) throw this.removedError;
    if (this.inFlight || this.waiting.length > 0) return this.enqueue(event);
    return this.deliverNow(event);
  }

  private deliverNow(event: DaemonEvent): number | Promise<number> {
    if (this.crashedFlag) throw new DaemonCrashedError(this.originHash, this.crashCause);
    let result: ReturnType<MeshDaemon['process']>;
    try {
      result = this.daemon.process(event);
    } catch (error) {
      throw this.markCrashed(error);
    }
    if (Array.isArray(result)) return this.apply(event, result);
    return this.awaitOutputs(event, result as Promise<readonly Uint8Array[]>);
  }

  /** Resolves once no delivery is in flight or queued. */
  whenIdle(): Promise<void> {
    if (!this.inFlight && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Takes a snapshot now; refused while asynchronous deliveries are in flight. */
  snapshot(): DaemonSnapshot {
    if (this.inFlight || this.waiting.length > 0) {
      throw new DaemonBusyError(this.originHash, this.pendingDeliveries);
    }
    return this.takeSnapshot();
  }

  /** The daemon's state is consistent between events, which is when this runs. */
  private takeSnapshot(): DaemonSnapshot {
    const state = this.daemon.snapshot === undefined ? EMPTY_STATE : this.daemon.snapshot();
    const snapshot: DaemonSnapshot = {
      originHash: this.originHash,
      throughSequence: this.headSequence,
      chainHead: this.chainHead,
      inboundThrough: this.inbound,
      state,
      createdAtMs: this.clock.wallMs(),
    };
    this.lastSnapshot = snapshot;
    this.eventsSinceSnapshot = 0;
    return snapshot;
  }

  /**
   * Restores a snapshot. The daemon's state and the inbound position always follow it; the
   * chain head follows it only when the snapshot came from this same origin (another
   * member's snapshot does not rewrite this member's chain).
   */
  restore(snapshot: DaemonSnapshot): void {
    if (this.inFlight || this.waiting.length > 0)
      throw new DaemonBusyError(this.originHash, this.pendingDeliveries);
    if (this.daemon.restore === undefined) {
      if (snapshot.state.length > 0)
        throw new StatelessDaemonStateError(this.daemon.name, snapshot.state.length);
    } else {
      this.daemon.restore(snapshot.state);
    }
    this.inbound = snapshot.inboundThrough;
    this.eventsSinceSnapshot = 0;
    if (snapshot.originHash === this.originHash) {
      this.headSequence = snapshot.throughSequence;
      this.headHashHigh = highHalf(snapshot.chainHead);
      this.headHashLow = lowHalf(snapshot.chainHead);
      this.log.clear();
    }
  }

  private apply(event: DaemonEvent, outputs: readonly Uint8Array[]): number {
    const horizon = ++this.inbound;
    const hasher = this.hasher;
    const result = hasher.result;
    for (let index = 0; index < outputs.length; index++) {
      const payload = outputs[index]!;
      const sequence = ++this.headSequence;
      const parentHigh = this.headHashHigh;
      const parentLow = this.headHashLow;
      this.log.append(sequence, parentHigh, parentLow, horizon, payload);
      hasher.hashInto(this.originHigh, this.originLow, sequence, parentHigh, parentLow, horizon, payload);
      this.headHashHigh = result.high;
      this.headHashLow = result.low;
    }
    const every = this.config.snapshotEveryEvents;
    if (every > 0 && ++this.eventsSinceSnapshot >= every) this.takeSnapshot();
    if (this.onApplied !== undefined) this.onApplied(event, horizon);
    return horizon;
  }

  private awaitOutputs(event: DaemonEvent, pending: Promise<readonly Uint8Array[]>): Promise<number> {
    this.inFlight = true;
    return new Promise<number>((resolve, reject) => {
      this.rejectInFlight = reject;
      pending.then(
        (outputs) => this.settleInFlight(reject, () => resolve(this.apply(event, outputs))),
        (error: unknown) => this.settleInFlight(reject, () => reject(this.markCrashed(error))),
      );
    });
  }

  /** Ends the delivery in flight, unless `remove` already rejected it: then its outcome no longer counts. */
  private settleInFlight(reject: (error: unknown) => void, settle: () => void): void {
    if (this.rejectInFlight !== reject) return;
    this.rejectInFlight = undefined;
    try {
      settle();
    } catch (error) {
      reject(error);
    } finally {
      this.inFlight = false;
      this.startNextWaiting();
    }
  }

  /**
   * The host leaves its runtime: it applies nothing more. The delivery in flight and every
   * queued one are rejected with `error` at once (a daemon on a failed node may never answer),
   * and whatever the daemon answers later is ignored.
   */
  remove(error: unknown): void {
    if (this.removedError !== undefined) return;
    this.removedError = error;
    const rejectInFlight = this.rejectInFlight;
    this.rejectInFlight = undefined;
    this.inFlight = false;
    rejectInFlight?.(error);
    const waiting = this.waiting.splice(0);
    for (const delivery of waiting) delivery.reject(error);
    this.wakeIdleWaiters();
  }

  private enqueue(event: DaemonEvent): Promise<number> {
    if (this.crashedFlag) throw new DaemonCrashedError(this.originHash, this.crashCause);
    if (this.waiting.length >= this.config.maxQueuedDeliveries) {
      throw new DaemonQueueFullError(this.originHash, this.config.maxQueuedDeliveries);
    }
    return new Promise((resolve, reject) => this.waiting.push({ event, resolve, reject }));
  }

  private startNextWaiting(): void {
    while (!this.inFlight) {
      const next = this.waiting.shift();
      if (next === undefined) break;
      try {
        const position = this.deliverNow(next.event);
        if (typeof position === 'number') next.resolve(position);
        else position.then(next.resolve, next.reject);
      } catch (error) {
        next.reject(error);
      }
    }
    if (!this.inFlight && this.waiting.length === 0) this.wakeIdleWaiters();
  }

  private wakeIdleWaiters(): void {
    if (this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  /** Marks the daemon crashed (it threw here or in a call the runtime made); it takes no more events. */
  markCrashed(error: unknown): DaemonCrashedError {
    this.crashedFlag = true;
    this.crashCause = error;
    return new DaemonCrashedError(this.originHash, error);
  }
}
