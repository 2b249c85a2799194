import { MeshError } from '../lib/index.js';
import type { Entry, NodeId } from '../raft/index.js';

/** The safety properties checked as the run goes. */
export type InvariantName =
  | 'election-safety'
  | 'log-matching'
  | 'leader-completeness'
  | 'state-machine-safety';

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

/** Hash of one entry's content (term, kind and data), for comparing entries across nodes. */
export function entryHash(entry: Entry): number {
  let hash = Math.imul(0x811c9dc5 ^ entry.term, 0x01000193);
  hash = Math.imul(hash ^ (entry.kind === 'normal' ? 1 : entry.kind === 'config' ? 2 : 3), 0x01000193);
  const data = entry.data;
  for (let index = 0; index < data.length; index++) hash = Math.imul(hash ^ data[index]!, 0x01000193);
  return hash >>> 0;
}

/**
 * What one node's disk holds of its log (read through the store's own recovery): entries
 * from `firstIndex` on, after a snapshot through `snapshotIndex` (0 without one).
 */
export interface DurableLog {
  readonly snapshotIndex: number;
  readonly firstIndex: number;
  readonly terms: readonly number[];
  /** Hash of each entry's content (term, kind, data). */
  readonly hashes: readonly number[];
}

/** The term of `log`'s entry at `index`; 'compacted' inside its snapshot, undefined past its end. */
function durableTermAt(log: DurableLog, index: number): number | 'compacted' | undefined {
  if (index <= log.snapshotIndex) return 'compacted';
  return log.terms[index - log.firstIndex];
}

interface CommittedEntry {
  readonly term: number;
  readonly hash: number;
  readonly node: NodeId;
  /** Lowest term of a leader seen applying it (Infinity until a leader is seen applying it). */
  commitTerm: number;
}

/**
 * Raft's safety properties, checked at the moments the watched state changes: a node
 * becoming leader, an entry applied, a node's durable log read back from its disk.
 */
export class InvariantChecker {
  private readonly leaderByTerm = new Map<number, NodeId>();
  /** State machine safety: what was applied at each index, by anyone. */
  private readonly committed: (CommittedEntry | undefined)[] = [];
  /** The newest durable log read from each node (log matching compares them). */
  private readonly durableLogs = new Map<NodeId, DurableLog>();
  /** Leaders whose own-term entry is durable: their log as read then, by term. */
  private readonly establishedLeaders = new Map<number, { node: NodeId; log: DurableLog }>();
  private appliedCount = 0;

  get applies(): number {
    return this.appliedCount;
  }

  /** Highest index applied anywhere. */
  get highestCommitted(): number {
    return this.committed.length - 1;
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

  /**
   * Log matching: two logs holding an entry with the same index and term hold identical
   * entries at every index up to it that both still have.
   */
  onDurableLog(node: NodeId, log: DurableLog): void {
    for (const [other, otherLog] of this.durableLogs) {
      if (other !== node) checkLogsMatch(node, log, other, otherLog);
    }
    this.durableLogs.set(node, log);
  }

  /**
   * `node` is leader of `term` and its own first entry of the term is durable, so `log` (read
   * from its disk) holds everything it had when elected: it must contain every entry
   * committed in an earlier term.
   */
  onLeaderEstablished(node: NodeId, term: number, log: DurableLog): void {
    this.establishedLeaders.set(term, { node, log });
    for (let index = 1; index < this.committed.length; index++) {
      const entry = this.committed[index];
      if (entry === undefined || entry.commitTerm >= term) continue;
      checkLeaderHas(node, term, log, index, entry);
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
      for (const [establishedTerm, leader] of this.establishedLeaders) {
        if (establishedTerm > leaderTerm)
          checkLeaderHas(leader.node, establishedTerm, leader.log, entry.index, record);
      }
    }
  }
}

function checkLeaderHas(
  node: NodeId,
  leaderTerm: number,
  log: DurableLog,
  index: number,
  entry: CommittedEntry,
): void {
  const term = durableTermAt(log, index);
  if (term === 'compacted' || term === entry.term) return;
  throw new InvariantViolation(
    'leader-completeness',
    `leader of term ${leaderTerm} lacks the entry committed in term ${entry.commitTerm} (entry term ${entry.term}; it has ${term === undefined ? 'nothing' : `term ${term}`})`,
    { node, term: leaderTerm, index },
  );
}

function checkLogsMatch(node: NodeId, log: DurableLog, other: NodeId, otherLog: DurableLog): void {
  const first = Math.max(log.firstIndex, otherLog.firstIndex);
  const last = Math.min(log.firstIndex + log.terms.length, otherLog.firstIndex + otherLog.terms.length) - 1;
  let matchedThrough = 0;
  for (let index = last; index >= first; index--) {
    if (log.terms[index - log.firstIndex] === otherLog.terms[index - otherLog.firstIndex]) {
      matchedThrough = index;
      break;
    }
  }
  for (let index = first; index <= matchedThrough; index++) {
    const a = index - log.firstIndex;
    const b = index - otherLog.firstIndex;
    if (log.terms[a] !== otherLog.terms[b] || log.hashes[a] !== otherLog.hashes[b]) {
      throw new InvariantViolation(
        'log-matching',
        `node ${other}'s log holds the same entry at ${matchedThrough} (term ${log.terms[matchedThrough - log.firstIndex]}) but differs at ${index}`,
        { node, index },
      );
    }
  }
}
