/**
 * Other voters' own commit and applied index for the Deck's consensus view. Only each voter
 * knows its own applied index, so the Deck asks each one's admin port (`/consensus`). The
 * snapshot goes out every second while a Deck is open, but an answer is kept for
 * `DECK_PEER_INDEXES_REFRESH_MS` before that voter is asked again, so a node with a Deck open asks
 * each other voter once per period instead of once a second. A period of 5 s is short next to how
 * an operator reads the table, and the indexes of one voter are always from one answer (its
 * commit and applied of the same moment). A voter that did not answer is asked again at the next
 * snapshot (its columns are left out meanwhile), and requests to one voter never overlap.
 *
 * Carrying the indexes on the proximity pings instead would cost no request at all, but not
 * every pair of voters pings in a large mesh (`nodesToMeasure`), so the Deck would still need
 * this path for the rest.
 */
import type { NodeId } from '../lib/index.js';

/** How long another voter's admin port may take to give its own commit and applied index. */
export const DECK_PEER_CONSENSUS_TIMEOUT_MS = 1_000;
/** How long a voter's answer is shown before it is asked again. */
export const DECK_PEER_INDEXES_REFRESH_MS = 5_000;

export interface PeerIndexes {
  readonly commit: number;
  readonly applied: number;
}

export type FetchPeerIndexes = (admin: string) => Promise<PeerIndexes | undefined>;

interface Answer {
  readonly admin: string;
  readonly indexes: PeerIndexes;
  readonly atMs: number;
}

export class DeckPeerIndexes {
  private readonly answers = new Map<NodeId, Answer>();
  private readonly asking = new Map<NodeId, Promise<PeerIndexes | undefined>>();

  constructor(private readonly fetchIndexes: FetchPeerIndexes = fetchConsensusIndexes) {}

  /**
   * `node`'s indexes: its last answer while younger than the refresh period (and from the same
   * admin address), else a fresh one; undefined when it does not answer.
   */
  indexesOf(node: NodeId, admin: string, nowMs: number): Promise<PeerIndexes | undefined> {
    const answer = this.answers.get(node);
    if (answer !== undefined && answer.admin === admin && nowMs - answer.atMs < DECK_PEER_INDEXES_REFRESH_MS)
      return Promise.resolve(answer.indexes);
    const pending = this.asking.get(node);
    if (pending !== undefined) return pending;
    const asked = this.fetchIndexes(admin)
      .catch(() => undefined)
      .then((indexes) => {
        this.asking.delete(node);
        if (indexes === undefined) this.answers.delete(node);
        else this.answers.set(node, { admin, indexes, atMs: nowMs });
        return indexes;
      });
    this.asking.set(node, asked);
    return asked;
  }

  /** Forgets the nodes that are no longer voters (what is kept is bounded by the voters). */
  keepOnly(nodes: ReadonlySet<NodeId>): void {
    for (const node of this.answers.keys()) if (!nodes.has(node)) this.answers.delete(node);
  }
}

/** A voter's own commit and applied index from its admin port's `/consensus`. */
async function fetchConsensusIndexes(admin: string): Promise<PeerIndexes | undefined> {
  const response = await fetch(`http://${admin}/consensus`, {
    signal: AbortSignal.timeout(DECK_PEER_CONSENSUS_TIMEOUT_MS),
  });
  if (!response.ok) return undefined;
  const document = (await response.json()) as { commitIndex?: unknown; appliedIndex?: unknown };
  const { commitIndex, appliedIndex } = document;
  if (!Number.isSafeInteger(commitIndex) || !Number.isSafeInteger(appliedIndex)) return undefined;
  return { commit: commitIndex as number, applied: appliedIndex as number };
}
