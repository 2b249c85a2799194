/**
 * One member of a deployed daemon running on this node: it follows the daemon's inbound chain
 * (committed records, in offset order, from this node's replica when it holds one) and applies
 * each through its `MemberCore`, so a hot standby is always as far as the chain's commit. While
 * the definition names it active it also runs the output writer. Senders on this node wait here
 * for the outcome of the offset their event got.
 */
import type { ChainsBackend } from '../api/index.js';
import { inboundChainName } from '../daemons/chain-names.js';
import { type ApplyOutcome, type EventApplier, MemberCore } from '../daemons/member-core.js';
import { decodeInboundEventRecord } from '../daemons/record-codec.js';
import type { DaemonDefinition } from '../daemons/types.js';
import { type Clock, type Logger, MeshError } from '../lib/index.js';
import { ActiveFence, type NodeLease } from './daemon-active-fence.js';
import { OffsetWaiters } from './daemon-offset-waiters.js';
import { OutputWriter } from './daemon-output-writer.js';

/** Wait before following the inbound chain again after a failed read. */
export const MEMBER_RETRY_DELAY_MS = 200;
/** Senders waiting on one member at once; more are refused (their events were appended: unknown). */
export const MAX_MEMBER_WAITERS = 10_000;

export interface DaemonMemberOptions {
  readonly definition: DaemonDefinition;
  readonly index: number;
  /** A fresh applier (empty state): the member's first, and again after it broke. */
  readonly newApplier: () => EventApplier;
  readonly chains: ChainsBackend;
  /**
   * The node's lease (undefined: not registered). Absent: no lease check (a test's nodes without
   * registrations); the active is then fenced by epochs alone.
   */
  readonly nodeLease?: () => NodeLease | undefined;
  readonly clock: Clock;
  readonly logger?: Logger;
}

export class DaemonMember {
  private core: MemberCore;
  private readonly abort = new AbortController();
  private readonly waiters: OffsetWaiters<ApplyOutcome | undefined>;
  private definition: DaemonDefinition;
  private writer: OutputWriter | undefined;
  private loop: Promise<void> | undefined;
  private readonly fence: ActiveFence;
  /** Whether the member's chain was deleted (the daemon is being removed). */
  ended = false;

  constructor(private readonly options: DaemonMemberOptions) {
    this.definition = options.definition;
    this.core = new MemberCore(options.newApplier());
    this.waiters = new OffsetWaiters<ApplyOutcome | undefined>(options.clock, MAX_MEMBER_WAITERS, undefined);
    this.fence = new ActiveFence(options.clock, options.nodeLease);
  }

  get name(): string {
    return this.definition.name;
  }

  get index(): number {
    return this.options.index;
  }

  get syncedThrough(): number {
    return this.core.appliedThrough;
  }

  /** Whether the definition this member follows names it active (its epoch is the one it stamps). */
  get active(): boolean {
    return this.definition.active === this.options.index;
  }

  /**
   * Whether it may take events as the active now (docs/DAEMONS.md "Fencing"): named active, no
   * record of a newer epoch seen on the inbound chain, and its node's lease holds (`ActiveFence`).
   */
  servesAsActive(): boolean {
    return this.active && this.core.epochSeen <= this.definition.epoch && this.fence.leaseHolds();
  }

  /** A definition read after the node registered again: the same epoch naming it active re-arms it. */
  confirm(definition: DaemonDefinition): void {
    this.fence.confirm(this.definition, definition, this.options.index);
  }

  get epoch(): number {
    return this.definition.epoch;
  }

  state(): Promise<{ readonly state: Uint8Array; readonly appliedThrough: number }> {
    return this.core.state();
  }

  start(): void {
    this.loop ??= this.follow();
    this.updateDefinition(this.definition);
  }

  /** A newer definition: the member becomes (or stops being) the active. */
  updateDefinition(definition: DaemonDefinition): void {
    this.definition = definition;
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
    if (this.active && this.writer === undefined) {
      const { chains, clock, logger } = this.options;
      this.writer = new OutputWriter({
        daemon: definition.name,
        chains,
        core: this.core,
        mayWrite: () => this.servesAsActive(),
        clock,
        ...(logger === undefined ? {} : { logger }),
      });
      this.writer.start();
    } else if (!this.active && this.writer !== undefined) {
      this.writer.stop();
      this.writer = undefined;
    }
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
    this.abort.abort();
    this.writer?.stop();
    this.writer = undefined;
    this.waiters.close();
    await this.loop;
  }

  private async follow(): Promise<void> {
    const { chains, clock, logger } = this.options;
    const chain = inboundChainName(this.definition.name);
    const signal = this.abort.signal;
    while (!signal.aborted) {
      try {
        for await (const record of chains.subscribe(chain, this.core.appliedThrough, signal)) {
          let event: ReturnType<typeof decodeInboundEventRecord> | undefined;
          try {
            event = decodeInboundEventRecord(record.payload);
          } catch (error) {
            logger?.warn(
              { err: error, daemon: this.name, offset: record.offset },
              'daemons: refused an undecodable inbound record',
            );
          }
          const outcome = await this.core.apply(record.offset, event);
          if (outcome.type === 'failed' && outcome.code === 'DAEMON_MEMBER_BROKEN') {
            this.rebuild(outcome.reason);
            break;
          }
          this.settle(record.offset, outcome);
          this.writer?.notify();
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
      }
      await new Promise<void>((resolve) => clock.setTimer(MEMBER_RETRY_DELAY_MS, resolve));
    }
  }

  /** The applier cannot go on: a fresh one replays the inbound chain from its start. */
  private rebuild(reason: string): void {
    this.options.logger?.error(
      { daemon: this.name, reason },
      'daemons: the member broke; replaying its chain',
    );
    this.writer?.stop();
    this.writer = undefined;
    this.core = new MemberCore(this.options.newApplier());
    this.updateDefinition(this.definition);
  }

  private settle(offset: number, outcome: ApplyOutcome): void {
    this.waiters.settleBelow(offset + 1, (waited) =>
      waited === offset ? outcome : this.core.outcome(waited),
    );
  }
}
