/**
 * HTTP/2 framing facts (RFC 9113 sections 4, 6, 7 and 11) for MeshOS's own server connection:
 * frame types, flags, error codes and SETTINGS identifiers, and the limits this server keeps.
 */

export const FRAME_HEADER_BYTES = 9;

export const FRAME_DATA = 0x0;
export const FRAME_HEADERS = 0x1;
export const FRAME_PRIORITY = 0x2;
export const FRAME_RST_STREAM = 0x3;
export const FRAME_SETTINGS = 0x4;
export const FRAME_PUSH_PROMISE = 0x5;
export const FRAME_PING = 0x6;
export const FRAME_GOAWAY = 0x7;
export const FRAME_WINDOW_UPDATE = 0x8;
export const FRAME_CONTINUATION = 0x9;

export const FLAG_END_STREAM = 0x1;
export const FLAG_ACK = 0x1;
export const FLAG_END_HEADERS = 0x4;
export const FLAG_PADDED = 0x8;
export const FLAG_PRIORITY = 0x20;

/** Error codes (RFC 9113 section 7). */
export const NO_ERROR = 0x0;
export const PROTOCOL_ERROR = 0x1;
export const INTERNAL_ERROR = 0x2;
export const FLOW_CONTROL_ERROR = 0x3;
export const SETTINGS_TIMEOUT = 0x4;
export const STREAM_CLOSED = 0x5;
export const FRAME_SIZE_ERROR = 0x6;
export const REFUSED_STREAM = 0x7;
export const CANCEL = 0x8;
export const COMPRESSION_ERROR = 0x9;
export const ENHANCE_YOUR_CALM = 0xb;

/** SETTINGS identifiers (RFC 9113 section 6.5.2). */
export const SETTINGS_HEADER_TABLE_SIZE = 0x1;
export const SETTINGS_ENABLE_PUSH = 0x2;
export const SETTINGS_MAX_CONCURRENT_STREAMS = 0x3;
export const SETTINGS_INITIAL_WINDOW_SIZE = 0x4;
export const SETTINGS_MAX_FRAME_SIZE = 0x5;
export const SETTINGS_MAX_HEADER_LIST_SIZE = 0x6;

/** Every client connection starts with these 24 octets (RFC 9113 section 3.4). */
export const CLIENT_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** A frame's payload size before the peer's SETTINGS says otherwise, and the most we accept. */
export const DEFAULT_MAX_FRAME_PAYLOAD_BYTES = 16_384;
/** Largest SETTINGS_MAX_FRAME_SIZE a peer may set (2^24 - 1). */
export const LARGEST_MAX_FRAME_PAYLOAD_BYTES = 16_777_215;
/** A window's initial size before SETTINGS (both directions) and the largest a window may be (2^31 - 1). */
export const DEFAULT_WINDOW_BYTES = 65_535;
export const LARGEST_WINDOW_BYTES = 2_147_483_647;

/** The HPACK dynamic table the client's encoder may use: the default, which we never change. */
export const HEADER_TABLE_BYTES = 4_096;
/** SETTINGS_MAX_HEADER_LIST_SIZE we advertise: name + value + 32 per field, per request. */
export const MAX_HEADER_LIST_BYTES = 64 * 1024;
/** A header block's compressed bytes held while its CONTINUATIONs arrive. */
export const MAX_HEADER_BLOCK_BYTES = MAX_HEADER_LIST_BYTES;
/** SETTINGS_MAX_CONCURRENT_STREAMS we advertise; a stream beyond it is refused (REFUSED_STREAM). */
export const MAX_CONCURRENT_STREAMS = 65_536;
/**
 * SETTINGS_INITIAL_WINDOW_SIZE we advertise: each stream may send this much before we replenish,
 * so a usual request never waits for a WINDOW_UPDATE.
 */
export const STREAM_RECEIVE_WINDOW_BYTES = 4 * 1024 * 1024;
/** The connection's receive window, raised to this at once with a WINDOW_UPDATE. */
export const CONNECTION_RECEIVE_WINDOW_BYTES = 32 * 1024 * 1024;
/**
 * How long the client has to acknowledge our SETTINGS before GOAWAY SETTINGS_TIMEOUT (RFC 9113
 * section 6.5.3 leaves "a reasonable amount of time" to us). A client acknowledges within one
 * round trip; Go's server gives a client 10 s for its preface, grpc-core waits a minute for its
 * own SETTINGS' ACK. 10 s also bounds a connection that never speaks.
 */
export const SETTINGS_ACK_TIMEOUT_MS = 10_000;
/** Bytes the socket may hold unsent before DATA waits for it to drain (writes to a slow client). */
export const SOCKET_HIGH_WATER_BYTES = 1024 * 1024;
/**
 * Bytes the socket may hold unsent when the client asks for another answer (a PING, SETTINGS, a
 * request, a frame we answer with RST_STREAM): a client that sends them without reading ours is
 * ended with ENHANCE_YOUR_CALM (a flood).
 */
export const SOCKET_FLOOD_BYTES = 16 * SOCKET_HIGH_WATER_BYTES;
/**
 * Streams the client may reset at once, and per second after that, before the connection ends
 * with ENHANCE_YOUR_CALM ("rapid reset", CVE-2023-44487: each stream opened costs the server a
 * call; nghttp2's defaults).
 */
export const CLIENT_RESETS_BURST = 1_000;
export const CLIENT_RESETS_PER_SECOND = 33;
