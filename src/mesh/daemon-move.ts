/**
 * `daemon move NAME --to NODE` (docs/DAEMONS.md "Move"), run by the active's node in six phases:
 *
 * 1. **snapshot**: the active takes a checkpoint (after its outputs so far are written);
 * 2. **transfer**: the target fetches it over the daemons channel (a target that already runs a
 *    member of the daemon, a standby, needs none: this and the next phase take no time);
 * 3. **restore**: the target starts a prepared member from it, which applies the inbound chain
 *    from the checkpoint on as a standby would (no outputs, no sends);
 * 4. **replay**: the active waits until the target applied what it had applied, again, until
 *    the target is within `MOVE_CUTOVER_LAG_RECORDS` of it;
 * 5. **cutover**: the active takes no new sends (they wait for the next definition and go to
 *    the new active), lets those in flight finish, waits until the target applied everything
 *    and its outputs are written, then compare-and-swaps the definition: the member's node (or,
 *    when the target runs a standby, the active member) changes and the epoch rises, so the old
 *    active is fenced (any append it still made under the old epoch after the new active's first
 *    event is refused by every member); the same transaction hands the daemon's chains to the
 *    target's node where it replicates them (`chainTakeover`); the cutover ends when the target
 *    serves as the active;
 * 6. **complete**: this node follows the new definition (its old member stops or goes on as a
 *    standby).
 *
 * The pause is the time from holding sends to the target serving. Nothing is lost or applied
 * twice: every event is on the inbound chain once, the target's state is the checkpoint (whose
 * dedup table answers retries) plus the chain's tail, in chain order. A failure before the
 * compare-and-swap leaves the active where it was (`DAEMON_MOVE_FAILED` names the phase).
 */
import type { DaemonMoveResult } from '../api/index.js';
import type { StoredChain } from '../chains/index.js';
import { memberChains } from '../daemons/chain-names.js';
import { DaemonNotActiveHereError, DeployedDaemonNotFoundError } from '../daemons/cluster-errors.js';
import {
  type DaemonSwapAnswer,
  type StoredDaemon,
  withActive,
  withReplacedMember,
} from '../daemons/directory.js';
import { DaemonMoveFailedError, DaemonMoveInProgressError } from '../daemons/move-errors.js';
import { checkMoveTarget } from '../daemons/move-target.js';
import type { DaemonDefinition } from '../daemons/types.js';
import { type Clock, MeshError, type NodeId } from '../lib/index.js';
import { chainTakeover, NO_CHAIN_TAKEOVER } from './daemon-chain-takeover.js';
import { fetchMemberCheckpoint } from './daemon-checkpoint-transfer.js';
import type { PeerMessage } from './daemon-peer-requests.js';
import type { DaemonRequestsOptions } from './daemon-requests.js';

/** Cutover transactions tried when a chain of the daemon changed meanwhile (the last without the chains). */
export const MAX_CUTOVER_ATTEMPTS = 3;
/** The target is close enough to hold sends once it is this few records behind the active. */
export const MOVE_CUTOVER_LAG_RECORDS = 64;
/** Catch-up rounds of the replay phase before the cutover goes ahead anyway. */
export const MOVE_REPLAY_MAX_ROUNDS = 8;
/** How long the cutover waits for the sends already appending to finish. */
export const MOVE_DRAIN_TIMEOUT_MS = 2_000;
/** Time kept back from a request's deadline so its answer arrives in time. */
export const MOVE_ANSWER_MARGIN_MS = 100;
/** The six phases, in order. */
export const MOVE_PHASES = ['snapshot', 'transfer', 'restore', 'replay', 'cutover', 'complete'] as const;

/** The move requests between nodes' daemons services. */
export const MOVE_REQUESTS: ReadonlySet<string> = new Set([
  'move',
  'move-prepare',
  'move-await',
  'move-await-active',
  'move-abandon',
]);

/** What a mover needs of its node: the `DaemonRequests` options it shares. */
export type DaemonMoverOptions = Pick<
  DaemonRequestsOptions,
  | 'self'
  | 'directory'
  | 'members'
  | 'peers'
  | 'definitions'
  | 'nextChange'
  | 'nodes'
  | 'chainsOf'
  | 'clock'
  | 'logger'
>;

type Phase = (typeof MOVE_PHASES)[number];

/** A duration as reported: to a tenth of a millisecond. */
function tenthsOfMs(durationMs: number): number {
  return Math.round(durationMs * 10) / 10;
}

/** Each phase's duration, measured from the end of the one before. */
class PhaseTimes {
  readonly phases: { phase: Phase; durationMs: number }[] = [];
  private lastMs: number;
  current: Phase = 'snapshot';

  constructor(private readonly clock: Clock) {
    this.lastMs = clock.nowMs();
  }

  /** Ends the current phase; `inside` of it, reported by the target, is the next phase's. */
  end(phase: Phase, inside?: { readonly phase: Phase; readonly durationMs: number }): void {
    const nowMs = this.clock.nowMs();
    const totalMs = nowMs - this.lastMs;
    const insideMs = Math.min(totalMs, inside?.durationMs ?? 0);
    this.phases.push({ phase, durationMs: tenthsOfMs(totalMs - insideMs) });
    if (inside !== undefined) this.phases.push({ phase: inside.phase, durationMs: tenthsOfMs(insideMs) });
    this.lastMs = nowMs;
    const next = MOVE_PHASES[MOVE_PHASES.indexOf(inside?.phase ?? phase) + 1];
    if (next !== undefined) this.current = next;
  }
}

export class DaemonMover {
  private readonly moving = new Set<string>();

  constructor(private readonly options: DaemonMoverOptions) {}

  /** Moves daemon `name`'s active to `to`; this node must run the active. */
  async move(name: string, to: NodeId, timeoutMs: number): Promise<DaemonMoveResult> {
    const { clock, self, members } = this.options;
    const deadlineMs = clock.nowMs() + timeoutMs;
    const stored = this.stored(name);
    const { definition } = stored;
    checkMoveTarget(definition, to, this.options.nodes());
    const member = members.get(name);
    if (member === undefined || !member.active)
      throw new DaemonNotActiveHereError(name, self, definition.epoch);
    if (this.moving.has(name)) throw new DaemonMoveInProgressError(name);
    this.moving.add(name);
    const times = new PhaseTimes(clock);
    const movingIndex = definition.active as number;
    const targetIndex = definition.members.find((placed) => placed.node === to)?.index;
    let swapped = false;
    try {
      let minAppliedThrough = 0;
      if (targetIndex === undefined) {
        const served = await member.checkpointToServe(member.syncedThrough);
        if (served === undefined)
          throw new DaemonMoveFailedError(
            name,
            'snapshot',
            'no checkpoint (its outputs were not written in time, or it is above the size limit)',
          );
        minAppliedThrough = served.appliedThrough;
      }
      times.end('snapshot');

      const prepared = await this.ask(to, deadlineMs, {
        type: 'move-prepare',
        name,
        index: targetIndex ?? movingIndex,
        from: self,
        existing: targetIndex !== undefined,
        minAppliedThrough,
      });
      times.end('transfer', { phase: 'restore', durationMs: Number(prepared.header.restoreMs ?? 0) });

      for (let round = 0; round < MOVE_REPLAY_MAX_ROUNDS; round++) {
        const through = member.syncedThrough;
        await this.ask(to, deadlineMs, { type: 'move-await', name, through });
        if (member.syncedThrough - through <= MOVE_CUTOVER_LAG_RECORDS) break;
      }
      times.end('replay');

      const pauseStartMs = clock.nowMs();
      member.gate.close();
      let next: StoredDaemon;
      try {
        await member.gate.drained(Math.min(MOVE_DRAIN_TIMEOUT_MS, this.leftMs(deadlineMs)));
        const through = member.syncedThrough;
        if (through > 0) await member.outputsWritten(through - 1, this.leftMs(deadlineMs));
        await this.ask(to, deadlineMs, { type: 'move-await', name, through });
        const nextDefinition =
          targetIndex === undefined
            ? { ...withReplacedMember(definition, movingIndex, to), epoch: definition.epoch + 1 }
            : withActive(definition, targetIndex);
        const answer = await this.swapWithChains(stored, nextDefinition, to);
        if (!answer.applied)
          throw new DaemonMoveFailedError(
            name,
            'cutover',
            'its definition changed during the move (a failover?)',
          );
        next = answer.daemon;
        swapped = true;
      } finally {
        if (!swapped) member.gate.reopen();
      }
      // The move happened: from here on what fails is logged, not undone.
      await this.ask(to, deadlineMs, { type: 'move-await-active', name, epoch: next.definition.epoch }).catch(
        (error: unknown) =>
          this.options.logger?.warn(
            { err: error, daemon: name },
            'daemons: the moved active did not confirm',
          ),
      );
      const pauseMs = tenthsOfMs(clock.nowMs() - pauseStartMs);
      times.end('cutover');

      await this.followed(name, next.modRevision, deadlineMs);
      member.gate.reopen();
      times.end('complete');
      return { name, epoch: next.definition.epoch, from: self, to, pauseMs, phases: times.phases };
    } catch (error) {
      if (!swapped) {
        void this.ask(to, clock.nowMs() + MOVE_DRAIN_TIMEOUT_MS, { type: 'move-abandon', name }).catch(
          () => undefined,
        );
      }
      if (error instanceof MeshError && error.code.startsWith('DAEMON_MOVE_')) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new DaemonMoveFailedError(name, times.current, reason, error);
    } finally {
      this.moving.delete(name);
    }
  }

  /**
   * The cutover's compare-and-swap of the definition, with the moving member's chains handed to
   * `to` in the same transaction (`chainTakeover`: their next epoch led there), so the new
   * active appends on its own node from its first event. Nothing is in flight on them (sends
   * are held and drained). A chain changed meanwhile (its own failover) is read again; after
   * `MAX_CUTOVER_ATTEMPTS` the definition is swapped alone.
   */
  private async swapWithChains(
    stored: StoredDaemon,
    next: DaemonDefinition,
    to: NodeId,
  ): Promise<DaemonSwapAnswer> {
    const { directory } = this.options;
    for (let attempt = 1; ; attempt++) {
      const takeover =
        attempt < MAX_CUTOVER_ATTEMPTS
          ? chainTakeover(await this.movingChains(stored.definition), to)
          : undefined;
      const answer = await directory.swap(stored, next, [], takeover ?? NO_CHAIN_TAKEOVER);
      if (answer.applied || !answer.fenced || takeover === undefined || takeover.chains.length === 0)
        return answer;
    }
  }

  /** The chains of the moving member (a standby group's: the daemon's), as the control plane holds them. */
  private async movingChains(definition: DaemonDefinition): Promise<readonly StoredChain[]> {
    const own = memberChains(definition, definition.active ?? 0);
    const chains = (await this.options.chainsOf?.(definition).catch(() => undefined)) ?? [];
    return chains.filter(({ definition: chain }) => chain.name === own.inbound || chain.name === own.outputs);
  }

  /** Serves the move requests of another node (`MOVE_REQUESTS`): this node is the target or the active. */
  async serve(header: Readonly<Record<string, unknown>>): Promise<PeerMessage> {
    const name = String(header.name);
    const timeoutMs = Number(header.timeoutMs);
    switch (header.type) {
      case 'move': {
        const result = await this.move(name, Number(header.to), timeoutMs);
        return { header: { ...result }, blobs: [] };
      }
      case 'move-prepare':
        return this.prepare(name, header);
      case 'move-await':
        await this.awaitApplied(name, Number(header.through), timeoutMs);
        return { header: {}, blobs: [] };
      case 'move-await-active':
        await this.awaitActive(name, Number(header.epoch), timeoutMs);
        return { header: {}, blobs: [] };
      default:
        this.options.members.abandon(name);
        return { header: {}, blobs: [] };
    }
  }

  /** On the target: a member ready to apply the chain (a fetched checkpoint, or the standby here). */
  private async prepare(name: string, header: Readonly<Record<string, unknown>>): Promise<PeerMessage> {
    const { clock, members, peers } = this.options;
    const { definition } = this.stored(name);
    if (header.existing === true) {
      if (members.catchUp(name) === undefined)
        throw new DaemonMoveFailedError(
          name,
          'transfer',
          `no member of it runs on node ${this.options.self}`,
        );
      return { header: { restoreMs: 0 }, blobs: [] };
    }
    const checkpoint = await fetchMemberCheckpoint(
      peers,
      Number(header.from),
      name,
      Number(header.minAppliedThrough),
    );
    if (checkpoint.createdAtMs !== definition.createdAtMs)
      throw new DaemonMoveFailedError(
        name,
        'transfer',
        'the checkpoint is of another deployment of the daemon',
      );
    const restoreStartMs = clock.nowMs();
    const member = members.prepare(definition, Number(header.index), checkpoint);
    await member.ready;
    return { header: { restoreMs: clock.nowMs() - restoreStartMs }, blobs: [] };
  }

  /** On the target: resolves once its member applied every record below `through`. */
  private async awaitApplied(name: string, through: number, timeoutMs: number): Promise<void> {
    const member = this.options.members.runningOrPrepared(name);
    if (member === undefined)
      throw new DaemonMoveFailedError(name, 'replay', `no member of it runs on node ${this.options.self}`);
    if (through > 0) await member.waitFor(through - 1, timeoutMs);
    if (member.syncedThrough < through)
      throw new DaemonMoveFailedError(
        name,
        'replay',
        `the target applied through ${member.syncedThrough}, not ${through}, in ${timeoutMs} ms`,
      );
  }

  /** On the target: resolves once its member is the active of `epoch` (or later). */
  private async awaitActive(name: string, epoch: number, timeoutMs: number): Promise<void> {
    const { clock, members } = this.options;
    const deadlineMs = clock.nowMs() + timeoutMs;
    for (;;) {
      const member = members.get(name);
      if (member?.active && member.epoch >= epoch) return;
      const leftMs = this.leftMs(deadlineMs);
      if (leftMs <= 0)
        throw new DaemonMoveFailedError(
          name,
          'cutover',
          `the target did not become active at epoch ${epoch}`,
        );
      await this.options.nextChange(leftMs);
    }
  }

  /** Waits until this node follows the definition of `modRevision` (or a later one). */
  private async followed(name: string, modRevision: number, deadlineMs: number): Promise<void> {
    while ((this.options.definitions().get(name)?.modRevision ?? 0) < modRevision) {
      const leftMs = this.leftMs(deadlineMs);
      if (leftMs <= 0) return;
      await this.options.nextChange(leftMs);
    }
  }

  private stored(name: string): StoredDaemon {
    const stored = this.options.definitions().get(name);
    if (stored === undefined) throw new DeployedDaemonNotFoundError(name);
    return stored;
  }

  private leftMs(deadlineMs: number): number {
    return Math.max(0, Math.floor(deadlineMs - this.options.clock.nowMs()));
  }

  /**
   * A move request to `node` with what is left of the deadline; held while the connection to the
   * target is lost (the move has no other target), as the transport's queue held it before.
   */
  private ask(node: NodeId, deadlineMs: number, header: Record<string, unknown>): Promise<PeerMessage> {
    const leftMs = this.leftMs(deadlineMs);
    return this.options.peers.requestWhenConnected(
      node,
      { header: { ...header, timeoutMs: Math.max(1, leftMs - MOVE_ANSWER_MARGIN_MS) }, blobs: [] },
      Math.max(1, leftMs),
    );
  }
}
