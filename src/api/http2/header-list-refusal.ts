/**
 * The answer to a request whose header list is over `MAX_HEADER_LIST_BYTES`: a gRPC trailers-only
 * response (HTTP 200, `grpc-status` RESOURCE_EXHAUSTED, as grpc-core reports metadata over its
 * limit). Not HTTP 431, which Go's net/http sends: a grpc-go client checks the HTTP status before
 * `grpc-status` and would report only "unexpected HTTP status code 431" as UNKNOWN. Not a bare
 * RST_STREAM either (grpc-go's server sends FRAME_SIZE_ERROR): its client shows that as INTERNAL
 * with no word of the limit. Frozen: its header block is made once.
 */
import type { OutgoingHttpHeaders } from 'node:http2';
import { status as Status } from '@grpc/grpc-js';
import { trailersOnly } from '../grpc-server/status-headers.js';
import { MAX_HEADER_LIST_BYTES } from './frame-types.js';

export const HEADER_LIST_TOO_LARGE: OutgoingHttpHeaders = Object.freeze(
  trailersOnly({
    code: Status.RESOURCE_EXHAUSTED,
    details: `request header list over the server's limit of ${MAX_HEADER_LIST_BYTES} octets (name + value + 32 per field)`,
  }),
);
