/**
 * Cuts a connection's incoming bytes (the client preface, then frames) into frames, as socket
 * chunks bring them: a frame may be split across chunks, and many may be packed in one. A frame
 * that lies whole in a chunk is handed over as a view of that chunk (no copy); only a frame split
 * across chunks is gathered into a buffer of its own. Frames larger than the SETTINGS_MAX_FRAME_SIZE
 * we advertise are a FRAME_SIZE_ERROR (RFC 9113 section 4.2); a wrong preface a PROTOCOL_ERROR.
 */
import { Http2ConnectionError } from './connection-error.js';
import {
  CLIENT_PREFACE,
  DEFAULT_MAX_FRAME_PAYLOAD_BYTES,
  FRAME_HEADER_BYTES,
  FRAME_SIZE_ERROR,
  PROTOCOL_ERROR,
} from './frame-types.js';

/** Where frames go; it may throw `Http2ConnectionError`, which ends the reading. */
export interface FrameSink {
  frame(type: number, flags: number, streamId: number, payload: Buffer): void;
}

const EMPTY = Buffer.alloc(0);

export class FrameReader {
  private prefaceMatched = 0;
  /** Frame header octets gathered when a header itself was split across chunks. */
  private readonly header = Buffer.alloc(FRAME_HEADER_BYTES);
  private headerFilled = 0;
  /** The payload being gathered, when the frame was split. */
  private payload: Buffer | undefined = undefined;
  private payloadFilled = 0;
  private type = 0;
  private flags = 0;
  private streamId = 0;
  /** Set by `stop()`: the rest of what arrives is dropped (the connection is closing). */
  private stopped = false;

  constructor(
    private readonly sink: FrameSink,
    private readonly maxPayloadBytes = DEFAULT_MAX_FRAME_PAYLOAD_BYTES,
  ) {}

  stop(): void {
    this.stopped = true;
  }

  /** Reads `chunk`; throws `Http2ConnectionError` (from here or from the sink). */
  push(chunk: Buffer): void {
    let offset = 0;
    if (this.prefaceMatched < CLIENT_PREFACE.length) offset = this.matchPreface(chunk);
    while (offset < chunk.length && !this.stopped) {
      const payload = this.payload;
      if (payload !== undefined) {
        const take = Math.min(payload.length - this.payloadFilled, chunk.length - offset);
        chunk.copy(payload, this.payloadFilled, offset, offset + take);
        this.payloadFilled += take;
        offset += take;
        if (this.payloadFilled === payload.length) {
          this.payload = undefined;
          this.sink.frame(this.type, this.flags, this.streamId, payload);
        }
        continue;
      }
      if (this.headerFilled === 0 && chunk.length - offset >= FRAME_HEADER_BYTES) {
        const length = this.readHeader(chunk, offset);
        const start = offset + FRAME_HEADER_BYTES;
        if (start + length <= chunk.length) {
          offset = start + length;
          this.sink.frame(this.type, this.flags, this.streamId, chunk.subarray(start, offset));
        } else {
          offset = start;
          this.startPayload(length);
        }
        continue;
      }
      const take = Math.min(FRAME_HEADER_BYTES - this.headerFilled, chunk.length - offset);
      chunk.copy(this.header, this.headerFilled, offset, offset + take);
      this.headerFilled += take;
      offset += take;
      if (this.headerFilled < FRAME_HEADER_BYTES) continue;
      this.headerFilled = 0;
      const length = this.readHeader(this.header, 0);
      if (length === 0) this.sink.frame(this.type, this.flags, this.streamId, EMPTY);
      else this.startPayload(length);
    }
  }

  /** Answers the offset after the preface octets in `chunk`. */
  private matchPreface(chunk: Buffer): number {
    let offset = 0;
    while (offset < chunk.length && this.prefaceMatched < CLIENT_PREFACE.length) {
      if (chunk[offset] !== CLIENT_PREFACE[this.prefaceMatched])
        throw new Http2ConnectionError(PROTOCOL_ERROR, 'the client preface is wrong');
      offset++;
      this.prefaceMatched++;
    }
    return offset;
  }

  /** Reads a frame header into the fields; answers its payload length. */
  private readHeader(bytes: Buffer, at: number): number {
    const length = (bytes[at]! << 16) | (bytes[at + 1]! << 8) | bytes[at + 2]!;
    this.type = bytes[at + 3]!;
    this.flags = bytes[at + 4]!;
    this.streamId = bytes.readUInt32BE(at + 5) & 0x7fff_ffff;
    if (length > this.maxPayloadBytes)
      throw new Http2ConnectionError(
        FRAME_SIZE_ERROR,
        `a frame of ${length} bytes, above the ${this.maxPayloadBytes} advertised`,
      );
    return length;
  }

  private startPayload(length: number): void {
    this.payload = Buffer.allocUnsafe(length);
    this.payloadFilled = 0;
  }
}
