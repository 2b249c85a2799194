/**
 * The HPACK (RFC 7541) coding the connection uses, `hpack-decoder.ts` and `hpack-encoder.ts` (an
 * interface, so that tests can check the connection against another coding): a decoder per connection (its dynamic table follows the client's encoder), and an
 * encoder of literal fields without indexing (a block never touches the client's table, so one
 * block serves every connection and is made once per distinct header set).
 */
import type { OutgoingHttpHeaders } from 'node:http2';
import { HpackDecoder } from './hpack-decoder.js';
import { encodeHeaderBlock } from './hpack-encoder.js';

export interface HeaderBlockDecoder {
  /**
   * Calls `field` per decoded field, in order; throws on a malformed block (COMPRESSION_ERROR).
   * Answers false when the list went over its limit: the whole block was decoded (the table
   * follows the client), but the fields from the one over the limit on were not handed over.
   */
  decode(block: Uint8Array, field: (name: string, value: string) => void): boolean;
}

export interface HeaderCodec {
  newDecoder(maxTableBytes: number, maxListBytes: number): HeaderBlockDecoder;
  encode(fields: readonly (readonly [string, string])[]): Buffer;
}

/** MeshOS's own HPACK: the client port's. */
export const HPACK_CODEC: HeaderCodec = Object.freeze({
  newDecoder: (maxTableBytes: number, maxListBytes: number) => new HpackDecoder(maxTableBytes, maxListBytes),
  encode: encodeHeaderBlock,
});

/**
 * Header blocks of response headers and trailers. The server's usual ones (the response headers,
 * the OK trailers) are frozen objects shared by every call: their block is made once and kept.
 */
export class ResponseHeaderBlocks {
  private readonly frozenBlocks = new WeakMap<object, Buffer>();

  constructor(private readonly codec: HeaderCodec) {}

  blockOf(headers: OutgoingHttpHeaders): Buffer {
    const known = this.frozenBlocks.get(headers);
    if (known !== undefined) return known;
    const block = this.codec.encode(fieldsOf(headers));
    if (Object.isFrozen(headers)) this.frozenBlocks.set(headers, block);
    return block;
  }
}

/** Pseudo-header fields first (RFC 9113 section 8.3), then the rest; names lower case. */
function fieldsOf(headers: OutgoingHttpHeaders): [string, string][] {
  const pseudo: [string, string][] = [];
  const regular: [string, string][] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const into = name.startsWith(':') ? pseudo : regular;
    const lower = name.toLowerCase();
    if (Array.isArray(value)) for (const each of value) into.push([lower, String(each)]);
    else into.push([lower, String(value)]);
  }
  return pseudo.concat(regular);
}
