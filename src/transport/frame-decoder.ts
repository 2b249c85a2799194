import { assert } from '../lib/index.js';
import { checkFrameHeader, type Frame, type FrameType } from './frame.js';
import { FrameError } from './frame-error.js';
import { FRAME_HEADER_BYTES, MAX_FRAME_PAYLOAD_BYTES } from './limits.js';

/**
 * Where the decoder is inside the byte stream. `header` collects the fixed-size header;
 * `payload` fills a buffer whose size was checked against the limit first; `failed` and
 * `closed` are terminal.
 */
type DecoderState =
  | { readonly kind: 'header'; filled: number }
  | {
      readonly kind: 'payload';
      readonly type: FrameType;
      readonly flags: number;
      readonly payload: Uint8Array;
      filled: number;
    }
  | { readonly kind: 'failed'; readonly error: FrameError }
  | { readonly kind: 'closed' };

/**
 * Turns a byte stream cut at arbitrary points back into frames. Memory held is the header
 * buffer plus at most one payload of `maxPayloadBytes`; any malformed input raises a
 * `FrameError`, after which the decoder stays failed (the connection must be closed).
 *
 * A frame that lies whole inside one chunk comes out as a view of that chunk, not a copy: a
 * buffer of its own per received frame was one more ArrayBuffer for the GC to sweep. That is
 * sound because a `ByteStream` hands each chunk over for good (it never writes to it again); a
 * receiver that keeps a payload keeps the chunk alive, as it kept the copy before. Only a frame
 * split across chunks is gathered into a buffer of its own.
 */
export class FrameDecoder {
  private readonly header = new Uint8Array(FRAME_HEADER_BYTES);
  private state: DecoderState = { kind: 'header', filled: 0 };

  private maxPayloadBytes: number;

  constructor(maxPayloadBytes: number = MAX_FRAME_PAYLOAD_BYTES) {
    this.maxPayloadBytes = FrameDecoder.checkedLimit(maxPayloadBytes);
  }

  /**
   * Changes the payload limit for frames whose header has not been read yet. A connection
   * starts with a handshake-sized limit, so a stranger cannot make it hold megabytes.
   */
  setMaxPayloadBytes(maxPayloadBytes: number): void {
    this.maxPayloadBytes = FrameDecoder.checkedLimit(maxPayloadBytes);
  }

  private static checkedLimit(maxPayloadBytes: number): number {
    assert(
      Number.isInteger(maxPayloadBytes) && maxPayloadBytes >= 0 && maxPayloadBytes <= MAX_FRAME_PAYLOAD_BYTES,
      `decoder payload limit ${maxPayloadBytes} out of range`,
    );
    return maxPayloadBytes;
  }

  /** Bytes held for a frame not yet complete. */
  bufferedBytes(): number {
    const state = this.state;
    if (state.kind === 'header') return state.filled;
    if (state.kind === 'payload') return FRAME_HEADER_BYTES + state.filled;
    return 0;
  }

  /** Feeds one chunk; yields every frame it completes, in order. */
  *push(chunk: Uint8Array): Generator<Frame, void, undefined> {
    let offset = 0;
    while (offset < chunk.length) {
      const state = this.state;
      switch (state.kind) {
        case 'failed':
          throw state.error;
        case 'closed':
          throw this.fail(new FrameError('decoder-failed', 'bytes arrived after the stream was closed'));
        case 'header': {
          if (state.filled === 0) {
            const whole = this.wholeFrameAt(chunk, offset);
            if (whole !== undefined) {
              offset += FRAME_HEADER_BYTES + whole.payload.length;
              yield whole;
              break;
            }
          }
          const taken = Math.min(FRAME_HEADER_BYTES - state.filled, chunk.length - offset);
          this.header.set(chunk.subarray(offset, offset + taken), state.filled);
          state.filled += taken;
          offset += taken;
          if (state.filled < FRAME_HEADER_BYTES) break;
          let checked: ReturnType<typeof checkFrameHeader>;
          try {
            checked = checkFrameHeader(this.header, this.maxPayloadBytes);
          } catch (error) {
            throw this.fail(error as FrameError);
          }
          if (checked.payloadBytes === 0) {
            this.state = { kind: 'header', filled: 0 };
            yield { type: checked.type, flags: checked.flags, payload: new Uint8Array(0) };
          } else {
            this.state = {
              kind: 'payload',
              type: checked.type,
              flags: checked.flags,
              payload: new Uint8Array(checked.payloadBytes),
              filled: 0,
            };
          }
          break;
        }
        case 'payload': {
          const taken = Math.min(state.payload.length - state.filled, chunk.length - offset);
          state.payload.set(chunk.subarray(offset, offset + taken), state.filled);
          state.filled += taken;
          offset += taken;
          if (state.filled === state.payload.length) {
            this.state = { kind: 'header', filled: 0 };
            yield { type: state.type, flags: state.flags, payload: state.payload };
          }
          break;
        }
      }
    }
  }

  /**
   * The frame starting at `offset` when its header and whole payload are in `chunk` (its payload
   * a view of the chunk); undefined when it runs past the chunk's end.
   */
  private wholeFrameAt(chunk: Uint8Array, offset: number): Frame | undefined {
    if (chunk.length - offset < FRAME_HEADER_BYTES) return undefined;
    let checked: ReturnType<typeof checkFrameHeader>;
    try {
      checked = checkFrameHeader(chunk, this.maxPayloadBytes, offset);
    } catch (error) {
      throw this.fail(error as FrameError);
    }
    const start = offset + FRAME_HEADER_BYTES;
    const end = start + checked.payloadBytes;
    if (end > chunk.length) return undefined;
    // A plain Uint8Array even over a Buffer (as sockets give): a Buffer's `slice` is a view,
    // and decoders that copy with `slice` (`BinaryReader.bytesCopy`) must get a copy.
    const payload = new Uint8Array(chunk.buffer, chunk.byteOffset + start, checked.payloadBytes);
    return { type: checked.type, flags: checked.flags, payload };
  }

  /** The stream ended: a partial frame left over is a truncation. */
  finish(): void {
    const state = this.state;
    if (state.kind === 'failed') throw state.error;
    const buffered = this.bufferedBytes();
    this.state = { kind: 'closed' };
    if (buffered > 0) {
      throw this.fail(
        new FrameError(
          'truncated',
          state.kind === 'header'
            ? `stream ended inside a frame header (${buffered} of ${FRAME_HEADER_BYTES} B)`
            : `stream ended inside a frame payload (${buffered - FRAME_HEADER_BYTES} B received)`,
          { bufferedBytes: buffered },
        ),
      );
    }
  }

  private fail(error: FrameError): FrameError {
    this.state = { kind: 'failed', error };
    return error;
  }
}
