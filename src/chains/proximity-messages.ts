/**
 * The proximity channel's two messages (after the channel byte): a ping carrying the sender's
 * clock reading, and a pong echoing it, so the sender measures the round trip without keeping
 * a table of pings in flight.
 */
import { dataViewOf } from '../lib/index.js';

export type ProximityMessage =
  | { readonly kind: 'ping'; readonly sentAtMs: number }
  | { readonly kind: 'pong'; readonly sentAtMs: number };

const KIND_PING = 1;
const KIND_PONG = 2;
/** Kind byte, then the sender's monotonic clock as a float64. */
const PROXIMITY_MESSAGE_BYTES = 9;

export function encodeProximityMessage(message: ProximityMessage): Uint8Array {
  const bytes = new Uint8Array(PROXIMITY_MESSAGE_BYTES);
  bytes[0] = message.kind === 'ping' ? KIND_PING : KIND_PONG;
  dataViewOf(bytes).setFloat64(1, message.sentAtMs);
  return bytes;
}

/** Undefined for anything that is not one of the two messages (it is ignored, not an error). */
export function decodeProximityMessage(bytes: Uint8Array): ProximityMessage | undefined {
  if (bytes.byteLength !== PROXIMITY_MESSAGE_BYTES) return undefined;
  const sentAtMs = dataViewOf(bytes).getFloat64(1);
  if (!Number.isFinite(sentAtMs)) return undefined;
  if (bytes[0] === KIND_PING) return { kind: 'ping', sentAtMs };
  if (bytes[0] === KIND_PONG) return { kind: 'pong', sentAtMs };
  return undefined;
}
