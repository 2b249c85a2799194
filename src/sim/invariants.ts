import { MeshError } from '../lib/index.js';
import type { Entry, NodeId } from '../raft/index.js';

/** The safety properties checked as the run goes. */
export type InvariantName =
  | 'election-safety'
  | 'log-matching'
  | 'leader-completeness'
  | 'state-machine-safety'
  | 'monotonic-commit'
  | 'apply-order'
  | 'acknowledged-write-lost'
  | 'raft-assertion'
  | 'liveness';

/** A broken invariant: stops the run. */
export class InvariantViolation extends MeshError {
  readonly invariant: InvariantName;

  constructor(
    invariant: InvariantName,
    message: string,
    where: { node?: NodeId; term?: number; index?: number } = {},
  ) {
    const parts = [
      where.node === undefined ? '' : ` node=${where.node}`,
      where.term === undefined ? '' : ` term=${where.term}`,
      where.index === undefined ? '' : ` index=${where.index}`,
    ].join('');
    super('SIM_INVARIANT_VIOLATED', `invariant ${invariant} violated:${parts}: ${message}`, {
      details: { invariant, ...where },
    });
    this.invariant = invariant;
  }
}

/** Largest term the compact (index, term) key supports; simulations stay far below it. */
const MAX_TERM_FOR_KEY = 2 ** 20;

/** Hash of one entry's content (term, kind and data), for comparing entries across nodes. */
export function entryHash(entry: Entry): number {
  let hash = Math.imul(0x811c9dc5 ^ entry.term, 0x01000193);
  hash = Math.imul(hash ^ (entry.kind === 'normal' ? 1 : entry.kind === 'config' ? 2 : 3), 0x01000193);
  const data = entry.data;
  for (let index = 0; index < data.length; index++) hash = Math.imul(hash ^ data[index]!, 0x01000193);
  return hash >>> 0;
}

function chainHash(previous: number, entry: Entry): number {
  let hash = Math.imul(previous ^ entryHash(entry), 0x9e3779b1);
  hash ^= hash >>> 15;
  return Math.imul(hash ^ entry.index, 0x85ebca6b) >>> 0;
}

interface CommittedEntry {
  readonly term: number;
  readonly hash: number;
  readonly node: NodeId;
  /** Lowest term of a leader seen committing it (Infinity until a leader is seen applying it). */
  commitTerm: number;
}

/**
 * Raft's safety properties, checked incrementally at the moments the watched state changes
 * (every soft/hard state change, durable append and apply goes through here), which is
 * equivalent to checking them after every event at a fraction of the cost.
 */
export class InvariantChecker {
  private readonly leaderByTerm = new Map<number, NodeId>();
  /** Log matching: (index, term) -> hash of the whole log prefix ending there. */
  private readonly prefixByIndexTerm = new Map<number, number>();
  /** Per node: prefix hash at each durable index (slot 0 is the empty log). */
  private readonly chains = new Map<NodeId, number[]>();
  /** State machine safety: what was applied at each index, by anyone. */
  private readonly committed: (CommittedEntry | undefined)[] = [];
  private readonly lastCommitByNode = new Map<NodeId, number>();
  /** Leaders whose own-term entry is durable: node -> term. */
  private readonly establishedLeaders = new Map<NodeId, number>();
  private readonly durableTerms = new Map<NodeId, (index: number) => number | undefined>();
  private appliedCount = 0;

  get applies(): number {
    return this.appliedCount;
  }

  /** Highest index applied anywhere. */
  get highestCommitted(): number {
    return this.committed.length - 1;
  }

  registerNode(node: NodeId, durableTerm: (index: number) => number | undefined): void {
    this.durableTerms.set(node, durableTerm);
    if (!this.chains.has(node)) this.chains.set(node, [0]);
  }

  onLeader(node: NodeId, term: number): void {
    const existing = this.leaderByTerm.get(term);
    if (existing !== undefined && existing !== node) {
      throw new InvariantViolation('election-safety', `nodes ${existing} and ${node} are both leader`, {
        node,
        term,
      });
    }
    this.leaderByTerm.set(term, node);
  }

  onNotLeader(node: NodeId): void {
    this.establishedLeaders.delete(node);
  }

  onCommit(node: NodeId, commit: number): void {
    const last = this.lastCommitByNode.get(node) ?? 0;
    if (commit < last) {
      throw new InvariantViolation('monotonic-commit', `commit went back from ${last} to ${commit}`, {
        node,
        index: commit,
      });
    }
    this.lastCommitByNode.set(node, commit);
  }

  /** After a restart the commit index may go back, but only to what was durable. */
  onRestart(node: NodeId, durableCommit: number, restartedCommit: number): void {
    this.establishedLeaders.delete(node);
    if (restartedCommit < durableCommit) {
      throw new InvariantViolation(
        'monotonic-commit',
        `restarted with commit ${restartedCommit} below its durable commit ${durableCommit}`,
        { node, index: restartedCommit },
      );
    }
    this.lastCommitByNode.set(node, restartedCommit);
  }

  /** Entries just made durable on `node` (any conflicting suffix was replaced). */
  onDurableAppend(node: NodeId, entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const chain = this.chains.get(node)!;
    const first = entries[0]!.index;
    if (first - 1 >= chain.length) {
      throw new InvariantViolation(
        'log-matching',
        `append at ${first} leaves a gap after ${chain.length - 1}`,
        {
          node,
          index: first,
        },
      );
    }
    chain.length = first;
    for (const entry of entries) {
      const prefix = chainHash(chain[entry.index - 1]!, entry);
      chain.push(prefix);
      if (entry.term >= MAX_TERM_FOR_KEY) continue;
      const key = entry.index * MAX_TERM_FOR_KEY + entry.term;
      const seen = this.prefixByIndexTerm.get(key);
      if (seen === undefined) this.prefixByIndexTerm.set(key, prefix);
      else if (seen !== prefix) {
        throw new InvariantViolation(
          'log-matching',
          'two logs hold an entry with this index and term but differ in it or before it',
          { node, term: entry.term, index: entry.index },
        );
      }
    }
  }

  /**
   * `node` is leader of `term` and its own first entry of the term is durable, so its log now
   * holds everything it had when elected: it must contain every entry committed in an
   * earlier term.
   */
  onLeaderEstablished(node: NodeId, term: number): void {
    this.establishedLeaders.set(node, term);
    for (let index = 1; index < this.committed.length; index++) {
      const entry = this.committed[index];
      if (entry === undefined || entry.commitTerm >= term) continue;
      this.checkLeaderHas(node, term, index, entry);
    }
  }

  private checkLeaderHas(node: NodeId, leaderTerm: number, index: number, entry: CommittedEntry): void {
    const term = this.durableTerms.get(node)!(index);
    if (term !== entry.term) {
      throw new InvariantViolation(
        'leader-completeness',
        `leader of term ${leaderTerm} lacks the entry committed in term ${entry.commitTerm} (entry term ${entry.term}; it has ${term === undefined ? 'nothing' : `term ${term}`})`,
        { node, term: leaderTerm, index },
      );
    }
  }

  /** `node` applies `entry`; `leaderTerm` is set when the node applies it as leader of that term. */
  onApply(node: NodeId, entry: Entry, leaderTerm: number | undefined): void {
    this.appliedCount++;
    const hash = entryHash(entry);
    const seen = this.committed[entry.index];
    if (seen === undefined) {
      if (entry.index > this.committed.length) this.committed.length = entry.index;
      this.committed[entry.index] = {
        term: entry.term,
        hash,
        node,
        commitTerm: Number.POSITIVE_INFINITY,
      };
    } else if (seen.term !== entry.term || seen.hash !== hash) {
      throw new InvariantViolation(
        'state-machine-safety',
        `applies an entry of term ${entry.term} where node ${seen.node} applied a different entry of term ${seen.term}`,
        { node, term: entry.term, index: entry.index },
      );
    }
    const record = this.committed[entry.index]!;
    if (leaderTerm !== undefined && leaderTerm < record.commitTerm) {
      record.commitTerm = leaderTerm;
      for (const [leader, establishedTerm] of this.establishedLeaders) {
        if (establishedTerm > leaderTerm) this.checkLeaderHas(leader, establishedTerm, entry.index, record);
      }
    }
  }
}
