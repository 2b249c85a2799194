/** Padding of DATA and HEADERS frames (RFC 9113 sections 6.1 and 6.2). */
import { Http2ConnectionError } from './connection-error.js';
import { FLAG_PADDED, FRAME_SIZE_ERROR, PROTOCOL_ERROR } from './frame-types.js';

/** The payload without its padding (PADDED: a pad length octet first, the padding last). */
export function unpadded(flags: number, payload: Buffer): Buffer {
  if ((flags & FLAG_PADDED) === 0) return payload;
  if (payload.length < 1)
    throw new Http2ConnectionError(FRAME_SIZE_ERROR, 'a padded frame without its pad length');
  const padding = payload[0]!;
  if (padding >= payload.length)
    throw new Http2ConnectionError(PROTOCOL_ERROR, 'padding as long as the frame');
  return payload.subarray(1, payload.length - padding);
}
