/**
 * Deploying a fork group (docs/DAEMONS.md "Fork groups"): the deploying node checks the parent
 * (deployed, of the same kind, one history: not a replica group), rebuilds the parent's member
 * state at the fork point (from a parent member's checkpoint at or below it when there is one,
 * else from the chain's start, then the parent's inbound records up to the fork point through the
 * same steps its members take, `applyInboundRecord`), and answers the fork record that starts the
 * fork's own inbound chain: the parent's member snapshot there, so the fork begins with the
 * parent's state and dedup table and goes on alone.
 */
import type { ChainsBackend } from '../api/index.js';
import { memberChains } from '../daemons/chain-names.js';
import { DaemonForkStateTooLargeError, DaemonUnavailableError } from '../daemons/cluster-errors.js';
import type { DaemonDeploySpec } from '../daemons/deploy-request.js';
import { ExactlyOnceApplier } from '../daemons/exactly-once-applier.js';
import { type ForkRecord, MAX_FORK_SNAPSHOT_BYTES } from '../daemons/fork-record.js';
import { applyInboundRecord } from '../daemons/inbound-step.js';
import type { MemberCheckpoint } from '../daemons/member-checkpoint.js';
import { type EventApplier, MemberCore } from '../daemons/member-core.js';
import type { DaemonDefinition, DaemonKindCatalog } from '../daemons/types.js';
import { type Clock, type NodeId, ValidationError } from '../lib/index.js';
import type { TrimPin } from './daemon-trim-floor.js';

/** Records read per step while replaying a parent's chain to the fork point. */
export const FORK_REPLAY_READ_RECORDS = 512;
/** Bytes read per step while replaying a parent's chain to the fork point. */
export const FORK_REPLAY_READ_BYTES = 4 * 1024 * 1024;
/** How long the replay waits for the copy it reads to reach the fork point (DAEMON_UNAVAILABLE past it). */
export const FORK_REPLAY_CATCH_UP_MS = 5_000;
/** Pause between two reads of a copy still behind the fork point. */
export const FORK_REPLAY_RETRY_MS = 50;

export interface ForkQuestion {
  readonly spec: DaemonDeploySpec & { readonly forkOf: NonNullable<DaemonDeploySpec['forkOf']> };
  readonly parent: DaemonDefinition;
  readonly chains: ChainsBackend;
  readonly catalog: DaemonKindCatalog;
  readonly self: NodeId;
  readonly clock: Clock;
  /**
   * A checkpoint of a parent member (its last one), or undefined when none can be had: the
   * replay starts from it when it is of this deployment and at or below the fork point.
   */
  readonly parentCheckpoint?: () => Promise<MemberCheckpoint | undefined>;
  /**
   * Holds the parent's trim floor at or below `offset` until released (`pinTrimFloor`), so the
   * records the replay reads stay. Absent: no floor is held.
   */
  readonly pinParentFloor?: (offset: number) => Promise<TrimPin>;
}

/** Where a replay to the fork point starts: a restored checkpoint's core and offset, or the start. */
interface ReplayStart {
  readonly core: MemberCore;
  readonly offset: number;
}

/** The record that starts the fork's chain (its epoch 1); VALIDATION_FAILED for a parent that does not fit. */
export async function forkRecordFor(question: ForkQuestion): Promise<ForkRecord> {
  const { spec, parent, chains } = question;
  const problems: string[] = [];
  if (parent.group === 'replica')
    problems.push(`${parent.name} is a replica group: its members have no one history to fork`);
  if (parent.kind !== spec.kind)
    problems.push(`a fork runs its parent's kind ${parent.kind}, not ${spec.kind}`);
  if (spec.config !== undefined) problems.push("a fork runs with its parent's config: give none");
  if (problems.length > 0) throw new ValidationError(`fork of daemon ${parent.name}`, problems);
  const chain = memberChains(parent, parent.active ?? 0).inbound;
  const commitOffset = (await chains.status(chain)).commitOffset;
  const through = spec.forkOf.inboundOffset ?? commitOffset;
  if (through > commitOffset)
    throw new ValidationError(`fork of daemon ${parent.name}`, [
      `forkOf.inboundOffset ${through} is past its inbound chain's commit offset ${commitOffset}`,
    ]);
  const snapshot = await replayTo(question, chain, through);
  if (snapshot.length > MAX_FORK_SNAPSHOT_BYTES)
    throw new DaemonForkStateTooLargeError(spec.name, parent.name, snapshot.length, MAX_FORK_SNAPSHOT_BYTES);
  return { parent: parent.name, inboundOffset: through, epoch: 1, snapshot };
}

/** The parent's member snapshot after its records below `through`, rebuilt from its chain. */
async function replayTo(question: ForkQuestion, chain: string, through: number): Promise<Uint8Array> {
  const { parent, catalog, self, clock } = question;
  const options = () => ({
    kind: catalog.get(parent.kind),
    config: parent.config,
    context: { daemonName: parent.name, memberIndex: parent.active ?? 0, node: self },
    clock,
  });
  const restore = (snapshot: Uint8Array) => ExactlyOnceApplier.restore(options(), snapshot);
  const start = (await checkpointStart(question, through, restore)) ?? {
    core: new MemberCore(ExactlyOnceApplier.create(options())),
    offset: 0,
  };
  const pin = await question.pinParentFloor?.(start.offset);
  try {
    return await replayFrom(question, chain, start, through, restore);
  } finally {
    await pin?.release();
  }
}

/** Applies the parent's records from `start` up to `through`; answers the member snapshot there. */
async function replayFrom(
  question: ForkQuestion,
  chain: string,
  start: ReplayStart,
  through: number,
  restore: (snapshot: Uint8Array) => EventApplier,
): Promise<Uint8Array> {
  const { parent, chains, clock } = question;
  let core = start.core;
  let next = start.offset;
  const catchUpDeadlineMs = clock.nowMs() + FORK_REPLAY_CATCH_UP_MS;
  while (next < through) {
    const page = await chains.read(chain, next, FORK_REPLAY_READ_RECORDS, FORK_REPLAY_READ_BYTES);
    for (const record of page.records) {
      if (record.offset >= through) break;
      const step = await applyInboundRecord(core, record.offset, record.payload, { restore });
      if (step.outcome.type === 'failed' && step.outcome.code === 'DAEMON_MEMBER_BROKEN')
        throw new DaemonUnavailableError(
          parent.name,
          `replaying it to the fork point broke at inbound offset ${record.offset}: ${step.outcome.reason}`,
        );
      core = step.core;
    }
    if (page.nextOffset > next) {
      next = page.nextOffset;
      continue;
    }
    // A read stops at the commit offset of the copy it reads (epoch markers below it are
    // skipped), so one that did not move on read a copy behind the commit offset the fork
    // point was checked against: the records up to the fork point are still to come.
    if (clock.nowMs() >= catchUpDeadlineMs)
      throw new DaemonUnavailableError(
        parent.name,
        `the copy of its inbound chain read here reached offset ${page.commitOffset}, not the fork point ${through}, within ${FORK_REPLAY_CATCH_UP_MS} ms`,
      );
    await new Promise<void>((resolve) => clock.setTimer(FORK_REPLAY_RETRY_MS, resolve));
  }
  return (await core.checkpoint()).snapshot;
}

/**
 * The parent member's checkpoint as the replay's start, when it is of the parent's deployment and
 * at or below the fork point (else undefined: the replay starts at the chain's start). A
 * checkpoint that cannot be had or restored changes nothing but where the replay starts.
 */
async function checkpointStart(
  question: ForkQuestion,
  through: number,
  restore: (snapshot: Uint8Array) => EventApplier,
): Promise<ReplayStart | undefined> {
  const checkpoint = await question.parentCheckpoint?.().catch(() => undefined);
  if (
    checkpoint === undefined ||
    checkpoint.createdAtMs !== question.parent.createdAtMs ||
    checkpoint.appliedThrough > through ||
    checkpoint.appliedThrough === 0
  )
    return undefined;
  try {
    return {
      core: new MemberCore(restore(checkpoint.snapshot), checkpoint),
      offset: checkpoint.appliedThrough,
    };
  } catch {
    // A kind that refuses its own snapshot (as a restarted member's would be) is replayed instead.
    return undefined;
  }
}
