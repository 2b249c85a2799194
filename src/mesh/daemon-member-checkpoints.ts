/**
 * A member's checkpoints: when to take one (every `MEMBER_CHECKPOINT_EVERY_EVENTS` applied
 * records or `MEMBER_CHECKPOINT_EVERY_BYTES` of their payloads), keeping it on the node's disk
 * (one save at a time; a checkpoint due while one is being saved waits for the next threshold),
 * and the last one taken, encoded, for the peers that fetch it (a replacement member, a warm
 * standby, a move's target): they get that one unless they ask for a newer one.
 */
import {
  encodeMemberCheckpoint,
  MAX_MEMBER_CHECKPOINT_BYTES,
  type MemberCheckpoint,
} from '../daemons/member-checkpoint.js';
import { assert, type Logger } from '../lib/index.js';
import type { MemberCheckpointStore } from './daemon-checkpoint-store.js';

/** A member takes a checkpoint after this many applied records... */
export const MEMBER_CHECKPOINT_EVERY_EVENTS = 1_000;
/** ...or after this many payload bytes of them, whichever comes first. */
export const MEMBER_CHECKPOINT_EVERY_BYTES = 8 * 1024 * 1024;
/**
 * Bounds of a node's `--daemon-checkpoint-events`: at least a few records between two checkpoints
 * (each one snapshots the whole state and writes a file), at most what a replay after a restart
 * should cost.
 */
export const MIN_MEMBER_CHECKPOINT_EVERY_EVENTS = 10;
export const MAX_MEMBER_CHECKPOINT_EVERY_EVENTS = 1_000_000;

export interface CheckpointThresholds {
  readonly events: number;
  readonly bytes: number;
}

export const DEFAULT_CHECKPOINT_THRESHOLDS: CheckpointThresholds = Object.freeze({
  events: MEMBER_CHECKPOINT_EVERY_EVENTS,
  bytes: MEMBER_CHECKPOINT_EVERY_BYTES,
});

assert(
  MIN_MEMBER_CHECKPOINT_EVERY_EVENTS <= MEMBER_CHECKPOINT_EVERY_EVENTS &&
    MEMBER_CHECKPOINT_EVERY_EVENTS <= MAX_MEMBER_CHECKPOINT_EVERY_EVENTS,
  'the default checkpoint interval outside its bounds',
);

/** What is wrong with a configured checkpoint interval in records (empty when nothing). */
export function checkpointEveryEventsProblems(events: number): string[] {
  if (
    Number.isSafeInteger(events) &&
    events >= MIN_MEMBER_CHECKPOINT_EVERY_EVENTS &&
    events <= MAX_MEMBER_CHECKPOINT_EVERY_EVENTS
  )
    return [];
  return [
    `the daemon checkpoint interval must be whole records from ${MIN_MEMBER_CHECKPOINT_EVERY_EVENTS} to ${MAX_MEMBER_CHECKPOINT_EVERY_EVENTS}, got ${events}`,
  ];
}

/** The thresholds of a node started with `--daemon-checkpoint-events` (the default when not). */
export function checkpointThresholdsOf(events: number | undefined): CheckpointThresholds {
  return events === undefined
    ? DEFAULT_CHECKPOINT_THRESHOLDS
    : { events, bytes: MEMBER_CHECKPOINT_EVERY_BYTES };
}

/** The last checkpoint a member took, as peers fetch it. */
export interface ServedCheckpoint {
  readonly appliedThrough: number;
  readonly bytes: Uint8Array;
}

export interface MemberCheckpointsOptions {
  readonly name: string;
  readonly store?: MemberCheckpointStore;
  readonly every: CheckpointThresholds;
  readonly logger?: Logger;
  /** Told each checkpoint's offset once it is on the node's disk (the chain's trim floor uses it). */
  readonly onSaved?: (appliedThrough: number) => void;
}

export class MemberCheckpoints {
  private events = 0;
  private bytes = 0;
  private saving: Promise<void> | undefined;
  private last: ServedCheckpoint | undefined;
  /** Checkpoints written to the node's disk. */
  saved = 0;

  constructor(private readonly options: MemberCheckpointsOptions) {}

  /** Counts one applied record of `payloadBytes`; true when a checkpoint is due. */
  counted(payloadBytes: number): boolean {
    this.events += 1;
    this.bytes += payloadBytes;
    const { every } = this.options;
    return this.saving === undefined && (this.events >= every.events || this.bytes >= every.bytes);
  }

  /** The last checkpoint taken, if any. */
  get served(): ServedCheckpoint | undefined {
    return this.last;
  }

  /** Keeps `checkpoint` as the one served to peers; its bytes, or undefined when too large. */
  hold(checkpoint: MemberCheckpoint): ServedCheckpoint | undefined {
    const bytes = encodeMemberCheckpoint(checkpoint);
    if (bytes.length > MAX_MEMBER_CHECKPOINT_BYTES) {
      this.options.logger?.warn(
        { daemon: this.options.name, bytes: bytes.length, limit: MAX_MEMBER_CHECKPOINT_BYTES },
        'daemons: a member checkpoint is above the limit; the member keeps replaying its chain',
      );
      return undefined;
    }
    this.last = { appliedThrough: checkpoint.appliedThrough, bytes };
    return this.last;
  }

  /**
   * Holds `checkpoint` and saves it to the node's disk once `ready` says so (the active waits
   * for the outputs of the events it reflects to be written: a member restored from it can only
   * write outputs of later events). The counts start again now.
   */
  save(checkpoint: MemberCheckpoint, ready: () => Promise<boolean>): void {
    this.events = 0;
    this.bytes = 0;
    if (this.hold(checkpoint) === undefined) return;
    const { store, logger, name } = this.options;
    if (store === undefined || this.saving !== undefined) return;
    this.saving = (async () => {
      try {
        if (!(await ready())) return;
        await store.save(name, checkpoint);
        this.saved += 1;
        this.options.onSaved?.(checkpoint.appliedThrough);
      } catch (error) {
        logger?.warn({ err: error, daemon: name }, 'daemons: saving a member checkpoint failed');
      } finally {
        this.saving = undefined;
      }
    })();
  }

  /** Resolves once no save is running (a stopped member's last save finishes before its file goes). */
  async settled(): Promise<void> {
    await this.saving;
  }
}
