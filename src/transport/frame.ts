import { assert } from '../lib/index.js';
import { FrameError } from './frame-error.js';
import { FRAME_HEADER_BYTES, FRAME_MAGIC, MAX_FRAME_PAYLOAD_BYTES, PROTOCOL_VERSION } from './limits.js';

/** Frame types. Values are on the wire: never renumber. */
export const FrameType = {
  handshake: 1,
  message: 2,
  batch: 3,
  /** An acceptor's answer to a handshake it refuses for a reason the dialer must act on; then it closes. */
  refusal: 4,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

/** Flag bits a sender may set. None are defined yet; any set bit is refused so they stay usable later. */
const KNOWN_FRAME_FLAGS = 0;

export interface Frame {
  readonly type: FrameType;
  readonly flags: number;
  readonly payload: Uint8Array;
}

function isFrameType(value: number): value is FrameType {
  return (
    value === FrameType.handshake ||
    value === FrameType.message ||
    value === FrameType.batch ||
    value === FrameType.refusal
  );
}

/** Writes a frame header for `payloadBytes` at `offset` of `target`. */
export function writeFrameHeader(
  target: Uint8Array,
  offset: number,
  type: FrameType,
  flags: number,
  payloadBytes: number,
): void {
  assert(
    payloadBytes >= 0 && payloadBytes <= MAX_FRAME_PAYLOAD_BYTES,
    `frame payload ${payloadBytes} B too large`,
  );
  assert((flags & ~KNOWN_FRAME_FLAGS) === 0, `unknown frame flags ${flags}`);
  target[offset] = FRAME_MAGIC;
  target[offset + 1] = PROTOCOL_VERSION;
  target[offset + 2] = type;
  target[offset + 3] = flags;
  new DataView(target.buffer, target.byteOffset + offset + 4, 4).setUint32(0, payloadBytes);
}

/** Encodes one frame into a fresh buffer. */
export function encodeFrame(frame: Frame): Uint8Array {
  const bytes = new Uint8Array(FRAME_HEADER_BYTES + frame.payload.length);
  writeFrameHeader(bytes, 0, frame.type, frame.flags, frame.payload.length);
  bytes.set(frame.payload, FRAME_HEADER_BYTES);
  return bytes;
}

/**
 * The checks a decoder runs on a complete header (at `offset` of `header`), before it allocates
 * anything for the payload.
 */
export function checkFrameHeader(
  header: Uint8Array,
  maxPayloadBytes: number,
  offset = 0,
): { type: FrameType; flags: number; payloadBytes: number } {
  const magic = header[offset] ?? 0;
  const version = header[offset + 1] ?? 0;
  const type = header[offset + 2] ?? 0;
  const flags = header[offset + 3] ?? 0;
  if (magic !== FRAME_MAGIC) {
    throw new FrameError(
      'bad-magic',
      `first byte is 0x${magic.toString(16)}, expected 0x${FRAME_MAGIC.toString(16)}`,
    );
  }
  if (version !== PROTOCOL_VERSION) {
    throw new FrameError('bad-version', `protocol version ${version}, this node speaks ${PROTOCOL_VERSION}`, {
      version,
    });
  }
  if (!isFrameType(type)) throw new FrameError('unknown-type', `frame type ${type} is not known`, { type });
  if ((flags & ~KNOWN_FRAME_FLAGS) !== 0) {
    throw new FrameError('bad-flags', `frame flags 0x${flags.toString(16)} set unknown bits`, { flags });
  }
  // Big-endian u32 by hand: a DataView per received frame would be one more heap object.
  const payloadBytes =
    ((header[offset + 4] ?? 0) * 0x1000000 +
      (((header[offset + 5] ?? 0) << 16) | ((header[offset + 6] ?? 0) << 8) | (header[offset + 7] ?? 0))) >>>
    0;
  if (payloadBytes > maxPayloadBytes) {
    throw new FrameError(
      'oversized',
      `payload of ${payloadBytes} B exceeds the limit of ${maxPayloadBytes} B`,
      {
        payloadBytes,
        maxPayloadBytes,
      },
    );
  }
  return { type, flags, payloadBytes };
}
