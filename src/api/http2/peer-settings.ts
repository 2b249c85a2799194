/**
 * The client's SETTINGS (RFC 9113 section 6.5): the payload's identifier and value pairs, read in
 * order and checked against section 6.5.2's bounds (a value out of them is a connection error);
 * the ones this server acts on are handed to the connection.
 */
import { Http2ConnectionError } from './connection-error.js';
import {
  DEFAULT_MAX_FRAME_PAYLOAD_BYTES,
  FLOW_CONTROL_ERROR,
  FRAME_SIZE_ERROR,
  LARGEST_MAX_FRAME_PAYLOAD_BYTES,
  LARGEST_WINDOW_BYTES,
  PROTOCOL_ERROR,
  SETTINGS_ENABLE_PUSH,
  SETTINGS_INITIAL_WINDOW_SIZE,
  SETTINGS_MAX_FRAME_SIZE,
} from './frame-types.js';

/** What the connection does with the client's settings. */
export interface PeerSettingsSink {
  /** SETTINGS_INITIAL_WINDOW_SIZE: the send window of every stream, open or to come. */
  initialWindowSize(bytes: number): void;
  /** SETTINGS_MAX_FRAME_SIZE: the largest frame we may send. */
  maxFrameSize(bytes: number): void;
}

const PAIR_BYTES = 6;

export function readPeerSettings(payload: Buffer, sink: PeerSettingsSink): void {
  if (payload.length % PAIR_BYTES !== 0)
    throw new Http2ConnectionError(FRAME_SIZE_ERROR, 'SETTINGS not in 6-octet pairs');
  for (let at = 0; at < payload.length; at += PAIR_BYTES) {
    const identifier = payload.readUInt16BE(at);
    const value = payload.readUInt32BE(at + 2);
    if (identifier === SETTINGS_INITIAL_WINDOW_SIZE) {
      if (value > LARGEST_WINDOW_BYTES)
        throw new Http2ConnectionError(FLOW_CONTROL_ERROR, `SETTINGS_INITIAL_WINDOW_SIZE ${value}`);
      sink.initialWindowSize(value);
    } else if (identifier === SETTINGS_MAX_FRAME_SIZE) {
      if (value < DEFAULT_MAX_FRAME_PAYLOAD_BYTES || value > LARGEST_MAX_FRAME_PAYLOAD_BYTES)
        throw new Http2ConnectionError(PROTOCOL_ERROR, `SETTINGS_MAX_FRAME_SIZE ${value}`);
      sink.maxFrameSize(value);
    } else if (identifier === SETTINGS_ENABLE_PUSH && value > 1)
      throw new Http2ConnectionError(PROTOCOL_ERROR, `SETTINGS_ENABLE_PUSH ${value}`);
    // The header table size is the client's decoder's: our blocks never index, so any size is
    // fine. Unknown identifiers are ignored (section 6.5.2).
  }
}
