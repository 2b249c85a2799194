/**
 * One record of a member's inbound chain applied to the member: an event goes through its
 * `MemberCore` (the epoch rule, then exactly once); the fork record that starts a fork group's
 * chain gives the member a new core, restored to the parent's state at the fork point. The
 * member's follow loop and the replay of a parent's chain at a fork's deploy both step through a
 * chain this way, so they reach the same state.
 */

import { isMeshError } from '../lib/index.js';
import { decodeForkRecord, forkMemberSnapshot, isForkRecord } from './fork-record.js';
import { type ApplyOutcome, type EventApplier, MemberCore } from './member-core.js';
import { decodeInboundEventRecord } from './record-codec.js';
import type { InboundEventRecord } from './types.js';

export interface InboundStep {
  /** The member's core from now on: the same one, or a fork's restored one. */
  readonly core: MemberCore;
  readonly outcome: ApplyOutcome;
}

export interface InboundStepOptions {
  /** An applier restored from a member snapshot (`ExactlyOnceApplier.restore`). */
  readonly restore: (memberSnapshot: Uint8Array) => EventApplier;
  /** Told of a record that is neither an event nor a fork record (it is refused). */
  readonly onUndecodable?: (error: unknown) => void;
}

export async function applyInboundRecord(
  core: MemberCore,
  offset: number,
  payload: Uint8Array,
  options: InboundStepOptions,
): Promise<InboundStep> {
  if (isForkRecord(payload)) {
    const forked = startFork(core, offset, payload, options);
    // A fork record anywhere but at the chain's start is refused like any undecodable record.
    if (forked !== undefined) return { core: forked, outcome: FORK_APPLIED };
    return { core, outcome: await core.apply(offset, undefined) };
  }
  let event: InboundEventRecord | undefined;
  try {
    event = decodeInboundEventRecord(payload);
  } catch (error) {
    options.onUndecodable?.(error);
  }
  return { core, outcome: await core.apply(offset, event) };
}

const FORK_APPLIED: ApplyOutcome = { type: 'applied', outputs: [], duplicate: false };

/**
 * The fork's core, when the record starts the chain (nothing applied before it) and restores;
 * otherwise undefined: the record changes nothing, on every member alike.
 */
function startFork(
  core: MemberCore,
  offset: number,
  payload: Uint8Array,
  options: InboundStepOptions,
): MemberCore | undefined {
  if (core.appliedThrough !== 0) return undefined;
  try {
    const fork = decodeForkRecord(payload);
    return new MemberCore(options.restore(forkMemberSnapshot(fork, offset + 1)), {
      appliedThrough: offset + 1,
      epochSeen: fork.epoch,
    });
  } catch (error) {
    if (!isMeshError(error)) throw error;
    options.onUndecodable?.(error);
    return undefined;
  }
}
