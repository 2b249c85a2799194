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
  readonly clock: Clock;
  readonly logger?: Logger;
}

/** How long a move's prepared member waits to be placed here by a definition before it is dropped. */
export const PREPARED_MEMBER_TTL_MS = 60_000;

interface PreparedMember {
  readonly member: DaemonMember;
  readonly timer: TimerId;
}

export class DaemonMembers {
  private readonly running = new Map<string, DaemonMember>();
  /** Members a move's target prepared, by daemon name, until a definition places them here. */
  private readonly prepared = new Map<string, PreparedMember>();
  private closed = false;

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
    const timer = this.options.clock.setTimer(PREPARED_MEMBER_TTL_MS, () => {
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
    for (const [name, member] of this.running) {
      const definition = daemons.get(name)?.definition;
      const index = definition === undefined ? undefined : this.ownIndex(definition);
      if (definition === undefined || index !== member.index || member.ended) {
        this.running.delete(name);
        void this.retire(member);
      } else {
        member.updateDefinition(definition);
      }
    }
    for (const name of this.prepared.keys()) if (!daemons.has(name)) this.dropPrepared(name);
    for (const { definition } of daemons.values()) {
      if (this.running.has(definition.name)) continue;
      const index = this.ownIndex(definition);
      if (index !== undefined) this.startMember(definition, index);
    }
  }

  /** Drops the member a move prepared here (the move failed before its cutover). */
  abandon(name: string): void {
    this.dropPrepared(name);
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
  }

  private newMember(
    definition: DaemonDefinition,
    index: number,
    initialCheckpoint?: MemberCheckpoint,
  ): DaemonMember | undefined {
    const { catalog, chains, clock, logger, self, nodeLease, checkpoints, fetchFrom, checkpointEvery } =
      this.options;
    const applierOptions = () => ({
      kind: catalog.get(definition.kind),
      config: definition.config,
      context: { daemonName: definition.name, memberIndex: index, node: self },
      clock,
    });
    try {
      return new DaemonMember({
        definition,
        index,
        newApplier: () => ExactlyOnceApplier.create(applierOptions()),
        restoreApplier: (snapshot) => ExactlyOnceApplier.restore(applierOptions(), snapshot),
        chains,
        ...(nodeLease === undefined ? {} : { nodeLease }),
        clock,
        ...(checkpoints === undefined ? {} : { checkpoints }),
        ...(fetchFrom === undefined ? {} : { fetchFrom }),
        ...(checkpointEvery === undefined ? {} : { checkpointEvery }),
        ...(initialCheckpoint === undefined ? {} : { initialCheckpoint }),
        ...(logger === undefined ? {} : { logger }),
      });
    } catch (error) {
      logger?.error(
        { err: error, daemon: definition.name, kind: definition.kind },
        'daemons: cannot run this member here',
      );
      return undefined;
    }
  }
}
