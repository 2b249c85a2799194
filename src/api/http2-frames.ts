/**
 * The few HTTP/2 framing facts (RFC 9113 section 4 and 6) the client port needs to read the
 * client's side of a connection before Node's HTTP/2 server does.
 */

import {
  CLIENT_PREFACE as CLIENT_PREFACE_BYTES,
  FRAME_HEADER_BYTES,
  FRAME_SETTINGS,
} from './http2/frame-types.js';

/** The client preface as a plain Uint8Array: the filter's output chunks are Uint8Arrays, not Buffers. */
export const CLIENT_PREFACE = new Uint8Array(CLIENT_PREFACE_BYTES);

// The framing facts are the own HTTP/2 connection's (one list for the client port).
export {
  DEFAULT_MAX_FRAME_PAYLOAD_BYTES,
  FLAG_ACK,
  FLAG_END_HEADERS,
  FLAG_END_STREAM,
  FLAG_PADDED,
  FLAG_PRIORITY,
  FRAME_CONTINUATION as FRAME_TYPE_CONTINUATION,
  FRAME_HEADER_BYTES,
  FRAME_HEADERS as FRAME_TYPE_HEADERS,
  FRAME_SETTINGS as FRAME_TYPE_SETTINGS,
} from './http2/frame-types.js';

/** Stream dependency (4 octets) and weight (1) carried by a HEADERS frame with PRIORITY. */
export const PRIORITY_FIELDS_BYTES = 5;

export interface FrameHeader {
  readonly length: number;
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
}

export function readFrameHeader(bytes: Uint8Array): FrameHeader {
  return {
    length: (bytes[0]! << 16) | (bytes[1]! << 8) | bytes[2]!,
    type: bytes[3]!,
    flags: bytes[4]!,
    streamId: ((bytes[5]! & 0x7f) << 24) | (bytes[6]! << 16) | (bytes[7]! << 8) | bytes[8]!,
  };
}

export function frame(header: FrameHeader, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.byteLength);
  out[0] = (payload.byteLength >>> 16) & 0xff;
  out[1] = (payload.byteLength >>> 8) & 0xff;
  out[2] = payload.byteLength & 0xff;
  out[3] = header.type;
  out[4] = header.flags;
  new DataView(out.buffer).setUint32(5, header.streamId & 0x7fff_ffff);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

/** A SETTINGS frame with no parameters: a valid server preface that changes nothing. */
export const EMPTY_SETTINGS_FRAME = frame(
  { length: 0, type: FRAME_SETTINGS, flags: 0, streamId: 0 },
  new Uint8Array(0),
);
