/**
 * Reads the client's side of one HTTP/2 connection before Node's HTTP/2 server sees it, to find
 * requests whose `:authority` Node would reset (see `authority.ts`) and rewrite their header
 * blocks. Pure: bytes in, bytes out, and a verdict for the client port:
 *
 * - `native`: nothing needs rewriting; the port hands the socket itself to the HTTP/2 server
 *   (no per-request cost from here on);
 * - `repair`: a bad authority was seen (or the connection could not be judged); every later
 *   header block goes through `push`, decoded and re-encoded, for the connection's lifetime;
 * - `wait`: keep reading.
 *
 * The client port answers the connection with an empty SETTINGS frame of its own (clients wait
 * for the server's SETTINGS before their first request); the client's acknowledgement of it is
 * removed here, since Node's server never sent it. Header blocks are decoded in order, so the
 * decoder's table follows the client's encoder; blocks passed unchanged keep the server's table
 * equal to the client's, and rewritten blocks use no table at all, so nothing gets out of step.
 */

import { MeshError } from '../lib/index.js';
import { isValidAuthority, repairAuthority } from './authority.js';
import { ClientHeaderDecoder, encodeWithoutIndexing, type Header } from './header-block.js';
import {
  CLIENT_PREFACE,
  DEFAULT_MAX_FRAME_PAYLOAD_BYTES,
  FLAG_ACK,
  FLAG_END_HEADERS,
  FLAG_END_STREAM,
  FLAG_PADDED,
  FLAG_PRIORITY,
  FRAME_HEADER_BYTES,
  FRAME_TYPE_CONTINUATION,
  FRAME_TYPE_HEADERS,
  FRAME_TYPE_SETTINGS,
  type FrameHeader,
  frame,
  PRIORITY_FIELDS_BYTES,
  readFrameHeader,
} from './http2-frames.js';

/** Largest header block (all its frames) held while it is read; a bigger one ends the connection. */
export const MAX_HEADER_BLOCK_BYTES = 64 * 1024;

/** Frames that only set a connection up; anything else shows the client is past its handshake. */
const HANDSHAKE_FRAME_TYPES: ReadonlySet<number> = new Set([FRAME_TYPE_SETTINGS, 0x8 /* WINDOW_UPDATE */]);

export type FilterVerdict = 'wait' | 'native' | 'repair';

export class Http2FramingError extends MeshError {
  constructor(problem: string) {
    super('HTTP2_PROTOCOL_ERROR', `client connection: ${problem}`, { details: { problem } });
  }
}

interface OpenBlock {
  readonly streamId: number;
  readonly endStream: boolean;
  readonly priority: Uint8Array | undefined;
  readonly frames: Uint8Array[];
  readonly fragments: Uint8Array[];
  bytes: number;
}

export class ClientStreamFilter {
  private prefaceOctetsSeen = 0;
  private notHttp2 = false;
  /** A frame header, or a HEADERS/CONTINUATION frame, still being read. */
  private partial: Uint8Array = new Uint8Array(0);
  private partialHeader: FrameHeader | undefined;
  /** Payload octets of the current frame still to copy through (or drop). */
  private copyRemaining = 0;
  private dropping = false;
  private block: OpenBlock | undefined;
  private readonly decoder = new ClientHeaderDecoder();
  private ownSettingsAcknowledged = false;
  private pastHandshake = false;
  private repairing = false;

  /** Feeds the client's bytes; returns the bytes to hand to the HTTP/2 server, in order. */
  push(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let offset = 0;
    while (offset < chunk.byteLength) {
      if (this.notHttp2) {
        out.push(chunk.subarray(offset));
        break;
      }
      if (this.prefaceOctetsSeen < CLIENT_PREFACE.byteLength) offset = this.readPreface(chunk, offset, out);
      else if (this.copyRemaining > 0) offset = this.copyPayload(chunk, offset, out);
      else offset = this.readFrame(chunk, offset, out);
    }
    return out;
  }

  verdict(): FilterVerdict {
    if (this.notHttp2) return 'native';
    if (this.repairing) return 'repair';
    return this.ownSettingsAcknowledged && this.pastHandshake ? 'native' : 'wait';
  }

  /** The client acknowledged the port's SETTINGS frame (handing over natively is safe). */
  get settingsAcknowledged(): boolean {
    return this.ownSettingsAcknowledged || this.notHttp2;
  }

  /** Rewrites every header block from now on (for a connection that could not be judged in time). */
  startRepairing(): void {
    this.repairing = true;
  }

  /** The octets read but not yet returned, unchanged: for handing the connection over natively. */
  takeUnprocessed(): Uint8Array[] {
    const held = [...(this.block?.frames ?? []), this.partial];
    this.block = undefined;
    this.partial = new Uint8Array(0);
    this.partialHeader = undefined;
    return held.filter((bytes) => bytes.byteLength > 0);
  }

  /** Copies the preface through; anything else means a client without HTTP/2 prior knowledge. */
  private readPreface(chunk: Uint8Array, offset: number, out: Uint8Array[]): number {
    const start = offset;
    while (offset < chunk.byteLength && this.prefaceOctetsSeen < CLIENT_PREFACE.byteLength) {
      if (chunk[offset] !== CLIENT_PREFACE[this.prefaceOctetsSeen]) {
        // Nothing here to judge: the server answers it as it did without the port.
        this.notHttp2 = true;
        break;
      }
      this.prefaceOctetsSeen += 1;
      offset += 1;
    }
    out.push(chunk.subarray(start, offset));
    return offset;
  }

  private copyPayload(chunk: Uint8Array, offset: number, out: Uint8Array[]): number {
    const end = Math.min(chunk.byteLength, offset + this.copyRemaining);
    if (!this.dropping) out.push(chunk.subarray(offset, end));
    this.copyRemaining -= end - offset;
    return end;
  }

  private readFrame(chunk: Uint8Array, offset: number, out: Uint8Array[]): number {
    const header = this.partialHeader;
    const wanted = header === undefined ? FRAME_HEADER_BYTES : FRAME_HEADER_BYTES + header.length;
    const take = Math.min(wanted - this.partial.byteLength, chunk.byteLength - offset);
    this.partial = concat([this.partial, chunk.subarray(offset, offset + take)]);
    offset += take;
    if (this.partial.byteLength < wanted) return offset;
    if (header === undefined) this.startFrame(readFrameHeader(this.partial), out);
    else this.finishHeaderFrame(header, this.partial, out);
    return offset;
  }

  private startFrame(header: FrameHeader, out: Uint8Array[]): void {
    if (this.block !== undefined && header.type !== FRAME_TYPE_CONTINUATION) {
      throw new Http2FramingError(`a frame of type ${header.type} inside a header block`);
    }
    if (header.type === FRAME_TYPE_HEADERS || header.type === FRAME_TYPE_CONTINUATION) {
      const held = (this.block?.bytes ?? 0) + FRAME_HEADER_BYTES + header.length;
      if (held > MAX_HEADER_BLOCK_BYTES) {
        throw new Http2FramingError(`a header block longer than ${MAX_HEADER_BLOCK_BYTES} bytes`);
      }
      this.partialHeader = header;
      if (header.length === 0) this.finishHeaderFrame(header, this.partial, out);
      return;
    }
    const isOwnAcknowledgement =
      header.type === FRAME_TYPE_SETTINGS && (header.flags & FLAG_ACK) !== 0 && !this.ownSettingsAcknowledged;
    if (isOwnAcknowledgement) this.ownSettingsAcknowledged = true;
    else out.push(this.partial);
    if (!HANDSHAKE_FRAME_TYPES.has(header.type)) this.pastHandshake = true;
    this.dropping = isOwnAcknowledgement;
    this.copyRemaining = header.length;
    this.partial = new Uint8Array(0);
  }

  private finishHeaderFrame(header: FrameHeader, bytes: Uint8Array, out: Uint8Array[]): void {
    this.partial = new Uint8Array(0);
    this.partialHeader = undefined;
    const payload = bytes.subarray(FRAME_HEADER_BYTES);
    if (header.type === FRAME_TYPE_HEADERS) {
      this.block = { ...headersFields(header, payload), frames: [], fragments: [], bytes: 0 };
      this.block.fragments.push(headersFragment(header, payload));
    } else {
      if (this.block === undefined || this.block.streamId !== header.streamId) {
        throw new Http2FramingError('a CONTINUATION frame outside a header block');
      }
      this.block.fragments.push(payload);
    }
    this.block.frames.push(bytes);
    this.block.bytes += bytes.byteLength;
    if ((header.flags & FLAG_END_HEADERS) !== 0) this.finishBlock(this.block, out);
  }

  private finishBlock(block: OpenBlock, out: Uint8Array[]): void {
    this.block = undefined;
    this.pastHandshake = true;
    const headers = this.decoder.decode(concat(block.fragments));
    if (headers.some(isBadAuthority)) this.repairing = true;
    if (!this.repairing) {
      out.push(...block.frames);
      return;
    }
    out.push(...headersFrames(block, encodeWithoutIndexing(headers.flatMap(repaired))));
  }
}

function isAuthorityHeader(header: Header): boolean {
  return header.name === ':authority' || header.name === 'host';
}

function isBadAuthority(header: Header): boolean {
  return isAuthorityHeader(header) && !isValidAuthority(header.value);
}

function repaired(header: Header): Header[] {
  if (!isBadAuthority(header)) return [header];
  const value = repairAuthority(header.value);
  return value === undefined ? [] : [{ ...header, value }];
}

function headersFields(
  header: FrameHeader,
  payload: Uint8Array,
): Pick<OpenBlock, 'streamId' | 'endStream' | 'priority'> {
  const padded = (header.flags & FLAG_PADDED) !== 0 ? 1 : 0;
  const hasPriority = (header.flags & FLAG_PRIORITY) !== 0;
  return {
    streamId: header.streamId,
    endStream: (header.flags & FLAG_END_STREAM) !== 0,
    priority: hasPriority ? payload.slice(padded, padded + PRIORITY_FIELDS_BYTES) : undefined,
  };
}

/** The header block fragment of a HEADERS frame: without its padding and priority fields. */
function headersFragment(header: FrameHeader, payload: Uint8Array): Uint8Array {
  const padded = (header.flags & FLAG_PADDED) !== 0;
  const padLength = padded ? (payload[0] ?? 0) : 0;
  const start = (padded ? 1 : 0) + ((header.flags & FLAG_PRIORITY) !== 0 ? PRIORITY_FIELDS_BYTES : 0);
  const end = payload.byteLength - padLength;
  if (end < start) throw new Http2FramingError('a HEADERS frame whose padding exceeds its payload');
  return payload.subarray(start, end);
}

/** A header block as one HEADERS frame and as many CONTINUATION frames as the frame size needs. */
function headersFrames(block: OpenBlock, encoded: Uint8Array): Uint8Array[] {
  const priority = block.priority ?? new Uint8Array(0);
  const first = Math.min(encoded.byteLength, DEFAULT_MAX_FRAME_PAYLOAD_BYTES - priority.byteLength);
  const frames: Uint8Array[] = [];
  let flags = (block.endStream ? FLAG_END_STREAM : 0) | (block.priority === undefined ? 0 : FLAG_PRIORITY);
  let type = FRAME_TYPE_HEADERS;
  let payload = concat([priority, encoded.subarray(0, first)]);
  for (let offset = first; ; offset += DEFAULT_MAX_FRAME_PAYLOAD_BYTES) {
    const last = offset >= encoded.byteLength;
    frames.push(
      frame(
        {
          length: payload.byteLength,
          type,
          flags: last ? flags | FLAG_END_HEADERS : flags,
          streamId: block.streamId,
        },
        payload,
      ),
    );
    if (last) return frames;
    flags = 0;
    type = FRAME_TYPE_CONTINUATION;
    payload = encoded.subarray(
      offset,
      Math.min(encoded.byteLength, offset + DEFAULT_MAX_FRAME_PAYLOAD_BYTES),
    );
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}
