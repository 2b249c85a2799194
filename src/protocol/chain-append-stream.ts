/**
 * The bounds of one `meshos.v1.Chains/AppendStream` call, the same on both sides: a client sends
 * no more than these (an append beyond waits for room), and a node stops reading a stream that
 * holds more (so HTTP/2 flow control holds a client that ignores them). An append counts from
 * the moment it is sent until its answer is handed to the connection.
 */

/** Appends sent on one stream and not yet answered. */
export const MAX_APPEND_STREAM_IN_FLIGHT_APPENDS = 256;

/** Payload bytes of the appends sent on one stream and not yet answered (one larger append may go alone). */
export const MAX_APPEND_STREAM_IN_FLIGHT_BYTES = 8 * 1024 * 1024;

/**
 * Payload bytes of one append sent on a stream. Larger appends go as unary `Append` calls: a
 * message the node refuses for its size would end the stream, and every append in flight on it
 * with an unknown outcome.
 */
export const MAX_STREAMED_APPEND_BYTES = 1024 * 1024;
