import type { ClusterConfig, NodeId } from './types.js';

export type VoteResult = 'won' | 'lost' | 'pending';

const scratch: number[] = [];

/** The largest index that a majority of `voters` has reached; an empty set agrees on anything. */
function majorityIndex(voters: readonly NodeId[], indexOf: (node: NodeId) => number): number {
  if (voters.length === 0) return Number.POSITIVE_INFINITY;
  // Insertion sort, descending: voter sets are small and this runs on every acknowledgement.
  const count = voters.length;
  for (let position = 0; position < count; position++) {
    const value = indexOf(voters[position]!);
    let slot = position;
    while (slot > 0 && scratch[slot - 1]! < value) {
      scratch[slot] = scratch[slot - 1]!;
      slot--;
    }
    scratch[slot] = value;
  }
  return scratch[(count - 1) >> 1]!;
}

/** The index both the incoming and (when joint) the outgoing majority have reached. */
export function quorumIndex(config: ClusterConfig, indexOf: (node: NodeId) => number): number {
  const incoming = majorityIndex(config.voters, indexOf);
  const outgoing = majorityIndex(config.outgoingVoters, indexOf);
  const result = Math.min(incoming, outgoing);
  return result === Number.POSITIVE_INFINITY ? 0 : result;
}

function majorityVote(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (voters.length === 0) return 'won';
  let granted = 0;
  let missing = 0;
  for (const voter of voters) {
    const vote = votes.get(voter);
    if (vote === undefined) missing++;
    else if (vote) granted++;
  }
  const needed = (voters.length >> 1) + 1;
  if (granted >= needed) return 'won';
  if (granted + missing >= needed) return 'pending';
  return 'lost';
}

/** Outcome of an election (or any yes/no poll) under a possibly joint configuration. */
export function voteResult(config: ClusterConfig, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  const incoming = majorityVote(config.voters, votes);
  const outgoing = majorityVote(config.outgoingVoters, votes);
  if (incoming === 'lost' || outgoing === 'lost') return 'lost';
  if (incoming === 'won' && outgoing === 'won') return 'won';
  return 'pending';
}

/** True when the nodes for which `active` holds form a quorum. */
export function quorumActive(config: ClusterConfig, active: (node: NodeId) => boolean): boolean {
  const votes = new Map<NodeId, boolean>();
  for (const node of config.voters) votes.set(node, active(node));
  for (const node of config.outgoingVoters) votes.set(node, active(node));
  return voteResult(config, votes) === 'won';
}
