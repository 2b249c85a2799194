/**
 * One member's deterministic core: it applies the inbound chain's committed records in offset
 * order and answers, for each, what became of it. Every member of a daemon runs the same core
 * over the same chain, so every member reaches the same state; only the active writes outputs
 * and answers clients. Pure: no clock, no IO.
 *
 * The epoch rule (docs/DAEMONS.md "Failover"): a record whose daemon epoch is below the highest
 * epoch of any record before it on the chain is refused (applied by no member). A promoted
 * active stamps its events with the new epoch, so once one of them is on the chain, anything a
 * fenced old active still appends is refused everywhere, and the old active learns it was not
 * applied. The rule reads the chain alone, so every member decides each record the same way.
 */
import { isMeshError } from '../lib/index.js';
import { isKindCrash } from './guarded-process.js';
import type { InboundEventRecord } from './types.js';

/** Outcomes of recently applied records kept for the senders waiting on them and the output writer. */
export const MEMBER_RECENT_OUTCOMES = 8_192;

export type ApplyOutcome =
  | { readonly type: 'applied'; readonly outputs: readonly Uint8Array[]; readonly duplicate: boolean }
  | { readonly type: 'refused'; readonly reason: string }
  | {
      readonly type: 'failed';
      readonly code: string;
      readonly reason: string;
      /** The kind crashed on it (`isKindCrash`), rather than refusing it. */
      readonly crashed?: true;
    };

/**
 * Applies one event to the daemon's state, exactly once per (clientId, sequence) (the
 * `ExactlyOnceApplier`); rejects with the event's typed error when it changed nothing.
 */
export interface EventApplier {
  apply(
    record: InboundEventRecord,
    inboundOffset: number,
  ): Promise<{ readonly outputs: readonly Uint8Array[]; readonly duplicate: boolean }>;
  /** The daemon's state as its kind snapshots it. */
  state(): Uint8Array;
  /** The member snapshot (applied offset, dedup table, state); only between events. */
  snapshot(): Uint8Array;
  /** The daemon's load in [0, 1] (its kind's `saturation()`). */
  saturation(): number;
}

/** Where a core starts: at the chain's start, or where a restored checkpoint left off. */
export interface MemberCoreStart {
  readonly appliedThrough: number;
  readonly epochSeen: number;
}

/** What a checkpoint of the core holds besides the daemon's deployment. */
export interface CoreCheckpoint {
  readonly epochSeen: number;
  readonly appliedThrough: number;
  readonly snapshot: Uint8Array;
}

export class MemberCore {
  private through: number;
  private highestEpoch: number;
  /** Records this core applied (refused ones included) since it was made or restored. */
  appliedRecords = 0;
  private applying: Promise<ApplyOutcome> | undefined;
  /** Offset -> outcome, oldest first, at most MEMBER_RECENT_OUTCOMES. */
  private readonly recent = new Map<number, ApplyOutcome>();

  constructor(
    private readonly applier: EventApplier,
    start: MemberCoreStart = { appliedThrough: 0, epochSeen: 0 },
  ) {
    this.through = start.appliedThrough;
    this.highestEpoch = start.epochSeen;
  }

  /** Inbound offset up to which (exclusive) records are applied. */
  get appliedThrough(): number {
    return this.through;
  }

  /** The daemon's load in [0, 1], as its kind reports it. */
  saturation(): number {
    return this.applier.saturation();
  }

  get epochSeen(): number {
    return this.highestEpoch;
  }

  /**
   * The daemon's state between two events (an event being applied is waited for), with the
   * offset it reflects.
   */
  async state(): Promise<{ readonly state: Uint8Array; readonly appliedThrough: number }> {
    while (this.applying !== undefined) await this.applying.catch(() => undefined);
    return { state: this.applier.state(), appliedThrough: this.through };
  }

  /** A checkpoint between two events (an event being applied is waited for). */
  async checkpoint(): Promise<CoreCheckpoint> {
    while (this.applying !== undefined) await this.applying.catch(() => undefined);
    return { epochSeen: this.highestEpoch, appliedThrough: this.through, snapshot: this.applier.snapshot() };
  }

  /**
   * Applies the record at `offset` (records come in offset order; gaps are chain markers).
   * `record` undefined: the bytes were not an inbound record, refused like a stale one.
   */
  async apply(offset: number, record: InboundEventRecord | undefined): Promise<ApplyOutcome> {
    if (offset < this.through)
      throw new Error(`record ${offset} is below the applied offset ${this.through}`);
    const applying = this.decide(offset, record);
    this.applying = applying;
    let outcome: ApplyOutcome;
    try {
      outcome = await applying;
    } finally {
      this.applying = undefined;
    }
    this.through = offset + 1;
    this.appliedRecords += 1;
    this.recent.set(offset, outcome);
    if (this.recent.size > MEMBER_RECENT_OUTCOMES) {
      const oldest = this.recent.keys().next().value as number;
      this.recent.delete(oldest);
    }
    return outcome;
  }

  /** What became of the record at `offset`, if it is applied and still remembered. */
  outcome(offset: number): ApplyOutcome | undefined {
    return this.recent.get(offset);
  }

  /**
   * Applied records after `afterOffset` still remembered, in offset order. Walks the offsets
   * from there (not the whole memory): the output writer asks after every applied event.
   */
  *outcomesAfter(afterOffset: number): Generator<[number, ApplyOutcome]> {
    const oldest = this.oldestRemembered;
    if (oldest === undefined) return;
    for (let offset = Math.max(afterOffset + 1, oldest); offset < this.through; offset++) {
      const outcome = this.recent.get(offset);
      if (outcome !== undefined) yield [offset, outcome];
    }
  }

  /** The oldest offset still remembered (undefined before any). */
  get oldestRemembered(): number | undefined {
    return this.recent.keys().next().value;
  }

  private async decide(offset: number, record: InboundEventRecord | undefined): Promise<ApplyOutcome> {
    if (record === undefined) return { type: 'refused', reason: 'not an inbound event record' };
    if (record.epoch < this.highestEpoch)
      return {
        type: 'refused',
        reason: `appended under daemon epoch ${record.epoch} after epoch ${this.highestEpoch} began (fenced)`,
      };
    this.highestEpoch = record.epoch;
    try {
      const applied = await this.applier.apply(record, offset);
      return { type: 'applied', outputs: applied.outputs, duplicate: applied.duplicate };
    } catch (error) {
      // Only a typed error is an event's answer; anything else is a bug, not a member's outcome.
      if (!isMeshError(error)) throw error;
      return {
        type: 'failed',
        code: error.code,
        reason: error.message,
        ...(isKindCrash(error) ? { crashed: true as const } : {}),
      };
    }
  }
}
