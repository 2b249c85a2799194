import type { ChainEntry } from '../chains/index.js';
import type { NodeId } from '../lib/index.js';

/** What the chains checker found wrong: the invariant's name and what broke it. */
export interface ChainProblem {
  readonly invariant: 'chain-one-leader-per-epoch' | 'chain-committed-prefix';
  readonly message: string;
}

const decoder = new TextDecoder();

/** How an offset of a committed prefix looks: a data record's epoch and payload, or no data. */
function describeEntry(entry: ChainEntry | undefined): string {
  return entry === undefined
    ? 'no data record'
    : `epoch ${entry.epoch} ${JSON.stringify(decoder.decode(entry.payload))}`;
}

/**
 * The chain invariants checked while the run goes: per chain and epoch at most one replica
 * leads and at most one has appends acknowledged; every replica's committed prefix agrees with
 * every other's (so each is a prefix of the leader's log). The end check against the append
 * history is `chainReplicaProblems`.
 */
export class ChainInvariants {
  /** `chain/epoch` -> the replica that acknowledged appends in it. */
  private readonly acknowledgedBy = new Map<string, NodeId>();
  /** `chain/epoch` -> the replica seen leading it. */
  private readonly ledBy = new Map<string, NodeId>();
  /** Per chain, offset -> the committed record there as first seen, and on which node. */
  private readonly committed = new Map<
    string,
    Map<number, { readonly entry: string; readonly node: NodeId }>
  >();
  acknowledgements = 0;
  committedOffsetsCompared = 0;

  /** `node`'s replica of `chain` acknowledged appends in `epoch`. */
  onAcknowledged(chain: string, node: NodeId, epoch: number): ChainProblem | undefined {
    this.acknowledgements++;
    return onlyOne(this.acknowledgedBy, chain, epoch, node, 'acknowledged appends in');
  }

  /** `node`'s replica of `chain` reports that it leads `epoch`. */
  onLeading(chain: string, node: NodeId, epoch: number): ChainProblem | undefined {
    return onlyOne(this.ledBy, chain, epoch, node, 'led');
  }

  /**
   * `node`'s replica of `chain` holds `entries` as its committed data records in
   * [`fromOffset`, `toOffset`) (offsets without one hold an epoch marker): each must be what
   * every other replica committed there.
   */
  onCommittedRange(
    chain: string,
    node: NodeId,
    fromOffset: number,
    toOffset: number,
    entries: readonly ChainEntry[],
  ): ChainProblem | undefined {
    let seen = this.committed.get(chain);
    if (seen === undefined) {
      seen = new Map();
      this.committed.set(chain, seen);
    }
    const byOffset = new Map(entries.map((entry) => [entry.offset, entry]));
    for (let offset = fromOffset; offset < toOffset; offset++) {
      const entry = byOffset.get(offset);
      const description = describeEntry(entry);
      const earlier = seen.get(offset);
      this.committedOffsetsCompared++;
      if (earlier === undefined) seen.set(offset, { entry: description, node });
      else if (earlier.entry !== description)
        return {
          invariant: 'chain-committed-prefix',
          message: `chain ${chain}: offset ${offset} committed as ${earlier.entry} on node ${earlier.node} but as ${description} on node ${node}`,
        };
    }
    return undefined;
  }
}

/** Records `node` as the one that did `what` in `chain`'s `epoch`; a second node is a problem. */
function onlyOne(
  nodes: Map<string, NodeId>,
  chain: string,
  epoch: number,
  node: NodeId,
  what: string,
): ChainProblem | undefined {
  const key = `${chain}/${epoch}`;
  const earlier = nodes.get(key);
  if (earlier === undefined) nodes.set(key, node);
  if (earlier === undefined || earlier === node) return undefined;
  return {
    invariant: 'chain-one-leader-per-epoch',
    message: `chain ${chain}: nodes ${earlier} and ${node} both ${what} epoch ${epoch}`,
  };
}
