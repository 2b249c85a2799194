import { assert, dataViewOf, outgoingBytes } from '../lib/index.js';
import { FrameType, writeFrameHeader } from './frame.js';
import { FrameError } from './frame-error.js';
import {
  BATCH_COUNT_BYTES,
  BATCH_LENGTH_PREFIX_BYTES,
  FRAME_HEADER_BYTES,
  MAX_BATCH_MESSAGES,
  MAX_FRAME_PAYLOAD_BYTES,
} from './limits.js';

/** Payload bytes a batch frame needs for these messages. */
function batchPayloadBytes(messages: readonly Uint8Array[]): number {
  let total = BATCH_COUNT_BYTES;
  for (const message of messages) total += BATCH_LENGTH_PREFIX_BYTES + message.length;
  return total;
}

/**
 * Encodes messages as one complete frame, ready to write: a message frame for a single
 * message, a batch frame (count, then length-prefixed messages) for several.
 */
export function encodeMessagesFrame(messages: readonly Uint8Array[]): Uint8Array {
  assert(
    messages.length > 0 && messages.length <= MAX_BATCH_MESSAGES,
    `batch of ${messages.length} messages`,
  );
  // Frames are written to the socket and dropped: pooled memory, or a slab's for larger ones.
  if (messages.length === 1) {
    const message = messages[0]!;
    const bytes = outgoingBytes(FRAME_HEADER_BYTES + message.length);
    writeFrameHeader(bytes, 0, FrameType.message, 0, message.length);
    bytes.set(message, FRAME_HEADER_BYTES);
    return bytes;
  }
  const payloadBytes = batchPayloadBytes(messages);
  assert(payloadBytes <= MAX_FRAME_PAYLOAD_BYTES, `batch payload ${payloadBytes} B exceeds one frame`);
  const bytes = outgoingBytes(FRAME_HEADER_BYTES + payloadBytes);
  const view = dataViewOf(bytes);
  writeFrameHeader(bytes, 0, FrameType.batch, 0, payloadBytes);
  let offset = FRAME_HEADER_BYTES;
  view.setUint32(offset, messages.length);
  offset += BATCH_COUNT_BYTES;
  for (const message of messages) {
    view.setUint32(offset, message.length);
    offset += BATCH_LENGTH_PREFIX_BYTES;
    bytes.set(message, offset);
    offset += message.length;
  }
  return bytes;
}

/** Splits a batch frame's payload into its messages (views into `payload`, not copies). */
export function decodeBatch(payload: Uint8Array): Uint8Array[] {
  if (payload.length < BATCH_COUNT_BYTES) {
    throw new FrameError('bad-batch', `batch payload of ${payload.length} B is shorter than its count field`);
  }
  const view = new DataView(payload.buffer, payload.byteOffset, payload.length);
  const count = view.getUint32(0);
  if (count === 0 || count > MAX_BATCH_MESSAGES) {
    throw new FrameError('bad-batch', `batch declares ${count} messages, allowed 1..${MAX_BATCH_MESSAGES}`, {
      count,
    });
  }
  // Each message needs at least its length prefix: reject impossible counts before looping.
  if (count * BATCH_LENGTH_PREFIX_BYTES > payload.length - BATCH_COUNT_BYTES) {
    throw new FrameError('bad-batch', `batch declares ${count} messages but holds only ${payload.length} B`, {
      count,
    });
  }
  const messages: Uint8Array[] = [];
  let offset = BATCH_COUNT_BYTES;
  for (let index = 0; index < count; index++) {
    if (offset + BATCH_LENGTH_PREFIX_BYTES > payload.length) {
      throw new FrameError('bad-batch', `batch message ${index} has no length prefix`, { index });
    }
    const length = view.getUint32(offset);
    offset += BATCH_LENGTH_PREFIX_BYTES;
    if (length > payload.length - offset) {
      throw new FrameError(
        'bad-batch',
        `batch message ${index} claims ${length} B, only ${payload.length - offset} B remain`,
        {
          index,
          length,
        },
      );
    }
    messages.push(payload.subarray(offset, offset + length));
    offset += length;
  }
  if (offset !== payload.length) {
    throw new FrameError('bad-batch', `${payload.length - offset} B trailing after the last batch message`);
  }
  return messages;
}
