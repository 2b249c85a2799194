/** A request message from its framed bytes: inflated when compressed, then the method's protobuf decoder. */
import { BAD_REQUEST_MESSAGE } from './call-start.js';
import { CallStatusError } from './call-status-error.js';
import { decompress } from './decompress.js';
import type { FramedMessage } from './message-framing.js';
import type { ServedMethod } from './served-methods.js';

/** Throws `CallStatusError` with the status that ends the call. */
export function decodeRequest(
  method: ServedMethod,
  message: FramedMessage,
  encoding: string | undefined,
  limitBytes: number,
): unknown {
  const bytes = message.compressed ? decompress(message.bytes, encoding, limitBytes) : message.bytes;
  try {
    return method.deserialize(bytes);
  } catch {
    throw new CallStatusError(BAD_REQUEST_MESSAGE);
  }
}
