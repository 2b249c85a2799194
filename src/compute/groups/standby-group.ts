import { assert, describeValue, InputProblems, type NodeId } from '../../lib/index.js';
import type { ControlSignal, DaemonEvent } from '../daemon.js';
import {
  ActiveUnavailableError,
  GroupBusyError,
  GroupClosedError,
  MemberNotActiveError,
  NoStandbyError,
  ReplayBufferFullError,
} from '../errors.js';
import {
  type ChainPosition,
  type DaemonHost,
  type DaemonHostConfig,
  type DaemonSnapshot,
  hostConfigProblems,
} from '../host.js';
import { type DaemonIdentity, GROUP_SEED_BYTES, memberIdentity } from '../identity.js';
import {
  DEFAULT_REPLAY_BUFFER_CAPACITY_EVENTS,
  MAX_GROUP_MEMBERS,
  MAX_REPLAY_BUFFER_CAPACITY_EVENTS,
  MIN_STANDBY_GROUP_MEMBERS,
} from '../limits.js';
import type { DeliveryObserver, Disposable } from '../registry.js';
import type { DaemonRuntime } from '../runtime.js';
import {
  checkNodeIdArgument,
  defaultPlacement,
  type GroupHealth,
  groupTargetProblems,
  type MemberInfo,
  type MemberRole,
} from './common.js';
import { ReplayBuffer } from './replay-buffer.js';

/** What a full replay buffer does to the next delivery: sync the standbys first, or refuse it. */
export type ReplayBufferFullPolicy = 'force-sync' | 'reject';

export interface StandbyGroupConfig {
  readonly name?: string;
  /** One active plus `memberCount - 1` standbys; at least 2. */
  readonly memberCount: number;
  /** 32 bytes; member i's identity derives from it and i. */
  readonly groupSeed: Uint8Array;
  /** Node of each member; default: member i on node i + 1. */
  readonly placement?: readonly NodeId[];
  readonly replayBufferCapacityEvents?: number;
  readonly onReplayBufferFull?: ReplayBufferFullPolicy;
  readonly hostConfig?: DaemonHostConfig;
}

/** Returns every problem with a standby group configuration (empty when valid); safe on any value. */
export function standbyGroupConfigProblems(config: StandbyGroupConfig): string[] {
  const problems = new InputProblems();
  if (!problems.record('config', config)) return problems.list;
  const count = config.memberCount;
  problems.integer('memberCount', count, MIN_STANDBY_GROUP_MEMBERS, MAX_GROUP_MEMBERS);
  problems.bytes('groupSeed', config.groupSeed, GROUP_SEED_BYTES);
  if (config.name !== undefined) problems.text('name', config.name);
  const placement = config.placement;
  if (placement !== undefined) {
    if (!Array.isArray(placement)) {
      problems.add(`placement must be an array of node ids, got ${describeValue(placement)}`);
    } else {
      for (const [index, node] of placement.entries()) problems.nodeId(`placement[${index}]`, node);
      if (placement.length !== count) {
        problems.add(`placement names ${placement.length} nodes for ${describeValue(count)} members`);
      }
    }
  }
  if (config.replayBufferCapacityEvents !== undefined) {
    problems.integer(
      'replayBufferCapacityEvents',
      config.replayBufferCapacityEvents,
      1,
      MAX_REPLAY_BUFFER_CAPACITY_EVENTS,
    );
  }
  if (config.onReplayBufferFull !== undefined) {
    problems.oneOf('onReplayBufferFull', config.onReplayBufferFull, REPLAY_BUFFER_FULL_POLICIES);
  }
  if (config.hostConfig !== undefined && problems.record('hostConfig', config.hostConfig)) {
    problems.nested('hostConfig', hostConfigProblems(config.hostConfig));
  }
  return problems.list;
}

const REPLAY_BUFFER_FULL_POLICIES: readonly ReplayBufferFullPolicy[] = ['force-sync', 'reject'];

export interface SyncReport {
  /** Inbound position the snapshot covers. */
  readonly inboundThrough: number;
  readonly synced: readonly number[];
  readonly failed: readonly { readonly index: number; readonly error: unknown }[];
  /** Standbys skipped because they are down. */
  readonly skipped: readonly number[];
  readonly bufferedEvents: number;
}

export interface StandbyGroupStats {
  readonly promotions: number;
  readonly replayedEvents: number;
  readonly syncs: number;
  readonly forcedSyncs: number;
  readonly refusedForBackpressure: number;
}

interface Member {
  readonly index: number;
  readonly nodeId: NodeId;
  readonly identity: DaemonIdentity;
  role: MemberRole;
  healthy: boolean;
  syncedThrough: number;
  /** Chain position saved when the member's daemon went away, so a re-spawn continues it. */
  savedChain: ChainPosition | undefined;
}

/**
 * Active/passive replication of one daemon. The active processes every event; standbys
 * hold the active's last snapshot. Every event applied by the active is kept in a bounded
 * replay buffer, tagged with its inbound position, until every standby that may be
 * promoted holds a snapshot covering it. Promotion picks the healthy standby with the
 * highest `syncedThrough` and replays the buffered events after that inbound position.
 */
export class StandbyGroup {
  readonly name: string;
  private readonly members: Member[];
  private readonly buffer: ReplayBuffer;
  private readonly policy: ReplayBufferFullPolicy;
  private readonly hostConfig: DaemonHostConfig | undefined;
  private readonly gates: Disposable[] = [];
  private observerHandle: Disposable | undefined;
  private activeIndexValue = 0;
  private termValue = 0;
  /** Every event at or before this inbound position has left the buffer. */
  private bufferBase = 0;
  /** Set from the first to the last step of a promotion; deliveries and syncs are refused meanwhile. */
  private promoting = false;
  /** The result of the promotion in progress; a node failure meanwhile joins it. */
  private promotion: Promise<bigint> | undefined;
  /** True only while the group itself hands one replayed event to the runtime. */
  private admittingReplay = false;
  private closed = false;
  private promotions = 0;
  private replayedEvents = 0;
  private syncs = 0;
  private forcedSyncs = 0;
  private refusedForBackpressure = 0;
  /** Whether the active was told `backpressure-on` and not yet `backpressure-off`. */
  private backpressureSignalled = false;

  private readonly observer: DeliveryObserver = (_origin, event, position) => {
    this.buffer.push(event, position);
  };

  private constructor(
    private readonly runtime: DaemonRuntime,
    readonly kind: string,
    config: StandbyGroupConfig,
  ) {
    this.name = config.name ?? `standby-${kind}`;
    this.buffer = new ReplayBuffer(
      config.replayBufferCapacityEvents ?? DEFAULT_REPLAY_BUFFER_CAPACITY_EVENTS,
    );
    this.policy = config.onReplayBufferFull ?? 'force-sync';
    this.hostConfig = config.hostConfig;
    this.members = [];
    for (let index = 0; index < config.memberCount; index++) {
      this.members.push({
        index,
        nodeId: config.placement?.[index] ?? defaultPlacement(index),
        identity: memberIdentity(config.groupSeed, index),
        role: index === 0 ? 'active' : 'standby',
        healthy: true,
        syncedThrough: 0,
        savedChain: undefined,
      });
    }
  }

  /**
   * Spawns every member of kind `kind` (pinned for the group's life): member 0 active, the
   * others standbys with `syncedThrough` 0. Fewer than 2 members is a `ValidationError`.
   */
  static spawn(runtime: DaemonRuntime, kind: string, config: StandbyGroupConfig): StandbyGroup {
    const problems = new InputProblems();
    groupTargetProblems(problems, runtime, kind);
    problems.addAll(standbyGroupConfigProblems(config));
    problems.throwIfAny('standby group');
    runtime.factoryFor(kind);
    const group = new StandbyGroup(runtime, kind, config);
    const spawned: bigint[] = [];
    try {
      for (const member of group.members) {
        runtime.spawn(kind, member.identity, group.spawnOptions(member));
        spawned.push(member.identity.originHash);
      }
    } catch (error) {
      for (const origin of spawned) runtime.unregister(origin);
      throw error;
    }
    for (const member of group.members) {
      group.gates.push(runtime.addGate(member.identity.originHash, () => group.admit(member)));
    }
    group.observerHandle = runtime.observe(group.activeOrigin(), group.observer);
    return group;
  }

  get term(): number {
    return this.termValue;
  }

  get activeIndex(): number {
    return this.activeIndexValue;
  }

  get memberCount(): number {
    return this.members.length;
  }

  get standbyCount(): number {
    return this.members.filter((member) => member.role === 'standby').length;
  }

  get bufferedEventCount(): number {
    return this.buffer.size;
  }

  get replayBufferCapacityEvents(): number {
    return this.buffer.capacityEvents;
  }

  get stats(): StandbyGroupStats {
    return {
      promotions: this.promotions,
      replayedEvents: this.replayedEvents,
      syncs: this.syncs,
      forcedSyncs: this.forcedSyncs,
      refusedForBackpressure: this.refusedForBackpressure,
    };
  }

  /** Origin of the current active member; events go there. */
  activeOrigin(): bigint {
    return this.activeMember().identity.originHash;
  }

  /** The active member's host (for inspection); throws when the active is down. */
  activeHost(): DaemonHost {
    const member = this.activeMember();
    if (!this.isUp(member)) throw new ActiveUnavailableError(this.name, member.index);
    return this.runtime.host(member.identity.originHash);
  }

  /**
   * Delivers to the active member through the runtime (like `runtime.deliver(activeOrigin(),
   * event)`). Refused with `GROUP_BUSY` during a promotion and `GROUP_ACTIVE_UNAVAILABLE` when
   * the active is down and nothing replaced it.
   */
  deliver(event: DaemonEvent): number | Promise<number> {
    this.requireOpen();
    if (this.promoting) throw new GroupBusyError(this.name, 'deliver');
    const active = this.activeMember();
    if (active.role !== 'active' || !this.isUp(active)) {
      throw new ActiveUnavailableError(this.name, active.index);
    }
    return this.runtime.deliver(active.identity.originHash, event);
  }

  memberRole(index: number): MemberRole | undefined {
    return this.members[index]?.role;
  }

  syncedThrough(index: number): number | undefined {
    return this.members[index]?.syncedThrough;
  }

  listMembers(): MemberInfo[] {
    return this.members.map((member) => ({
      index: member.index,
      nodeId: member.nodeId,
      originHash: member.identity.originHash,
      role: member.role,
      healthy: this.isUp(member),
      syncedThrough: member.syncedThrough,
    }));
  }

  health(): GroupHealth {
    const active = this.activeMember();
    if (active.role !== 'active' || !this.isUp(active)) return { status: 'dead' };
    const healthy = this.members.filter((member) => this.isUp(member)).length;
    if (healthy === this.members.length) return { status: 'healthy' };
    return { status: 'degraded', healthy, total: this.members.length };
  }

  /**
   * Snapshots the active and restores the snapshot on every healthy standby. The replay
   * buffer is cleared only if every standby took the snapshot; otherwise it keeps what the
   * least up-to-date promotable standby still needs. A standby whose restore failed is
   * re-spawned empty (its state may be half-written) and must wait for the next sync.
   */
  syncStandbys(): SyncReport {
    this.requireOpen();
    if (this.promoting) throw new GroupBusyError(this.name, 'sync');
    const snapshot = this.activeHost().snapshot();
    return this.syncFrom(snapshot);
  }

  /**
   * Promotes the healthy standby with the highest `syncedThrough` (ties: lowest index),
   * increments the term, replays the buffered events its snapshot does not cover and moves
   * the replay observer to it. If the promoted standby fails while it replays, the next best
   * one is promoted instead. Returns the new active origin. The group refuses deliveries
   * (`GROUP_BUSY`) until the returned promise settles.
   */
  promote(): Promise<bigint> {
    if (this.closed) return Promise.reject(new GroupClosedError(this.name));
    if (this.promoting) return Promise.reject(new GroupBusyError(this.name, 'promote'));
    this.promoting = true;
    this.promotion = this.runPromotion().finally(() => {
      this.promoting = false;
      this.promotion = undefined;
    });
    return this.promotion;
  }

  private async runPromotion(): Promise<bigint> {
    const previous = this.activeMember();
    if (previous.role === 'active' && this.isUp(previous)) {
      // A planned handover: the deliveries admitted so far finish (and are buffered) first.
      const host = this.runtime.host(previous.identity.originHash);
      if (host.pendingDeliveries > 0) await host.whenIdle();
    }
    let candidate = this.pickCandidate();
    this.observerHandle?.dispose();
    this.observerHandle = undefined;
    if (previous.role === 'active') {
      // A crashed active is treated like one on a failed node.
      if (previous.healthy && !this.isUp(previous)) this.takeDown(previous);
      if (this.isUp(previous)) {
        // A planned handover: the old active has applied everything so far.
        previous.syncedThrough = this.runtime.host(previous.identity.originHash).inboundPosition;
      }
      previous.role = 'standby';
    }
    // The new active was never told to hold back.
    this.backpressureSignalled = false;
    for (;;) {
      candidate.role = 'active';
      this.activeIndexValue = candidate.index;
      this.termValue++;
      const host = this.runtime.host(candidate.identity.originHash);
      let failure: unknown;
      try {
        await this.replayOnto(candidate, host);
      } catch (error) {
        failure = error;
      }
      if (failure === undefined && this.isUp(candidate) && this.holds(host)) break;
      // The standby failed while replaying (its daemon threw or its node failed); the buffer
      // still holds everything, so the next best standby takes over. A member that a
      // recovery re-spawned meanwhile is a fresh standby and stays up.
      if (this.holds(host)) this.takeDown(candidate);
      const next = this.findCandidate();
      if (next === undefined) {
        throw new NoStandbyError(this.name, `standby ${candidate.index} failed while replaying`, failure);
      }
      if (candidate !== next) candidate.role = 'standby';
      candidate = next;
    }
    this.promotions++;
    this.observerHandle = this.runtime.observe(candidate.identity.originHash, this.observer);
    return candidate.identity.originHash;
  }

  /**
   * The node `nodeId` failed: its members' daemons are gone. If the active was there, the
   * best standby is promoted and its origin returned; otherwise the standbys there are
   * marked unhealthy and undefined is returned.
   */
  async onNodeFailure(nodeId: NodeId): Promise<bigint | undefined> {
    checkNodeIdArgument('node failure', nodeId);
    this.requireOpen();
    let activeFailed = false;
    for (const member of this.members) {
      if (member.nodeId !== nodeId || !member.healthy) continue;
      this.takeDown(member);
      if (member.role === 'active') activeFailed = true;
    }
    if (!activeFailed) return undefined;
    // A promotion in progress moves on by itself when its standby fails.
    return this.promotion ?? this.promote();
  }

  /**
   * The node `nodeId` is back. Its members return as standbys with fresh daemons (their
   * state was lost with the node) and `syncedThrough` 0; the next sync brings them up.
   */
  onNodeRecovery(nodeId: NodeId): void {
    checkNodeIdArgument('node recovery', nodeId);
    this.requireOpen();
    for (const member of this.members) {
      if (member.nodeId !== nodeId || member.healthy) continue;
      const origin = member.identity.originHash;
      if (this.runtime.has(origin)) this.runtime.unregister(origin);
      this.runtime.spawn(this.kind, member.identity, this.spawnOptions(member));
      member.healthy = true;
      member.role = 'standby';
      member.syncedThrough = 0;
    }
  }

  /** Unregisters every member and detaches from the runtime. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.observerHandle?.dispose();
    for (const gate of this.gates) gate.dispose();
    for (const member of this.members) {
      if (this.runtime.has(member.identity.originHash)) this.runtime.unregister(member.identity.originHash);
    }
  }

  /** Gate run before every delivery to a member: only the active takes events, and only with room to buffer them. */
  private admit(member: Member): void {
    if (this.closed) throw new GroupClosedError(this.name);
    if (member.role !== 'active') throw new MemberNotActiveError(this.name, member.index);
    if (this.admittingReplay) return;
    if (this.promoting) throw new GroupBusyError(this.name, 'deliver');
    // Deliveries already admitted but still in flight will each take a slot.
    const pending = this.runtime.host(member.identity.originHash).pendingDeliveries;
    if (this.buffer.size + pending < this.buffer.capacityEvents) return;
    this.makeRoom(pending);
  }

  private makeRoom(pending: number): void {
    if (this.policy === 'force-sync') {
      this.forcedSyncs++;
      try {
        this.syncStandbys();
      } catch (error) {
        throw this.refuse(
          new ReplayBufferFullError(this.buffer.capacityEvents, 'the forced sync failed', error),
        );
      }
      if (this.buffer.size + pending < this.buffer.capacityEvents) return;
      throw this.refuse(
        new ReplayBufferFullError(this.buffer.capacityEvents, 'standbys could not take the sync'),
      );
    }
    throw this.refuse(
      new ReplayBufferFullError(this.buffer.capacityEvents, 'policy is reject: sync the standbys'),
    );
  }

  /** Counts a refusal and tells the active daemon, once, that its input is being pushed back. */
  private refuse(error: ReplayBufferFullError): ReplayBufferFullError {
    this.refusedForBackpressure++;
    if (!this.backpressureSignalled) {
      this.backpressureSignalled = true;
      this.signalActive({ type: 'backpressure-on' });
    }
    return error;
  }

  private signalActive(signal: ControlSignal): void {
    const active = this.activeMember();
    if (!this.isUp(active)) return;
    try {
      this.runtime.control(active.identity.originHash, signal);
    } catch {
      // The runtime has recorded the crash; the refusal itself stands.
    }
  }

  private syncFrom(snapshot: DaemonSnapshot): SyncReport {
    const through = snapshot.inboundThrough;
    const synced: number[] = [];
    const failed: { index: number; error: unknown }[] = [];
    const skipped: number[] = [];
    for (const member of this.members) {
      if (member.role !== 'standby') continue;
      if (!this.isUp(member)) {
        skipped.push(member.index);
        continue;
      }
      try {
        this.runtime.host(member.identity.originHash).restore(snapshot);
        member.syncedThrough = through;
        synced.push(member.index);
      } catch (error) {
        failed.push({ index: member.index, error });
        this.respawnEmpty(member);
      }
    }
    this.syncs++;
    this.trimBuffer(through, failed.length === 0 && skipped.length === 0);
    if (this.backpressureSignalled && !this.buffer.full) {
      this.backpressureSignalled = false;
      this.signalActive({ type: 'backpressure-off' });
    }
    return { inboundThrough: through, synced, failed, skipped, bufferedEvents: this.buffer.size };
  }

  private trimBuffer(through: number, everyStandbySynced: boolean): void {
    let keepAfter = through;
    if (!everyStandbySynced) {
      // Keep what the least up-to-date standby that can still be promoted would need.
      for (const member of this.members) {
        if (member.role !== 'standby' || !this.isUp(member)) continue;
        if (member.syncedThrough >= this.bufferBase) keepAfter = Math.min(keepAfter, member.syncedThrough);
      }
    }
    if (keepAfter > this.bufferBase) {
      this.buffer.dropThrough(keepAfter);
      this.bufferBase = keepAfter;
    }
  }

  private pickCandidate(): Member {
    const best = this.findCandidate();
    if (best === undefined) {
      throw new NoStandbyError(this.name, `no healthy standby covers inbound position ${this.bufferBase}`);
    }
    return best;
  }

  private findCandidate(): Member | undefined {
    let best: Member | undefined;
    for (const member of this.members) {
      if (member.role !== 'standby' || !this.isUp(member)) continue;
      // A standby older than the buffer's start cannot be brought up to date.
      if (member.syncedThrough < this.bufferBase) continue;
      if (best === undefined || member.syncedThrough > best.syncedThrough) best = member;
    }
    return best;
  }

  private async replayOnto(candidate: Member, host: DaemonHost): Promise<void> {
    const origin = host.originHash;
    assert(
      host.inboundPosition === candidate.syncedThrough,
      () => `standby ${candidate.index} is at ${host.inboundPosition}, recorded ${candidate.syncedThrough}`,
    );
    for (const { event, position } of this.buffer.after(candidate.syncedThrough)) {
      const result = this.deliverReplayed(origin, event);
      const applied = typeof result === 'number' ? result : await result;
      assert(applied === position, () => `replayed event ${position} landed at ${applied}`);
      this.replayedEvents++;
    }
  }

  /** The gates run synchronously inside `deliver`, so the flag admits this one event only. */
  private deliverReplayed(origin: bigint, event: DaemonEvent): number | Promise<number> {
    this.admittingReplay = true;
    try {
      return this.runtime.deliver(origin, event);
    } finally {
      this.admittingReplay = false;
    }
  }

  /** Whether the runtime still serves this very host (not a re-spawn under its origin). */
  private holds(host: DaemonHost): boolean {
    return this.runtime.has(host.originHash) && this.runtime.host(host.originHash) === host;
  }

  private takeDown(member: Member): void {
    member.healthy = false;
    const origin = member.identity.originHash;
    if (this.runtime.has(origin)) {
      member.savedChain = this.runtime.host(origin).chainPosition;
      this.runtime.unregister(origin);
    }
  }

  private respawnEmpty(member: Member): void {
    const origin = member.identity.originHash;
    if (this.runtime.has(origin)) {
      member.savedChain = this.runtime.host(origin).chainPosition;
      this.runtime.unregister(origin);
    }
    this.runtime.spawn(this.kind, member.identity, this.spawnOptions(member));
    member.syncedThrough = 0;
  }

  private spawnOptions(member: Member) {
    return {
      ...(this.hostConfig === undefined ? {} : { hostConfig: this.hostConfig }),
      ...(member.savedChain === undefined ? {} : { chainPosition: member.savedChain }),
    };
  }

  private isUp(member: Member): boolean {
    if (!member.healthy) return false;
    const origin = member.identity.originHash;
    return this.runtime.has(origin) && !this.runtime.host(origin).crashed;
  }

  private activeMember(): Member {
    const member = this.members[this.activeIndexValue];
    assert(member !== undefined, 'active index out of range');
    return member;
  }

  private requireOpen(): void {
    if (this.closed) throw new GroupClosedError(this.name);
  }
}
