/** Which endpoint leads, from the statuses the endpoints gave. Pure. */
import type { EndpointStatus } from './types.js';

export type LeaderChoice =
  /** No answering endpoint knows a leader. */
  | { readonly kind: 'none' }
  /** One of the endpoints is the leader. */
  | { readonly kind: 'endpoint'; readonly endpoint: string }
  /** The leader is not among the endpoints: look up its client URL in the member list at `askEndpoint`. */
  | { readonly kind: 'ask-members'; readonly leaderId: bigint; readonly askEndpoint: string };

export function chooseLeader(statuses: readonly EndpointStatus[]): LeaderChoice {
  // The view from the highest term is the freshest; an older term's leader may have been deposed.
  let freshest: EndpointStatus | undefined;
  for (const status of statuses) {
    if (status.leaderId === 0n) continue;
    if (freshest === undefined || status.raftTerm > freshest.raftTerm) freshest = status;
  }
  if (freshest === undefined) return { kind: 'none' };
  const leaderId = freshest.leaderId;
  const itself = statuses.find((status) => status.memberId === leaderId);
  if (itself !== undefined) return { kind: 'endpoint', endpoint: itself.endpoint };
  return { kind: 'ask-members', leaderId, askEndpoint: freshest.endpoint };
}
