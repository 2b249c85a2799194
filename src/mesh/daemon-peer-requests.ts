/**
 * The daemons' peer-request channel (peer-request-channel.ts): sends routed to the active's
 * node, members' progress, a member's state. A request that got no answer fails with
 * `DAEMON_PEER_REQUEST_FAILED`; a request arriving while this node's daemons service does not
 * run is answered `DAEMON_UNAVAILABLE`.
 */
import { DaemonUnavailableError } from '../daemons/cluster-errors.js';
import type { Clock, Logger } from '../lib/index.js';
import type { PeerChannelLink } from '../server/index.js';
import { PeerRequestChannel } from './peer-request-channel.js';

export type { PeerMessage, PeerRequestHandler } from './peer-request-channel.js';

/** Requests in flight from this node at once; more are refused unsent. */
export const MAX_DAEMON_PEER_REQUESTS_IN_FLIGHT = 10_000;

export class DaemonPeerRequests extends PeerRequestChannel {
  constructor(link: PeerChannelLink, clock: Clock, logger?: Logger) {
    super({
      link,
      clock,
      ...(logger === undefined ? {} : { logger }),
      name: 'daemons',
      maxInFlight: MAX_DAEMON_PEER_REQUESTS_IN_FLIGHT,
      unansweredCode: 'DAEMON_PEER_REQUEST_FAILED',
      notServing: (request) =>
        new DaemonUnavailableError(
          String(request.header.name),
          'the daemons service of this node is not running',
        ),
    });
  }
}
