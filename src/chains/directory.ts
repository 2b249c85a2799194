/**
 * `ChainDirectory`: the chains' definitions in the control plane (`chains/<name>`). Every change
 * is a compare-and-swap on the definition's mod revision, so two writers never both change one
 * version of a definition: each epoch has exactly one leader, and a learner is promoted once.
 * Writers may add fence compares (the coordinator's hold on its key) so that a writer that lost
 * its role cannot apply a change it planned while it had it.
 */
import {
  absent,
  type ControlCompare,
  type ControlEntry,
  type ControlPlane,
  type ControlTxnOpResult,
  chainKey,
  KEYSPACE_PREFIXES,
  present,
  unchangedSince,
} from '../control/index.js';
import { type Clock, type NodeId, ValidationError } from '../lib/index.js';
import { ChainFollower, type ChainFollowHandlers } from './chain-follower.js';
import { type ChainCreateRequest, validateChainCreate } from './create-request.js';
import {
  type ChainPlacementChoice,
  newChainDefinition,
  withLearner,
  withNextEpoch,
  withoutLearner,
  withPromotedLearner,
} from './definition-changes.js';
import { encodeChainDefinition } from './definition-codec.js';
import { ChainConflictError, ChainExistsError, ChainFencedError, ChainNotFoundError } from './errors.js';
import { type StoredChain, storedChainOf } from './stored-chain.js';
import type { ChainDefinition } from './types.js';

/** Read-modify-write attempts of a change made without an expected revision, before CHAIN_CONFLICT. */
export const MAX_CHAIN_UPDATE_ATTEMPTS = 16;
/** Definitions per page of `list` when the caller names no limit. */
export const DEFAULT_CHAIN_LIST_LIMIT = 1_000;

export interface ChainWriteOptions {
  /** Apply only if the definition is still at this mod revision (else CHAIN_CONFLICT). */
  readonly expectedModRevision?: number;
  /** Compares the write also needs to hold (else CHAIN_FENCED), e.g. the coordinator's key. */
  readonly fence?: readonly ControlCompare[];
}

export interface NextEpochProposal {
  /** The proposal is for the definition at this mod revision... */
  readonly expectedModRevision?: number;
  /** ...or at this epoch (one of the two is required). */
  readonly expectedEpoch?: number;
  /** The replica to lead the next epoch. */
  readonly leader: NodeId;
  readonly fence?: readonly ControlCompare[];
}

/** `won`: the new epoch is committed with `chain`; `lost`: another change came first, `chain` is it. */
export type NextEpochAnswer =
  | { readonly outcome: 'won'; readonly chain: StoredChain }
  | { readonly outcome: 'lost'; readonly chain: StoredChain };

export interface ChainListOptions {
  /** Definitions per page (1 to the plane's MAX_CONTROL_RANGE_LIMIT). */
  readonly limit?: number;
  /** Only chains whose name sorts after this one (the last name of the previous page). */
  readonly startAfter?: string;
  /** Read at this revision (a previous page's) so pages form one snapshot. */
  readonly revision?: number;
}

export interface ChainListPage {
  readonly chains: readonly StoredChain[];
  readonly revision: number;
  readonly more: boolean;
  /** Keys under `chains/` whose value is not a definition (skipped). */
  readonly undecodable: readonly string[];
}

type SwapOutcome =
  | { readonly applied: true; readonly chain: StoredChain }
  | { readonly applied: false; readonly current: StoredChain };

export interface ChainDirectoryOptions {
  /** Creation times come from its wall clock. */
  readonly clock: Clock;
}

export class ChainDirectory {
  constructor(
    readonly plane: ControlPlane,
    private readonly options: ChainDirectoryOptions,
  ) {}

  /** Creates the chain at epoch 1 on `placement`; CHAIN_EXISTS if the name is taken. */
  async create(
    input: ChainCreateRequest,
    placement: ChainPlacementChoice,
    options: Pick<ChainWriteOptions, 'fence'> = {},
  ): Promise<StoredChain> {
    const spec = validateChainCreate(input);
    // The definition holds whole milliseconds; a clock may answer fractions (the simulator's does).
    const definition = newChainDefinition(spec, placement, Math.floor(this.options.clock.wallMs()));
    const key = chainKey(spec.name);
    const fence = options.fence ?? [];
    const answer = await this.plane.txn({
      compare: [absent(key), ...fence],
      success: [{ type: 'put', key, value: encodeChainDefinition(definition) }],
      failure: [{ type: 'get', key }],
    });
    if (answer.succeeded) return { definition, modRevision: answer.revision };
    if (entryOf(answer.results[0]) !== undefined || fence.length === 0) throw new ChainExistsError(spec.name);
    throw new ChainFencedError(spec.name);
  }

  async get(name: string): Promise<StoredChain | undefined> {
    const key = chainKey(name);
    const entry = await this.plane.get(key);
    return entry === undefined ? undefined : storedChainOf(entry);
  }

  /** Like `get`, CHAIN_NOT_FOUND when there is no such chain. */
  async require(name: string): Promise<StoredChain> {
    const chain = await this.get(name);
    if (chain === undefined) throw new ChainNotFoundError(name);
    return chain;
  }

  /** One page of definitions in name order; page on with `startAfter` and `revision`. */
  async list(options: ChainListOptions = {}): Promise<ChainListPage> {
    const page = await this.plane.range(KEYSPACE_PREFIXES.chains, {
      limit: options.limit ?? DEFAULT_CHAIN_LIST_LIMIT,
      ...(options.startAfter === undefined ? {} : { startAfter: chainKey(options.startAfter) }),
      ...(options.revision === undefined ? {} : { revision: options.revision }),
    });
    const chains: StoredChain[] = [];
    const undecodable: string[] = [];
    for (const entry of page.entries) {
      try {
        chains.push(storedChainOf(entry));
      } catch {
        undecodable.push(entry.key);
      }
    }
    return { chains, revision: page.revision, more: page.more, undecodable };
  }

  /** Deletes the chain's definition; CHAIN_NOT_FOUND if there is none. */
  async delete(name: string, options: ChainWriteOptions = {}): Promise<void> {
    const key = chainKey(name);
    const fence = options.fence ?? [];
    const expected = options.expectedModRevision;
    const answer = await this.plane.txn({
      compare: [expected === undefined ? present(key) : unchangedSince(key, expected), ...fence],
      success: [{ type: 'delete', key }],
      failure: [{ type: 'get', key }],
    });
    if (answer.succeeded) return;
    const entry = entryOf(answer.results[0]);
    if (entry === undefined) throw new ChainNotFoundError(name);
    if (expected !== undefined && entry.modRevision !== expected) {
      throw new ChainConflictError(name, expected, entry.modRevision);
    }
    throw new ChainFencedError(name);
  }

  /** Follows every definition: the whole map first (and after re-lists), then each change. */
  follow(handlers: ChainFollowHandlers): ChainFollower {
    return new ChainFollower(this.plane, handlers, { clock: this.options.clock });
  }

  /**
   * Proposes the next epoch with `leader`: it is committed only if the definition is still the
   * one the proposer decided on (its mod revision, or its epoch), so of concurrent proposals for
   * one epoch exactly one wins and the others see the winner's definition.
   */
  async proposeNextEpoch(name: string, proposal: NextEpochProposal): Promise<NextEpochAnswer> {
    if (proposal.expectedModRevision === undefined && proposal.expectedEpoch === undefined) {
      throw new ValidationError(`epoch proposal for chain ${name}`, [
        'expectedModRevision or expectedEpoch is required',
      ]);
    }
    const current = await this.require(name);
    const stale =
      (proposal.expectedModRevision !== undefined && current.modRevision !== proposal.expectedModRevision) ||
      (proposal.expectedEpoch !== undefined && current.definition.epoch !== proposal.expectedEpoch);
    if (stale) return { outcome: 'lost', chain: current };
    const next = withNextEpoch(current.definition, proposal.leader);
    const swap = await this.swap(current, next, proposal.fence ?? []);
    return swap.applied ? { outcome: 'won', chain: swap.chain } : { outcome: 'lost', chain: swap.current };
  }

  /** `learner` starts catching up (first of the two replacement steps). */
  addLearner(name: string, learner: NodeId, options: ChainWriteOptions = {}): Promise<StoredChain> {
    return this.change(name, options, (definition) => withLearner(definition, learner));
  }

  /** `learner` stops catching up without being promoted (its node is gone). */
  removeLearner(name: string, learner: NodeId, options: ChainWriteOptions = {}): Promise<StoredChain> {
    return this.change(name, options, (definition) => withoutLearner(definition, learner));
  }

  /**
   * The second replacement step: `learner` takes `replaced`'s place and a new epoch starts (same
   * leader unless the leader is the one replaced: then `leader`, or the first remaining replica).
   */
  promoteLearner(
    name: string,
    learner: NodeId,
    replaced: NodeId,
    options: ChainWriteOptions & { readonly leader?: NodeId } = {},
  ): Promise<StoredChain> {
    return this.change(name, options, (definition) =>
      withPromotedLearner(definition, learner, replaced, options.leader),
    );
  }

  /**
   * Read, change, compare-and-swap. With an expected revision a concurrent change is the
   * caller's to handle (CHAIN_CONFLICT); without, the change is made again on the newer
   * definition, a bounded number of times.
   */
  private async change(
    name: string,
    options: ChainWriteOptions,
    changeOf: (definition: ChainDefinition) => ChainDefinition,
  ): Promise<StoredChain> {
    const expected = options.expectedModRevision;
    let current = await this.require(name);
    for (let attempt = 1; ; attempt++) {
      if (expected !== undefined && current.modRevision !== expected) {
        throw new ChainConflictError(name, expected, current.modRevision);
      }
      const swap = await this.swap(current, changeOf(current.definition), options.fence ?? []);
      if (swap.applied) return swap.chain;
      if (expected !== undefined || attempt >= MAX_CHAIN_UPDATE_ATTEMPTS) {
        throw new ChainConflictError(name, expected ?? current.modRevision, swap.current.modRevision);
      }
      current = swap.current;
    }
  }

  /** Puts `next` if the definition is still at `current`'s revision and the fence holds. */
  private async swap(
    current: StoredChain,
    next: ChainDefinition,
    fence: readonly ControlCompare[],
  ): Promise<SwapOutcome> {
    const name = current.definition.name;
    const key = chainKey(name);
    const answer = await this.plane.txn({
      compare: [unchangedSince(key, current.modRevision), ...fence],
      success: [{ type: 'put', key, value: encodeChainDefinition(next) }],
      failure: [{ type: 'get', key }],
    });
    if (answer.succeeded) return { applied: true, chain: { definition: next, modRevision: answer.revision } };
    const entry = entryOf(answer.results[0]);
    if (entry === undefined) throw new ChainNotFoundError(name);
    if (entry.modRevision === current.modRevision) throw new ChainFencedError(name);
    return { applied: false, current: storedChainOf(entry) };
  }
}

function entryOf(result: ControlTxnOpResult | undefined): ControlEntry | undefined {
  return result?.type === 'get' ? result.entry : undefined;
}
