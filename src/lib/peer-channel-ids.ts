/**
 * The first byte of every message on the peer transport names the channel it belongs to, so
 * the parts sharing one transport (Raft, request forwarding, proximity pings, chains, daemons, blobs) each read
 * only their own messages and ignore the rest.
 */
export const PEER_CHANNEL = {
  raft: 0,
  request: 1,
  response: 2,
  proximity: 3,
  chains: 4,
  daemons: 5,
  blobs: 6,
} as const;

export type PeerChannelId = (typeof PEER_CHANNEL)[keyof typeof PEER_CHANNEL];
