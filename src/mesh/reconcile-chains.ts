/**
 * The chains part of the reconcile state (docs/RECONCILE.md "Where the state comes from"): the
 * chains' definitions, followed (`chains/`), as reconcile's observed chains (members: replicas and
 * learners; the leader once an epoch has one) and desired specs (each chain keeps its replica
 * count), and each node's replicas with their lag: a replica counts as caught up, a learner once
 * its leader says it holds every committed record (`StatusLearnerProgress`, asked in the
 * background after changes, at most every LEARNER_PROGRESS_REFRESH_MS).
 */
import type {
  ChainDefinition,
  ChainDirectory,
  ChainFollower,
  StatusLearnerProgress,
  StoredChain,
} from '../chains/index.js';
import type { Clock, Logger, NodeId, TimerId } from '../lib/index.js';
import type { ChainSpec, ObservedChain, ObservedReplica } from '../reconcile/index.js';

/** Learners' progress is asked again at most this often (while a chain has learners). */
export const LEARNER_PROGRESS_REFRESH_MS = 500;
/** The lag a learner not yet caught up is given (reconcile only tells 0 from more). */
const LEARNER_BEHIND_RECORDS = 1;

export interface ReconcileChainsOptions {
  readonly directory: ChainDirectory;
  readonly progress: StatusLearnerProgress;
  readonly clock: Clock;
  readonly logger?: Logger;
  readonly onChange: () => void;
  readonly onError: (error: Error) => void;
}

export interface ChainsInput {
  readonly chains: readonly ObservedChain[];
  readonly specs: readonly ChainSpec[];
  readonly replicasOn: ReadonlyMap<NodeId, readonly ObservedReplica[]>;
  /** Every node a chain names. */
  readonly named: ReadonlySet<NodeId>;
}

export class ReconcileChains {
  private readonly chains = new Map<string, StoredChain>();
  private readonly follower: ChainFollower;
  private loadedOnce = false;
  private refreshing = false;
  private refreshTimer: TimerId | undefined;
  private stopped = false;

  constructor(private readonly options: ReconcileChainsOptions) {
    this.follower = options.directory.follow({
      onReset: (chains) => {
        this.chains.clear();
        for (const [name, chain] of chains) this.chains.set(name, chain);
        this.loadedOnce = true;
        this.changed();
      },
      onChange: (change) => {
        if (change.type === 'delete') this.chains.delete(change.name);
        else this.chains.set(change.chain.definition.name, change.chain);
        this.changed();
      },
      onError: options.onError,
    });
  }

  get loaded(): boolean {
    return this.loadedOnce;
  }

  stop(): void {
    this.stopped = true;
    if (this.refreshTimer !== undefined) this.options.clock.clearTimer(this.refreshTimer);
    this.follower.stop();
  }

  input(): ChainsInput {
    const chains: ObservedChain[] = [];
    const specs: ChainSpec[] = [];
    const replicasOn = new Map<NodeId, ObservedReplica[]>();
    const named = new Set<NodeId>();
    const hold = (node: NodeId, replica: ObservedReplica): void => {
      named.add(node);
      const list = replicasOn.get(node) ?? [];
      list.push(replica);
      replicasOn.set(node, list);
    };
    for (const { definition } of this.chains.values()) {
      const learners = definition.learners ?? [];
      const caughtUp = this.options.progress.caughtUp(definition.name);
      for (const node of definition.replicas) hold(node, { chain: definition.name, lagRecords: 0 });
      for (const node of learners)
        hold(node, { chain: definition.name, lagRecords: caughtUp.has(node) ? 0 : LEARNER_BEHIND_RECORDS });
      chains.push({
        name: definition.name,
        members: [...definition.replicas, ...learners],
        ...(definition.epoch > 0 && definition.leader !== undefined ? { leader: definition.leader } : {}),
      });
      specs.push({ name: definition.name, replicas: definition.replicas.length });
    }
    this.refreshLater();
    return { chains, specs, replicasOn, named };
  }

  /** The definition as last seen. */
  definition(name: string): ChainDefinition | undefined {
    return this.chains.get(name)?.definition;
  }

  private changed(): void {
    this.options.onChange();
    this.refreshLater();
  }

  /** Asks the learners' progress again (one refresh at a time, a pause between), then a pass. */
  private refreshLater(): void {
    if (this.stopped || this.refreshing || this.refreshTimer !== undefined) return;
    const learning = [...this.chains.values()]
      .map((chain) => chain.definition)
      .filter((definition) => (definition.learners ?? []).length > 0);
    if (learning.length === 0) return;
    this.refreshTimer = this.options.clock.setTimer(LEARNER_PROGRESS_REFRESH_MS, () => {
      this.refreshTimer = undefined;
      this.refreshing = true;
      this.options.progress
        .refresh(learning)
        .catch((error: unknown) =>
          this.options.logger?.debug({ err: error }, 'reconcile: learner progress failed'),
        )
        .finally(() => {
          this.refreshing = false;
          if (!this.stopped) this.options.onChange();
        });
    });
  }
}
