/**
 * The blobs' peer-request channel (peer-request-channel.ts): chunk, replicate and drop requests
 * between nodes' blobs. A request that got no answer fails with `BLOB_PEER_REQUEST_FAILED`; a
 * request arriving while this node's blobs service does not run is answered `BLOBS_UNAVAILABLE`.
 */
import { BlobServiceUnavailableError, MAX_BLOB_PEER_REQUESTS_IN_FLIGHT } from '../blobs/index.js';
import type { Clock, Logger } from '../lib/index.js';
import type { PeerChannelLink } from '../server/index.js';
import { PeerRequestChannel } from './peer-request-channel.js';

export class BlobPeerRequests extends PeerRequestChannel {
  constructor(link: PeerChannelLink, clock: Clock, logger?: Logger) {
    super({
      link,
      clock,
      ...(logger === undefined ? {} : { logger }),
      name: 'blobs',
      maxInFlight: MAX_BLOB_PEER_REQUESTS_IN_FLIGHT,
      unansweredCode: 'BLOB_PEER_REQUEST_FAILED',
      notServing: () => new BlobServiceUnavailableError('the blobs service of this node is not running'),
    });
  }
}
