/**
 * Which learners have caught up with their chain's leader: the coordinator's input for the
 * second replacement step. Two sources: reports pushed by whoever sees them (`LearnerProgressBoard`),
 * or the leaders' own status, asked for by the coordinator before it plans
 * (`StatusLearnerProgress`, over any node's chains backend: a status request reaches the leader).
 */
import type { NodeId } from '../lib/index.js';
import type { ChainDefinition } from './types.js';

/** Status requests in flight at once while refreshing. */
export const MAX_LEARNER_STATUS_REQUESTS_IN_FLIGHT = 8;

export interface LearnerProgress {
  caughtUp(chain: string): ReadonlySet<NodeId>;
  /** Calls `listener` when a learner's state changes; returns an unsubscribe. */
  onChange(listener: () => void): () => void;
  /** Brings the answers up to date for these chains; the coordinator calls it before planning. */
  refresh?(chains: readonly ChainDefinition[]): Promise<void>;
}

/** Learners' progress as reports arrive (the chain hosts call `report`). */
export class LearnerProgressBoard implements LearnerProgress {
  private readonly caughtUpByChain = new Map<string, Set<NodeId>>();
  private readonly listeners = new Set<() => void>();

  /** `learner` of `chain` has (or no longer has) caught up with its leader's commit offset. */
  report(chain: string, learner: NodeId, caughtUp: boolean): void {
    const learners = this.caughtUpByChain.get(chain) ?? new Set<NodeId>();
    if (learners.has(learner) === caughtUp) return;
    if (caughtUp) learners.add(learner);
    else learners.delete(learner);
    if (learners.size === 0) this.caughtUpByChain.delete(chain);
    else this.caughtUpByChain.set(chain, learners);
    for (const listener of this.listeners) listener();
  }

  caughtUp(chain: string): ReadonlySet<NodeId> {
    return this.caughtUpByChain.get(chain) ?? new Set();
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** What a chain's leader says of its learners (the `status` of the chains backend fits it). */
export interface LearnerStatus {
  readonly commitOffset: number;
  /** The leader's epoch-start marker; absent when the status is not a leading leader's own view. */
  readonly epochStartOffset?: number;
  readonly learners?: readonly { readonly node: NodeId; readonly offset: number }[];
}

/**
 * Whether `learnerOffset` (the end of what the learner holds matching the leader) covers every
 * committed record. The commit offset alone does not say: right after a leader change it can lag
 * records committed in older epochs (they count once the new leader's marker is on a majority),
 * and all of those lie below the marker. A status that is not the leader's own view proves nothing.
 */
export function learnerCaughtUp(status: LearnerStatus, learnerOffset: number): boolean {
  if (status.epochStartOffset === undefined) return false;
  return learnerOffset >= Math.max(status.commitOffset, status.epochStartOffset);
}

/**
 * Asks each chain with learners for its leader's status and counts a learner caught up once it
 * holds every committed record (`learnerCaughtUp`). A chain whose status cannot be had keeps no
 * caught-up learner (its promotion waits for the next refresh).
 */
export class StatusLearnerProgress implements LearnerProgress {
  private caughtUpByChain = new Map<string, ReadonlySet<NodeId>>();

  constructor(private readonly statusOf: (chain: string) => Promise<LearnerStatus>) {}

  caughtUp(chain: string): ReadonlySet<NodeId> {
    return this.caughtUpByChain.get(chain) ?? new Set();
  }

  /** Nothing pushes: the answers change only when the coordinator refreshes them. */
  onChange(): () => void {
    return () => {};
  }

  async refresh(chains: readonly ChainDefinition[]): Promise<void> {
    const learning = chains.filter((chain) => (chain.learners ?? []).length > 0);
    const next = new Map<string, ReadonlySet<NodeId>>();
    const queue = [...learning];
    const workers = Math.min(queue.length, MAX_LEARNER_STATUS_REQUESTS_IN_FLIGHT);
    await Promise.all(
      Array.from({ length: workers }, async () => {
        for (let chain = queue.shift(); chain !== undefined; chain = queue.shift()) {
          const caughtUp = await this.caughtUpLearners(chain);
          if (caughtUp.size > 0) next.set(chain.name, caughtUp);
        }
      }),
    );
    this.caughtUpByChain = next;
  }

  private async caughtUpLearners(chain: ChainDefinition): Promise<Set<NodeId>> {
    try {
      const status = await this.statusOf(chain.name);
      const learners = new Set(chain.learners ?? []);
      return new Set(
        (status.learners ?? [])
          .filter((learner) => learners.has(learner.node) && learnerCaughtUp(status, learner.offset))
          .map((learner) => learner.node),
      );
    } catch {
      return new Set();
    }
  }
}
