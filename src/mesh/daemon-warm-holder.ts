/**
 * A warm standby's keeping up: it applies no event; every `WARM_STANDBY_CHECK_INTERVAL_MS` it
 * looks how far the inbound chain's commit is past the checkpoint it holds, and once that is at
 * least the checkpoint threshold's events it fetches a newer checkpoint from the active (the
 * active's last one, or one taken then) and keeps it (held, and saved to its node's disk). The
 * tail after it stays on the inbound chain, whose replicas hold it; a promoted warm standby
 * restores the held checkpoint and replays that tail.
 */
import type { ChainsBackend } from '../api/index.js';
import type { MemberCheckpoint } from '../daemons/member-checkpoint.js';
import type { DaemonDefinition } from '../daemons/types.js';
import { type Clock, type Logger, MeshError } from '../lib/index.js';
import type { CheckpointThresholds } from './daemon-member-checkpoints.js';

/** How often a warm standby compares the inbound chain's commit with its held checkpoint. */
export const WARM_STANDBY_CHECK_INTERVAL_MS = 1_000;

export interface WarmHolderOptions {
  readonly chain: string;
  readonly chains: ChainsBackend;
  readonly every: CheckpointThresholds;
  readonly clock: Clock;
  /** Another member's checkpoint at least at `minAppliedThrough` (the active's); undefined: none. */
  readonly fetch?: (minAppliedThrough: number) => Promise<MemberCheckpoint | undefined>;
  /** Keeps a newer checkpoint (the member serves and saves it). */
  readonly keep: (checkpoint: MemberCheckpoint) => void;
  readonly logger?: Logger;
}

export class WarmHolder {
  /** The checkpoint held (a warm standby's), or the one a member started from. */
  held: MemberCheckpoint | undefined;

  constructor(private readonly options: WarmHolderOptions) {}

  /** Keeps up until `signal` aborts; true when the chain is gone (the daemon is being removed). */
  async run(signal: AbortSignal, definition: () => DaemonDefinition): Promise<boolean> {
    const { chain, chains, every, fetch, clock, logger } = this.options;
    while (!signal.aborted) {
      try {
        const { commitOffset } = await chains.status(chain);
        const through = this.held?.appliedThrough ?? 0;
        if (fetch !== undefined && commitOffset - through >= every.events) {
          const fetched = await fetch(through + 1);
          if (
            !signal.aborted &&
            fetched !== undefined &&
            fetched.createdAtMs === definition().createdAtMs &&
            fetched.appliedThrough > through
          ) {
            this.held = fetched;
            this.options.keep(fetched);
          }
        }
      } catch (error) {
        if (error instanceof MeshError && error.code === 'CHAIN_NOT_FOUND') return true;
        logger?.info({ err: error, chain }, 'daemons: a warm standby could not refresh its checkpoint');
      }
      await pause(clock, WARM_STANDBY_CHECK_INTERVAL_MS, signal);
    }
    return false;
  }
}

/** Resolves after `delayMs`, or at once when `signal` aborts. */
export function pause(clock: Clock, delayMs: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clock.clearTimer(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = clock.setTimer(delayMs, done);
    signal.addEventListener('abort', done, { once: true });
  });
}
