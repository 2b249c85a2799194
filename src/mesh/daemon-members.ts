/**
 * The members of deployed daemons that run on this node, kept in step with the definitions the
 * node follows: a member placed here starts (from its checkpoint on this node's disk, or one
 * fetched from the active, else a fresh daemon of its kind, and replays the inbound chain from
 * there), a newer definition is handed to it (it may become active or stop being it), and a
 * member whose daemon is removed, or that is no longer placed here, stops and its checkpoint
 * file goes.
 */
import type { ChainsBackend } from '../api/index.js';
import type { StoredDaemon } from '../daemons/directory.js';
import { ExactlyOnceApplier } from '../daemons/exactly-once-applier.js';
import type { MemberCheckpoint } from '../daemons/member-checkpoint.js';
import { DaemonMoveFailedError } from '../daemons/move-errors.js';
import type { DaemonDefinition, DaemonKindCatalog } from '../daemons/types.js';
import type { Clock, Logger, NodeId, TimerId } from '../lib/index.js';
import { crashBackoff, MAX_CRASH_TIMES_KEPT } from '../reconcile/index.js';
import type { NodeLease } from './daemon-active-fence.js';
import type { MemberCheckpointStore } from './daemon-checkpoint-store.js';
import { DaemonMember } from './daemon-member.js';
import type { CheckpointThresholds } from './daemon-member-checkpoints.js';

export interface DaemonMembersOptions {
  readonly self: NodeId;
  readonly catalog: DaemonKindCatalog;
  readonly chains: ChainsBackend;
  /** The node's lease an active serves under (absent: no lease check; see DaemonMember). */
  readonly nodeLease?: () => NodeLease | undefined;
  /** This node's checkpoint files (none: checkpoints are kept in memory only). */
  readonly checkpoints?: MemberCheckpointStore;
  /** Fetches a checkpoint from another node's member (`fetchMemberCheckpoint`). */
  readonly fetchFrom?: (node: NodeId, name: string, minAppliedThrough: number) => Promise<MemberCheckpoint>;
  readonly checkpointEvery?: CheckpointThresholds;
  /** Told the offset of each member checkpoint saved on this node's disk. */
  readonly onCheckpointSaved?: (daemon: string, appliedThrough: number) => void;
  /** Records where a member starts on its chain's trim floor (`DaemonMemberOptions.claimStart`). */
  readonly claimStart?: (daemon: string, offset: number) => Promise<number | undefined>;
  /**
   * How long a move's target keeps what it prepared (a member started from a checkpoint, or its
   * warm standby applying every record) without being made active (default `PREPARED_MEMBER_TTL_MS`).
   */
  readonly preparedTtlMs?: number;
  readonly clock: Clock;
  readonly logger?: Logger;
}

/**
 * How long a move's prepared member waits to be placed here by a definition before it is
 * dropped, and a warm standby a move made apply every record goes on doing so without becoming
 * active (when the move's abandon never arrives).
 */
export const PREPARED_MEMBER_TTL_MS = 60_000;

/** A member of this node as the node reports it to the reconciler. */
export interface MemberReport {
  readonly name: string;
  readonly running: boolean;
  /** Its recent crashes while placed here, oldest first (at most MAX_CRASH_TIMES_KEPT). */
  readonly crashTimesWallMs: readonly number[];
  /** Its crashes while placed here, all of them: a restart asked for after an older crash is stale. */
  readonly crashes: number;
}

interface CrashHistory {
  readonly times: number[];
  count: number;
  /** The inbound offset its kind last crashed on (-1: it crashed when created, or never). */
  crashedThrough: number;
}

interface PreparedMember {
  readonly member: DaemonMember;
  readonly timer: TimerId;
}

export class DaemonMembers {
  private readonly running = new Map<string, DaemonMember>();
  /** Members a move's target prepared, by daemon name, until a definition places them here. */
  private readonly prepared = new Map<string, PreparedMember>();
  /** Warm standbys a move's target made apply every record, by daemon name: when they stop. */
  private readonly catchingUp = new Map<string, TimerId>();
  private closed = false;
  /** Crashes of the members placed here, by daemon (forgotten once not placed here). */
  private readonly crashHistory = new Map<string, CrashHistory>();
  /** Members that crashed: they wait for a restart the reconciler asks for (`restart`). */
  private readonly crashed = new Set<string>();
  /** The definitions last reconciled against (the follower's live map). */
  private daemons: ReadonlyMap<string, StoredDaemon> = new Map();

  constructor(private readonly options: DaemonMembersOptions) {}

  /** This node's member of daemon `name`, if one runs here. */
  get(name: string): DaemonMember | undefined {
    return this.running.get(name);
  }

  /** This node's member of `name`, or the one a move prepared here. */
  runningOrPrepared(name: string): DaemonMember | undefined {
    return this.running.get(name) ?? this.prepared.get(name)?.member;
  }

  /**
   * Starts a member for a move's target from `checkpoint`: it applies the inbound chain as a
   * standby would (no outputs, no sends) until a definition places member `index` here, when it
   * becomes that member. Dropped after `PREPARED_MEMBER_TTL_MS`, or when its daemon goes.
   */
  prepare(definition: DaemonDefinition, index: number, checkpoint: MemberCheckpoint): DaemonMember {
    this.dropPrepared(definition.name);
    const { active: _active, ...standbyView } = definition;
    const member = this.newMember({ ...standbyView, standbyMode: 'hot' }, index, checkpoint);
    if (member === undefined)
      throw new DaemonMoveFailedError(definition.name, 'restore', 'the target cannot run its kind');
    const timer = this.options.clock.setTimer(this.preparedTtlMs, () => {
      if (this.prepared.get(definition.name)?.member === member) this.dropPrepared(definition.name);
    });
    this.prepared.set(definition.name, { member, timer });
    member.start();
    return member;
  }

  get size(): number {
    return this.running.size;
  }

  all(): DaemonMember[] {
    return [...this.running.values()];
  }

  /** Starts, updates and stops members to match `daemons` (the whole followed map). */
  reconcile(daemons: ReadonlyMap<string, StoredDaemon>): void {
    if (this.closed) return;
    this.daemons = daemons;
    for (const name of this.crashHistory.keys()) {
      const definition = daemons.get(name)?.definition;
      if (definition === undefined || this.ownIndex(definition) === undefined) {
        this.crashHistory.delete(name);
        this.crashed.delete(name);
      }
    }
    for (const [name, member] of this.running) {
      const definition = daemons.get(name)?.definition;
      const index = definition === undefined ? undefined : this.ownIndex(definition);
      if (definition === undefined || index !== member.index || member.ended) {
        this.running.delete(name);
        this.stopCatchingUp(name);
        void this.retire(member);
      } else {
        member.updateDefinition(definition);
        if (member.active) this.stopCatchingUp(name);
      }
    }
    for (const name of this.prepared.keys()) if (!daemons.has(name)) this.dropPrepared(name);
    for (const { definition } of daemons.values()) {
      if (this.running.has(definition.name) || this.crashed.has(definition.name)) continue;
      const index = this.ownIndex(definition);
      if (index !== undefined) this.startMember(definition, index);
    }
  }

  /**
   * Starts again the crashed member of `name` (the reconciler asked, its backoff over) if it
   * crashed `crashes` times and its crash-loop backoff is over: a request made before its last
   * crash was seen is stale. False when nothing restarted (it runs, is not placed here, or the
   * request is stale or early): asking twice is a no-op.
   */
  restart(name: string, crashes: number): boolean {
    if (this.closed || !this.crashed.has(name)) return false;
    const history = this.crashHistory.get(name);
    if ((history?.count ?? 0) !== crashes) return false;
    // Never before its backoff, whatever asks (a request from a stale view is asked again later).
    const backoff = crashBackoff(history?.times ?? []);
    if (backoff !== undefined && this.options.clock.wallMs() < backoff.untilWallMs) return false;
    this.crashed.delete(name);
    const definition = this.daemons.get(name)?.definition;
    const index = definition === undefined ? undefined : this.ownIndex(definition);
    if (definition !== undefined && index !== undefined) this.startMember(definition, index);
    return true;
  }

  /** Every member placed here, running or crashed, by name. */
  report(): MemberReport[] {
    const report: MemberReport[] = [];
    for (const name of [...this.running.keys(), ...this.crashed].sort()) {
      const crashes = this.crashHistory.get(name);
      report.push({
        name,
        running: !this.crashed.has(name),
        crashTimesWallMs: crashes?.times ?? [],
        crashes: crashes?.count ?? 0,
      });
    }
    return report;
  }

  /**
   * A move's target runs its own member of `name` (a standby): it applies every record, even a
   * warm one, until the move makes it active, abandons it, or `preparedTtlMs` passes.
   */
  catchUp(name: string): DaemonMember | undefined {
    const member = this.running.get(name);
    if (member === undefined) return undefined;
    this.stopCatchingUp(name);
    member.applyEveryRecord();
    this.catchingUp.set(
      name,
      this.options.clock.setTimer(this.preparedTtlMs, () => {
        this.catchingUp.delete(name);
        this.running.get(name)?.stopApplyingEveryRecord();
      }),
    );
    return member;
  }

  /**
   * Undoes what a move prepared here (it failed before its cutover): its prepared member is
   * dropped, and a warm standby made to apply every record goes back to holding checkpoints.
   */
  abandon(name: string): void {
    this.dropPrepared(name);
    this.stopCatchingUp(name);
    this.running.get(name)?.stopApplyingEveryRecord();
  }

  private get preparedTtlMs(): number {
    return this.options.preparedTtlMs ?? PREPARED_MEMBER_TTL_MS;
  }

  private stopCatchingUp(name: string): void {
    const timer = this.catchingUp.get(name);
    if (timer === undefined) return;
    this.catchingUp.delete(name);
    this.options.clock.clearTimer(timer);
  }

  private dropPrepared(name: string): void {
    const prepared = this.prepared.get(name);
    if (prepared === undefined) return;
    this.prepared.delete(name);
    this.options.clock.clearTimer(prepared.timer);
    void prepared.member.stop();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const name of [...this.prepared.keys()]) this.dropPrepared(name);
    for (const name of [...this.catchingUp.keys()]) this.stopCatchingUp(name);
    const members = [...this.running.values()];
    this.running.clear();
    await Promise.all(members.map((member) => member.stop()));
  }

  /** Stops a member that is no longer placed here; its checkpoint is of no use to this node. */
  private async retire(member: DaemonMember): Promise<void> {
    await member.stop();
    if (this.closed || this.running.has(member.name) || this.prepared.has(member.name)) return;
    await this.options.checkpoints?.remove(member.name).catch((error: unknown) => {
      this.options.logger?.warn({ err: error, daemon: member.name }, 'daemons: removing a checkpoint failed');
    });
  }

  private ownIndex(definition: DaemonDefinition): number | undefined {
    return definition.members.find((member) => member.node === this.options.self)?.index;
  }

  private startMember(definition: DaemonDefinition, index: number): void {
    const prepared = this.prepared.get(definition.name);
    let member: DaemonMember | undefined;
    if (prepared !== undefined && prepared.member.index === index) {
      // The move's cutover placed the prepared member here: it goes on as this member.
      this.prepared.delete(definition.name);
      this.options.clock.clearTimer(prepared.timer);
      member = prepared.member;
      member.updateDefinition(definition);
    } else {
      member = this.newMember(definition, index);
      member?.start();
    }
    if (member !== undefined) this.running.set(definition.name, member);
    else this.noteCrash(definition.name);
  }

  /**
   * The member could not start, or its kind crashed on the event at `offset`: it waits for the
   * reconciler's restart (after its backoff).
   */
  private noteCrash(name: string, offset?: number): void {
    const crashes = this.crashHistory.get(name) ?? { times: [], count: 0, crashedThrough: -1 };
    crashes.times.push(this.options.clock.wallMs());
    if (crashes.times.length > MAX_CRASH_TIMES_KEPT)
      crashes.times.splice(0, crashes.times.length - MAX_CRASH_TIMES_KEPT);
    crashes.count += 1;
    if (offset !== undefined) crashes.crashedThrough = Math.max(crashes.crashedThrough, offset);
    this.crashHistory.set(name, crashes);
    this.crashed.add(name);
  }

  /**
   * The kind of `member` crashed on an event (docs/RECONCILE.md "Crash-loop backoff on a running
   * node"): the member stops (its checkpoint stays: the restart starts from it) and counts a crash.
   */
  private kindCrashed(member: DaemonMember, offset: number): void {
    if (this.running.get(member.name) !== member) return;
    this.running.delete(member.name);
    this.stopCatchingUp(member.name);
    this.noteCrash(member.name, offset);
    void member.stop();
  }

  private newMember(
    definition: DaemonDefinition,
    index: number,
    initialCheckpoint?: MemberCheckpoint,
  ): DaemonMember | undefined {
    const { catalog, chains, clock, logger, self, nodeLease, checkpoints, fetchFrom, checkpointEvery } =
      this.options;
    const { onCheckpointSaved, claimStart } = this.options;
    const applierOptions = () => ({
      kind: catalog.get(definition.kind),
      config: definition.config,
      context: { daemonName: definition.name, memberIndex: index, node: self },
      clock,
    });
    const crashedThrough = this.crashHistory.get(definition.name)?.crashedThrough ?? -1;
    try {
      const member: DaemonMember = new DaemonMember({
        definition,
        index,
        onKindCrash: (offset) => this.kindCrashed(member, offset),
        crashedThrough,
        newApplier: () => ExactlyOnceApplier.create(applierOptions()),
        restoreApplier: (snapshot) => ExactlyOnceApplier.restore(applierOptions(), snapshot),
        chains,
        ...(nodeLease === undefined ? {} : { nodeLease }),
        clock,
        ...(checkpoints === undefined ? {} : { checkpoints }),
        ...(fetchFrom === undefined ? {} : { fetchFrom }),
        ...(checkpointEvery === undefined ? {} : { checkpointEvery }),
        ...(onCheckpointSaved === undefined ? {} : { onCheckpointSaved }),
        ...(claimStart === undefined ? {} : { claimStart }),
        ...(initialCheckpoint === undefined ? {} : { initialCheckpoint }),
        ...(logger === undefined ? {} : { logger }),
      });
      return member;
    } catch (error) {
      logger?.error(
        { err: error, daemon: definition.name, kind: definition.kind },
        'daemons: cannot run this member here',
      );
      return undefined;
    }
  }
}
