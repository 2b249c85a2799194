import { assert } from '../lib/index.js';

/** Frame header: magic, version, type, flags (one byte each), then a u32 payload length. */
export const FRAME_HEADER_BYTES = 8;
/** First byte of every frame ('M'); a stream that starts otherwise is not speaking this protocol. */
export const FRAME_MAGIC = 0x4d;
/**
 * Version of the frame layout and handshake; a peer sending another version is refused.
 * 2: the handshake carries the node id in 8 bytes (any `NodeId`, up to 2^53-1), was a u32.
 */
export const PROTOCOL_VERSION = 2;
/** Largest frame, header included. Checked before a payload buffer is allocated. */
export const MAX_FRAME_BYTES = 8 * 1024 * 1024;
/** Largest frame payload. */
export const MAX_FRAME_PAYLOAD_BYTES = MAX_FRAME_BYTES - FRAME_HEADER_BYTES;
/** Largest single message: it travels alone in a message frame. */
export const MAX_MESSAGE_BYTES = MAX_FRAME_PAYLOAD_BYTES;

/** A batch frame's payload: u32 message count, then per message a u32 length and its bytes. */
export const BATCH_COUNT_BYTES = 4;
export const BATCH_LENGTH_PREFIX_BYTES = 4;
/** At most this many messages in one batch frame. */
export const MAX_BATCH_MESSAGES = 1024;
/** The sender closes a batch once it holds this many payload bytes, to keep frames moderate. */
export const BATCH_TARGET_BYTES = 256 * 1024;

/** Longest cluster id accepted in a handshake, in UTF-8 bytes. */
export const MAX_CLUSTER_ID_BYTES = 255;

/** Per peer: queued, unsent messages beyond this are dropped and counted. */
export const PEER_SEND_QUEUE_MESSAGES = 4096;
/** Per peer: queued, unsent payload bytes beyond this are dropped and counted. */
export const PEER_SEND_QUEUE_BYTES = 32 * 1024 * 1024;

/** Reconnect delays grow from the minimum, doubling per failed attempt, up to the maximum. */
export const RECONNECT_BACKOFF_MIN_MS = 50;
export const RECONNECT_BACKOFF_MAX_MS = 5_000;
/** A connection that has not completed the handshake in this time is closed. */
export const HANDSHAKE_TIMEOUT_MS = 5_000;
/**
 * Inbound connections held at once (handshaking or established); more are refused on arrival.
 * Before its handshake a connection may buffer only a handshake-sized frame, after it one
 * frame of up to MAX_FRAME_BYTES, and each peer id holds at most one inbound connection.
 */
export const MAX_INBOUND_CONNECTIONS = 256;

assert(MAX_FRAME_BYTES <= 0xffff_ffff + FRAME_HEADER_BYTES, 'frame length must fit a u32');
assert(
  BATCH_TARGET_BYTES + BATCH_COUNT_BYTES + MAX_BATCH_MESSAGES * BATCH_LENGTH_PREFIX_BYTES <=
    MAX_FRAME_PAYLOAD_BYTES,
  'a full batch must fit one frame',
);
assert(PEER_SEND_QUEUE_BYTES >= MAX_MESSAGE_BYTES, 'the send queue must hold at least one largest message');
assert(
  RECONNECT_BACKOFF_MIN_MS > 0 && RECONNECT_BACKOFF_MIN_MS <= RECONNECT_BACKOFF_MAX_MS,
  'backoff bounds',
);
