/**
 * Gathers the frames a connection sends in one turn into as few buffers as it can: frame headers
 * and small payloads are copied into one growing chunk; a large payload (a big DATA) is kept as
 * the caller's buffer, behind the header written in the chunk. The connection takes the pieces
 * once per turn and writes them to the socket together.
 */
import {
  FRAME_GOAWAY,
  FRAME_HEADER_BYTES,
  FRAME_PING,
  FRAME_RST_STREAM,
  FRAME_SETTINGS,
  FRAME_WINDOW_UPDATE,
} from './frame-types.js';

/** Size of each chunk frames are copied into. */
const CHUNK_BYTES = 64 * 1024;
/** Payloads up to this are copied into the chunk; larger ones go out as their own buffer. */
const COPY_LIMIT_BYTES = 4 * 1024;

export class FrameWriter {
  private chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  /** The part of `chunk` from `start` to `used` holds frames not yet taken. */
  private start = 0;
  private used = 0;
  private pieces: Buffer[] = [];
  /** Bytes written and not yet taken. */
  pendingBytes = 0;

  /** Adds one frame: its header, then `payload` from `from` to `to`. */
  frame(
    type: number,
    flags: number,
    streamId: number,
    payload?: Buffer,
    from = 0,
    to = payload?.length ?? 0,
  ): void {
    const length = to - from;
    const copied = length <= COPY_LIMIT_BYTES;
    this.room(FRAME_HEADER_BYTES + (copied ? length : 0));
    const chunk = this.chunk;
    let at = this.used;
    chunk[at++] = (length >>> 16) & 0xff;
    chunk[at++] = (length >>> 8) & 0xff;
    chunk[at++] = length & 0xff;
    chunk[at++] = type;
    chunk[at++] = flags;
    chunk.writeUInt32BE(streamId, at);
    at += 4;
    if (length > 0 && payload !== undefined) {
      if (copied) {
        payload.copy(chunk, at, from, to);
        at += length;
      } else {
        this.used = at;
        this.cut();
        this.pieces.push(Buffer.from(payload.buffer, payload.byteOffset + from, length));
        this.pendingBytes += FRAME_HEADER_BYTES + length;
        return;
      }
    }
    this.used = at;
    this.pendingBytes += FRAME_HEADER_BYTES + length;
  }

  /** A frame whose payload is one 32-bit value (RST_STREAM, WINDOW_UPDATE). */
  private frameOf32(type: number, streamId: number, value: number): void {
    this.room(FRAME_HEADER_BYTES + 4);
    this.frame(type, 0, streamId);
    const at = this.used - FRAME_HEADER_BYTES;
    this.chunk[at + 2] = 4;
    this.chunk.writeUInt32BE(value, this.used);
    this.used += 4;
    this.pendingBytes += 4;
  }

  rstStream(streamId: number, errorCode: number): void {
    this.frameOf32(FRAME_RST_STREAM, streamId, errorCode);
  }

  windowUpdate(streamId: number, increment: number): void {
    this.frameOf32(FRAME_WINDOW_UPDATE, streamId, increment);
  }

  goaway(lastStreamId: number, errorCode: number): void {
    const payload = Buffer.allocUnsafe(8);
    payload.writeUInt32BE(lastStreamId, 0);
    payload.writeUInt32BE(errorCode, 4);
    this.frame(FRAME_GOAWAY, 0, 0, payload);
  }

  pingAck(payload: Buffer): void {
    this.frame(FRAME_PING, 0x1, 0, payload);
  }

  /** A SETTINGS frame with `[identifier, value]` pairs, or an acknowledgement (no pairs, ACK). */
  settings(pairs: readonly (readonly [number, number])[], ack = false): void {
    const payload = Buffer.allocUnsafe(pairs.length * 6);
    pairs.forEach(([identifier, value], index) => {
      payload.writeUInt16BE(identifier, index * 6);
      payload.writeUInt32BE(value, index * 6 + 2);
    });
    this.frame(FRAME_SETTINGS, ack ? 0x1 : 0, 0, payload);
  }

  /** Every buffer written since the last take, in order; the writer starts over empty. */
  take(): Buffer[] {
    this.cut();
    const pieces = this.pieces;
    this.pieces = [];
    this.pendingBytes = 0;
    return pieces;
  }

  /** Makes `bytes` of room at `used`, in a new chunk when this one is full. */
  private room(bytes: number): void {
    if (this.used + bytes <= this.chunk.length) return;
    this.cut();
    this.chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, bytes));
    this.start = 0;
    this.used = 0;
  }

  /** Moves the chunk's frames written so far to the pieces (the chunk's later bytes stay free). */
  private cut(): void {
    if (this.used === this.start) return;
    this.pieces.push(this.chunk.subarray(this.start, this.used));
    this.start = this.used;
  }
}
