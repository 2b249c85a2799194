/**
 * One member of a deployed daemon running on this node. It starts from its checkpoint on the
 * node's disk (or one fetched from another member, for a member new here), else from an empty
 * state, and then, as an active or a hot standby, follows the daemon's inbound chain from where
 * that left off (committed records, in offset order, from this node's replica when it holds one),
 * applying each through its `MemberCore` and taking a checkpoint every so many records. While
 * the definition names it active it also runs the output writer. A warm standby applies nothing:
 * it holds a checkpoint fetched from the active now and then (`WarmHolder`), and when promoted
 * restores it and replays the chain's tail. Senders on this node wait here for the outcome of
 * the offset their event got.
 */
import type { ChainRecordStream, ChainsBackend } from '../api/index.js';
import { type MemberChains, memberChains } from '../daemons/chain-names.js';
import { memberNode, servesEvents } from '../daemons/directory.js';
import { applyInboundRecord } from '../daemons/inbound-step.js';
import type { MemberCheckpoint } from '../daemons/member-checkpoint.js';
import { type ApplyOutcome, type EventApplier, MemberCore } from '../daemons/member-core.js';
import { decodeMemberSnapshot } from '../daemons/member-snapshot.js';
import type { DaemonDefinition } from '../daemons/types.js';
import { type Clock, type Logger, MeshError, type NodeId } from '../lib/index.js';
import { ActiveFence, type NodeLease } from './daemon-active-fence.js';
import type { MemberCheckpointStore } from './daemon-checkpoint-store.js';
import {
  type CheckpointThresholds,
  DEFAULT_CHECKPOINT_THRESHOLDS,
  MemberCheckpoints,
  type ServedCheckpoint,
} from './daemon-member-checkpoints.js';
import { OffsetWaiters } from './daemon-offset-waiters.js';
import { OutputWriter } from './daemon-output-writer.js';
import { SendGate } from './daemon-send-gate.js';
import { pause, WarmHolder } from './daemon-warm-holder.js';

/** Wait before following the inbound chain again after a failed read. */
export const MEMBER_RETRY_DELAY_MS = 200;
/** Senders waiting on one member at once; more are refused (their events were appended: unknown). */
export const MAX_MEMBER_WAITERS = 10_000;
/** How long an active waits for its outputs to reach the output chain before a checkpoint is saved. */
export const CHECKPOINT_OUTPUTS_WAIT_MS = 2_000;
/** Senders waiting on a member at which it reports itself saturated (to replica-group routers). */
export const MEMBER_SATURATED_WAITERS = 256;
/** Tries of a starting member to claim its start on the trim floor (a fetch from another member between). */
export const MAX_START_CLAIM_ATTEMPTS = 20;
/**
 * Claims that fail (the control plane unreachable: each call may take CONTROL_CALL_TIMEOUT_MS)
 * after which a starting member goes on from its start unclaimed, rather than wait for the plane.
 */
export const MAX_START_CLAIM_FAILURES = 3;

export interface DaemonMemberOptions {
  readonly definition: DaemonDefinition;
  readonly index: number;
  /** A fresh applier (empty state): the member's first, and again after it broke. */
  readonly newApplier: () => EventApplier;
  /** An applier restored from a member snapshot (throws when the daemon refuses it). */
  readonly restoreApplier: (snapshot: Uint8Array) => EventApplier;
  readonly chains: ChainsBackend;
  /**
   * The node's lease (undefined: not registered). Absent: no lease check (a test's nodes without
   * registrations); the active is then fenced by epochs alone.
   */
  readonly nodeLease?: () => NodeLease | undefined;
  /** This node's checkpoint files; without it the member keeps checkpoints in memory only. */
  readonly checkpoints?: MemberCheckpointStore;
  /**
   * The checkpoint of the member of daemon `name` on `node`, at least at `minAppliedThrough`
   * (`fetchMemberCheckpoint`): a member that starts without one of its own, or a warm standby,
   * takes the active's.
   */
  readonly fetchFrom?: (node: NodeId, name: string, minAppliedThrough: number) => Promise<MemberCheckpoint>;
  readonly checkpointEvery?: CheckpointThresholds;
  /** Told the offset of each checkpoint saved on this node's disk. */
  readonly onCheckpointSaved?: (daemon: string, appliedThrough: number) => void;
  /**
   * Records where the member starts as its node's checkpoint on the trim floor and answers the
   * floor in force (`claimTrimStart`; undefined: not trimmed). Absent: no trim floor.
   */
  readonly claimStart?: (daemon: string, offset: number) => Promise<number | undefined>;
  /** A checkpoint to start from instead of looking for one (a move's target fetched it). */
  readonly initialCheckpoint?: MemberCheckpoint;
  /**
   * Told when the kind crashes on a record above `crashedThrough` (`isKindCrash`): the member
   * stops following its chain (its owner stops it and counts the crash). A crash at or below
   * `crashedThrough` is the replay of one already counted and goes by as the failed event it is.
   */
  readonly onKindCrash?: (offset: number, reason: string) => void;
  /** The offset of this node's member's last counted crash (-1: none). */
  readonly crashedThrough?: number;
  readonly clock: Clock;
  readonly logger?: Logger;
}

type MemberMode = 'applying' | 'warm';

export class DaemonMember {
  private core: MemberCore;
  private readonly waiters: OffsetWaiters<ApplyOutcome | undefined>;
  private readonly checkpoints: MemberCheckpoints;
  private readonly warm: WarmHolder;
  private readonly every: CheckpointThresholds;
  private definition: DaemonDefinition;
  private writer: OutputWriter | undefined;
  private writerCore: MemberCore | undefined;
  private mode: MemberMode | undefined;
  private modeAbort: AbortController | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;
  /** The subscription the member reads its inbound chain with, while it follows it into `core`. */
  private following: ChainRecordStream | undefined;
  /** Where the member's first core started (0, or a restored checkpoint's offset). */
  startedAt = 0;
  /** Whether the member's chain was deleted (the daemon is being removed). */
  ended = false;
  /** Resolves once the member's first core is set up (restored from its checkpoint, if any). */
  readonly ready: Promise<void>;
  private readied: () => void = () => undefined;
  /** Applies every record even as a warm standby (a move's target catching up). */
  private applyingWanted = false;
  /** The sends appending through this member; a move's cutover closes it. */
  readonly gate: SendGate;
  private readonly fence: ActiveFence;

  constructor(private readonly options: DaemonMemberOptions) {
    this.definition = options.definition;
    this.ready = new Promise((resolve) => {
      this.readied = resolve;
    });
    this.core = new MemberCore(options.newApplier());
    this.gate = new SendGate(options.clock);
    this.fence = new ActiveFence(options.clock, options.nodeLease);
    this.waiters = new OffsetWaiters<ApplyOutcome | undefined>(options.clock, MAX_MEMBER_WAITERS, undefined);
    const every = options.checkpointEvery ?? DEFAULT_CHECKPOINT_THRESHOLDS;
    this.every = every;
    this.checkpoints = new MemberCheckpoints({
      name: options.definition.name,
      every,
      ...(options.checkpoints === undefined ? {} : { store: options.checkpoints }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
      ...(options.onCheckpointSaved === undefined
        ? {}
        : { onSaved: (offset: number) => options.onCheckpointSaved?.(options.definition.name, offset) }),
    });
    this.warm = new WarmHolder({
      chain: memberChains(options.definition, options.index).inbound,
      chains: options.chains,
      every,
      clock: options.clock,
      fetch: (minAppliedThrough) => this.fetchFromActive(minAppliedThrough),
      keep: (checkpoint) => this.checkpoints.save(checkpoint, async () => true),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
  }

  get name(): string {
    return this.definition.name;
  }

  get index(): number {
    return this.options.index;
  }

  /** What this member reflects: applied records, or for a warm standby its held checkpoint's. */
  get syncedThrough(): number {
    return this.mode === 'warm' ? (this.warm.held?.appliedThrough ?? 0) : this.core.appliedThrough;
  }

  /**
   * How far it followed its inbound chain: `syncedThrough`, or past the `epoch-start` markers its
   * subscription read after the last record it applied. A new chain leader's marker takes an
   * offset but holds no event, so a chain whose committed end is a marker (its leader changed
   * after its last event) would leave `syncedThrough` short of the commit offset until the next
   * event. Status and progress report this: at the chain's commit offset exactly when the member
   * applied everything committed.
   */
  get followedThrough(): number {
    const synced = this.syncedThrough;
    return this.following === undefined ? synced : Math.max(synced, this.following.position);
  }

  /** Records applied by the member's current core (a restored core counts from its checkpoint). */
  get appliedRecords(): number {
    return this.core.appliedRecords;
  }

  /** Checkpoints this member wrote to its node's disk. */
  get checkpointsSaved(): number {
    return this.checkpoints.saved;
  }

  /** The chains this member appends to and follows (its own in a replica group). */
  get ownChains(): MemberChains {
    return memberChains(this.definition, this.options.index);
  }

  /**
   * Whether this member takes events under the epoch it stamps: the member the definition names
   * active, or any member of a replica group (each serves its own share on its own chain).
   */
  get active(): boolean {
    return servesEvents(this.definition, this.options.index);
  }

  /** Load in [0, 1]: the kind's own saturation, or the senders waiting here, whichever is higher. */
  get saturation(): number {
    return Math.max(this.core.saturation(), Math.min(1, this.waiters.size / MEMBER_SATURATED_WAITERS));
  }

  /**
   * Whether it may take events as the active now (docs/DAEMONS.md "Fencing"): named active, no
   * record of a newer epoch seen on the inbound chain, and its node's lease holds (`ActiveFence`).
   */
  servesAsActive(): boolean {
    return this.active && this.core.epochSeen <= this.definition.epoch && this.fence.leaseHolds();
  }

  /** Whether a send may append under this member's epoch now: it serves, and no move holds it. */
  get accepting(): boolean {
    return this.servesAsActive() && this.gate.open;
  }

  /** A definition read after the node registered again: the same epoch naming it active re-arms it. */
  confirm(definition: DaemonDefinition): void {
    this.fence.confirm(this.definition, definition, this.options.index);
  }

  /** Applies every record from now on even as a warm standby: a move's target must catch up. */
  applyEveryRecord(): void {
    this.applyingWanted = true;
    if (this.mode === 'warm') this.modeAbort?.abort();
  }

  /**
   * The move that asked `applyEveryRecord` did not make this member active (it failed, or was
   * abandoned): a warm standby goes back to holding checkpoints (its applied state becomes the
   * checkpoint it holds), rather than staying hot for good.
   */
  stopApplyingEveryRecord(): void {
    if (!this.applyingWanted) return;
    this.applyingWanted = false;
    if (this.mode !== undefined && this.wantedMode() !== this.mode) this.modeAbort?.abort();
  }

  /** Whether it holds a checkpoint instead of applying events (a warm standby). */
  get holdsCheckpoint(): boolean {
    return this.mode === 'warm';
  }

  get epoch(): number {
    return this.definition.epoch;
  }

  /** The daemon's state and the offset it reflects (a warm standby's: its held checkpoint's). */
  async state(): Promise<{ readonly state: Uint8Array; readonly appliedThrough: number }> {
    if (this.mode !== 'warm') return this.core.state();
    const held = this.warm.held;
    if (held === undefined) return { state: new Uint8Array(0), appliedThrough: 0 };
    return { state: decodeMemberSnapshot(held.snapshot).state, appliedThrough: held.appliedThrough };
  }

  /**
   * The checkpoint peers fetch: the last one taken when it reflects at least
   * `minAppliedThrough`, else one taken now (an applying member; a warm one serves what it holds).
   */
  async checkpointToServe(minAppliedThrough: number): Promise<ServedCheckpoint | undefined> {
    const served = this.checkpoints.served;
    if (served !== undefined && served.appliedThrough >= minAppliedThrough) return served;
    if (this.mode === 'warm') return served;
    const checkpoint = await this.takeCheckpoint();
    // A member restored from it writes the outputs of later events only: the active hands out
    // a checkpoint once the outputs of the events it reflects are written.
    const writer = this.writer;
    if (
      writer !== undefined &&
      !(await writer.waitWritten(checkpoint.appliedThrough - 1, CHECKPOINT_OUTPUTS_WAIT_MS))
    )
      return served;
    return this.checkpoints.hold(checkpoint);
  }

  start(): void {
    this.loop ??= this.drive();
    this.updateDefinition(this.definition);
  }

  /** A newer definition: the member becomes (or stops being) the active, hot or warm. */
  updateDefinition(definition: DaemonDefinition): void {
    this.definition = definition;
    // Active now: a move's wish that it apply every record is fulfilled, and once it is a
    // standby again it is the standby its definition says (warm or hot).
    if (this.active) this.applyingWanted = false;
    if (this.active && this.fence.isNewEpoch(definition)) {
      this.fence.arm(definition.epoch);
      this.options.logger?.info(
        {
          daemon: definition.name,
          epoch: definition.epoch,
          member: this.index,
          syncedThrough: this.syncedThrough,
        },
        'daemons: this member is the active',
      );
    }
    if (this.mode !== undefined && this.wantedMode() !== this.mode) this.modeAbort?.abort();
    this.syncWriter();
  }

  /** The outcome of the record at `offset` once applied; undefined after `timeoutMs` or on stop. */
  waitFor(offset: number, timeoutMs: number): Promise<ApplyOutcome | undefined> {
    if (offset < this.core.appliedThrough) return Promise.resolve(this.core.outcome(offset));
    return this.waiters.wait(offset, timeoutMs);
  }

  /** Resolves once the event's outputs are on the output chain, or `timeoutMs` passed (false). */
  async outputsWritten(offset: number, timeoutMs: number): Promise<boolean> {
    return (await this.writer?.waitWritten(offset, timeoutMs)) ?? false;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.readied();
    this.modeAbort?.abort();
    this.stopWriter();
    this.waiters.close();
    await this.loop;
    await this.checkpoints.settled();
  }

  private wantedMode(): MemberMode {
    const warm = this.definition.standbyMode === 'warm' && !this.active && !this.applyingWanted;
    return warm ? 'warm' : 'applying';
  }

  /** Starts from a checkpoint, then applies or holds as the definition asks, until stopped. */
  private async drive(): Promise<void> {
    const start = await this.startAboveFloor(
      this.options.initialCheckpoint ?? (await this.startingCheckpoint()),
    );
    if (start !== undefined) {
      this.warm.held = start;
      this.startedAt = start.appliedThrough;
    }
    while (!this.stopped && !this.ended) {
      const mode = this.wantedMode();
      const abort = new AbortController();
      this.modeAbort = abort;
      this.mode = mode;
      if (mode === 'warm') {
        this.syncWriter();
        if (this.core.appliedThrough > (this.warm.held?.appliedThrough ?? 0))
          this.warm.held = await this.takeCheckpoint();
        this.readied();
        if (await this.warm.run(abort.signal, () => this.definition)) this.ended = true;
      } else {
        this.restoreHeld();
        this.syncWriter();
        this.readied();
        await this.follow(abort.signal);
      }
    }
  }

  /** The member's own checkpoint of this deployment, else another member's, else none. */
  private async startingCheckpoint(): Promise<MemberCheckpoint | undefined> {
    const { checkpoints, chains, logger } = this.options;
    // A node's checkpoint file is per daemon, and each replica member has its own chain: a file
    // left by another member this node ran cannot tell, so a replica member replays its chain.
    if (this.definition.group === 'replica') return undefined;
    const createdAtMs = this.definition.createdAtMs;
    const own = await checkpoints?.load(this.name).catch((error: unknown) => {
      logger?.warn({ err: error, daemon: this.name }, 'daemons: reading the member checkpoint failed');
      return undefined;
    });
    if (own !== undefined && own.createdAtMs === createdAtMs) return own;
    try {
      // A short chain is cheaper to replay than a checkpoint is to take and send, unless its
      // start was trimmed (docs/CHAINS.md "Trim floor"): then only a checkpoint can start it.
      const { commitOffset, startOffset } = await chains.status(this.ownChains.inbound);
      if (commitOffset < this.every.events && startOffset === 0) return undefined;
      const fetched = await this.fetchFromActive(0);
      if (fetched?.createdAtMs !== createdAtMs) return undefined;
      this.checkpoints.save(fetched, async () => true);
      return fetched;
    } catch (error) {
      logger?.info({ err: error, daemon: this.name }, 'daemons: no checkpoint from another member');
      return undefined;
    }
  }

  /**
   * Claims the member's start on its inbound chain's trim floor (docs/CHAINS.md "Trim floor"): its
   * node's record becomes `start`'s offset, so the floor cannot rise past what this member needs.
   * When the floor is above it already (the node's earlier record named a checkpoint this member
   * no longer has: its disk was replaced), the records it would replay may be gone, and it takes a
   * checkpoint at or above the floor from another member instead. A member that cannot claim in
   * `MAX_START_CLAIM_ATTEMPTS` (or whose claims fail `MAX_START_CLAIM_FAILURES` times: no control
   * plane) goes on from `start`; its next saved checkpoint corrects its record.
   */
  private async startAboveFloor(start: MemberCheckpoint | undefined): Promise<MemberCheckpoint | undefined> {
    const { claimStart, clock, logger } = this.options;
    if (claimStart === undefined) return start;
    const never = new AbortController().signal;
    let failures = 0;
    for (let attempt = 0; attempt < MAX_START_CLAIM_ATTEMPTS && !this.stopped; attempt++) {
      const offset = start?.appliedThrough ?? 0;
      try {
        const floor = await claimStart(this.name, offset);
        if (floor === undefined || floor <= offset) return start;
        const fetched = await this.fetchFromAnyMember(floor);
        if (fetched !== undefined) {
          this.checkpoints.save(fetched, async () => true);
          start = fetched;
          continue;
        }
        logger?.warn(
          { daemon: this.name, offset, floor },
          "daemons: the member starts below its chain's trim floor and no member has a checkpoint above it yet",
        );
      } catch (error) {
        logger?.warn(
          { err: error, daemon: this.name },
          "daemons: claiming the member's start on the trim floor failed",
        );
        failures += 1;
        if (failures >= MAX_START_CLAIM_FAILURES) return start;
      }
      await pause(clock, MEMBER_RETRY_DELAY_MS, never);
    }
    return start;
  }

  /** A checkpoint of this deployment at or above `minAppliedThrough` from another member (the active first). */
  private async fetchFromAnyMember(minAppliedThrough: number): Promise<MemberCheckpoint | undefined> {
    const { definition } = this;
    const fetchFrom = this.options.fetchFrom;
    if (fetchFrom === undefined) return undefined;
    const others = definition.members
      .filter((member) => member.index !== this.options.index)
      .sort((a, b) => Number(b.index === definition.active) - Number(a.index === definition.active));
    for (const member of others) {
      const fetched = await fetchFrom(member.node, definition.name, minAppliedThrough).catch(() => undefined);
      if (fetched?.createdAtMs === definition.createdAtMs && fetched.appliedThrough >= minAppliedThrough)
        return fetched;
    }
    return undefined;
  }

  /** The active's checkpoint (undefined when this member is the active or none can fetch). */
  private async fetchFromActive(minAppliedThrough: number): Promise<MemberCheckpoint | undefined> {
    const { definition } = this;
    const fetchFrom = this.options.fetchFrom;
    if (fetchFrom === undefined || definition.active === undefined || this.active) return undefined;
    const node = memberNode(definition, definition.active);
    return node === undefined ? undefined : fetchFrom(node, definition.name, minAppliedThrough);
  }

  /** A held checkpoint ahead of the core becomes the core (a restart, a promoted warm standby). */
  private restoreHeld(): void {
    const held = this.warm.held;
    if (held === undefined || held.appliedThrough <= this.core.appliedThrough) return;
    try {
      this.core = new MemberCore(this.options.restoreApplier(held.snapshot), held);
      this.options.logger?.info(
        { daemon: this.name, appliedThrough: held.appliedThrough },
        'daemons: member restored from a checkpoint; replaying the chain from there',
      );
    } catch (error) {
      this.options.logger?.warn(
        { err: error, daemon: this.name },
        'daemons: the member cannot restore its checkpoint; replaying its chain from the start',
      );
    }
  }

  private async takeCheckpoint(): Promise<MemberCheckpoint> {
    const core = await this.core.checkpoint();
    return { createdAtMs: this.definition.createdAtMs, ...core };
  }

  private async follow(signal: AbortSignal): Promise<void> {
    const { chains, clock, logger } = this.options;
    const chain = this.ownChains.inbound;
    while (!signal.aborted) {
      try {
        const stream = chains.subscribe(chain, this.core.appliedThrough, signal);
        this.following = stream;
        for await (const record of stream) {
          const step = await applyInboundRecord(this.core, record.offset, record.payload, {
            restore: this.options.restoreApplier,
            onUndecodable: (error) =>
              logger?.warn(
                { err: error, daemon: this.name, offset: record.offset },
                'daemons: refused an undecodable inbound record',
              ),
          });
          if (step.core !== this.core) {
            // A fork record started the chain: the member goes on from the parent's state.
            this.core = step.core;
            this.syncWriter();
          }
          const outcome = step.outcome;
          if (outcome.type === 'failed' && outcome.code === 'DAEMON_MEMBER_BROKEN') {
            this.rebuild(outcome.reason);
            break;
          }
          this.settle(record.offset, outcome);
          this.writer?.notify();
          if (this.checkpoints.counted(record.payload.length)) this.saveCheckpoint();
          if (this.crashedOn(record.offset, outcome)) return;
          if (signal.aborted) return;
        }
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof MeshError && error.code === 'CHAIN_NOT_FOUND') {
          this.ended = true;
          return;
        }
        logger?.warn(
          { err: error, daemon: this.name },
          'daemons: following the inbound chain failed; retrying',
        );
      } finally {
        this.following = undefined;
      }
      await pause(clock, MEMBER_RETRY_DELAY_MS, signal);
    }
  }

  /** A crash of the kind not counted before: the owner is told, and the member follows no more. */
  private crashedOn(offset: number, outcome: ApplyOutcome): boolean {
    const { onKindCrash, crashedThrough = -1 } = this.options;
    if (onKindCrash === undefined || outcome.type !== 'failed' || outcome.crashed !== true) return false;
    if (offset <= crashedThrough) return false;
    this.options.logger?.warn(
      { daemon: this.name, offset, reason: outcome.reason },
      'daemons: the kind crashed on an event; the member stops until the reconciler restarts it',
    );
    onKindCrash(offset, outcome.reason);
    return true;
  }

  /** Takes a checkpoint now (between two records) and saves it; the active's after its outputs. */
  private saveCheckpoint(): void {
    this.takeCheckpoint().then(
      (checkpoint) => {
        const writer = this.writer;
        this.checkpoints.save(checkpoint, async () =>
          writer === undefined
            ? true
            : writer.waitWritten(checkpoint.appliedThrough - 1, CHECKPOINT_OUTPUTS_WAIT_MS),
        );
      },
      (error: unknown) => {
        this.options.logger?.warn({ err: error, daemon: this.name }, 'daemons: taking a checkpoint failed');
      },
    );
  }

  /** The applier cannot go on: a fresh one replays the inbound chain from its start. */
  private rebuild(reason: string): void {
    this.options.logger?.error(
      { daemon: this.name, reason },
      'daemons: the member broke; replaying its chain',
    );
    // The fresh core starts at 0: the old subscription's position says nothing about it.
    this.following = undefined;
    this.core = new MemberCore(this.options.newApplier());
    this.syncWriter();
  }

  /** An active applying member runs an output writer over its current core; others none. */
  private syncWriter(): void {
    const wanted = this.active && !this.stopped && this.mode === 'applying';
    if (wanted && this.writer !== undefined && this.writerCore === this.core) return;
    this.stopWriter();
    if (!wanted) return;
    const { chains, clock, logger } = this.options;
    this.writer = new OutputWriter({
      daemon: this.definition.name,
      chain: this.ownChains.outputs,
      chains,
      core: this.core,
      mayWrite: () => this.servesAsActive(),
      clock,
      ...(logger === undefined ? {} : { logger }),
    });
    this.writerCore = this.core;
    this.writer.start();
  }

  private stopWriter(): void {
    this.writer?.stop();
    this.writer = undefined;
    this.writerCore = undefined;
  }

  private settle(offset: number, outcome: ApplyOutcome): void {
    this.waiters.settleBelow(offset + 1, (waited) =>
      waited === offset ? outcome : this.core.outcome(waited),
    );
  }
}
