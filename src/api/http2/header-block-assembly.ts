/**
 * A header block as it arrives (RFC 9113 section 4.3): one HEADERS frame, and CONTINUATION frames
 * until END_HEADERS. A block in one frame is handed over as a view of that frame; a block in
 * several is copied as it comes (the frames are views of socket chunks) and joined at its end.
 * While a block is open, any other frame is a connection error (the caller checks).
 */
import { Http2ConnectionError } from './connection-error.js';
import { unpadded } from './frame-padding.js';
import {
  ENHANCE_YOUR_CALM,
  FLAG_END_HEADERS,
  FLAG_END_STREAM,
  FLAG_PRIORITY,
  FRAME_SIZE_ERROR,
  MAX_HEADER_BLOCK_BYTES,
} from './frame-types.js';

/** Where a complete header block goes. */
export type HeaderBlockSink = (streamId: number, endStream: boolean, block: Buffer) => void;

/** A header block being read across HEADERS and CONTINUATION frames. */
interface OpenHeaderBlock {
  readonly streamId: number;
  readonly endStream: boolean;
  readonly fragments: Buffer[];
  bytes: number;
}

export class HeaderBlockAssembly {
  private open: OpenHeaderBlock | undefined = undefined;

  constructor(private readonly sink: HeaderBlockSink) {}

  /** The stream whose block waits for CONTINUATION frames, or undefined. */
  get openStreamId(): number | undefined {
    return this.open?.streamId;
  }

  headers(flags: number, streamId: number, payload: Buffer): void {
    let fragment = unpadded(flags, payload);
    if ((flags & FLAG_PRIORITY) !== 0) {
      if (fragment.length < 5)
        throw new Http2ConnectionError(FRAME_SIZE_ERROR, 'HEADERS too short for its priority');
      fragment = fragment.subarray(5);
    }
    const endStream = (flags & FLAG_END_STREAM) !== 0;
    if ((flags & FLAG_END_HEADERS) !== 0) {
      this.sink(streamId, endStream, fragment);
      return;
    }
    this.open = { streamId, endStream, fragments: [Buffer.from(fragment)], bytes: fragment.length };
  }

  /** A CONTINUATION of the open block (the caller checked there is one, on its stream). */
  continuation(flags: number, payload: Buffer): void {
    const open = this.open!;
    open.bytes += payload.length;
    // Compressed bytes are held before they can be decoded: past this it is not a request we take.
    if (open.bytes > MAX_HEADER_BLOCK_BYTES)
      throw new Http2ConnectionError(ENHANCE_YOUR_CALM, 'a header block too large');
    open.fragments.push(Buffer.from(payload));
    if ((flags & FLAG_END_HEADERS) === 0) return;
    this.open = undefined;
    this.sink(open.streamId, open.endStream, Buffer.concat(open.fragments));
  }
}
