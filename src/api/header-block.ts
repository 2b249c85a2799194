/**
 * HPACK (RFC 7541) through `hpack.js`: decoding the client's header blocks with a table that
 * follows the client's encoder, and encoding repaired blocks so that they never touch the
 * server's dynamic table (static-table references and literals without indexing only).
 */
import hpack from 'hpack.js';
import { MeshError } from '../lib/index.js';
import { HEADER_TABLE_BYTES } from './http2/frame-types.js';

/** The dynamic table a client's encoder may use (the SETTINGS default, which no server here changes). */
export { HEADER_TABLE_BYTES };

export class HeaderBlockError extends MeshError {
  constructor(cause: Error) {
    super('HTTP2_COMPRESSION_ERROR', `a request header block does not decode: ${cause.message}`, { cause });
  }
}

/** One header field; names and values are byte strings (one character per octet). */
export interface Header {
  readonly name: string;
  readonly value: string;
  /** Sent as never indexed (a sensitive value); kept so when re-encoded. */
  readonly neverIndex?: boolean;
}

/** Decodes one connection's header blocks, in order (the table carries over between blocks). */
export class ClientHeaderDecoder {
  private readonly decompressor = hpack.decompressor.create({ table: { maxSize: HEADER_TABLE_BYTES } });
  private failure: Error | undefined;

  constructor() {
    this.decompressor.on('error', (error) => {
      this.failure = error;
    });
  }

  /** Rejects a malformed block with `HeaderBlockError`; the decoder is unusable afterwards. */
  decode(block: Uint8Array): Header[] {
    if (this.failure !== undefined) throw new HeaderBlockError(this.failure);
    this.decompressor.write(block);
    this.decompressor.execute();
    if (this.failure !== undefined) throw new HeaderBlockError(this.failure);
    const headers: Header[] = [];
    for (let header = this.decompressor.read(); header !== null; header = this.decompressor.read()) {
      headers.push(header);
    }
    return headers;
  }
}

/** Never adds to a table, so one encoder serves every connection. */
const tablelessEncoder = hpack.compressor.create({ table: { maxSize: HEADER_TABLE_BYTES } });

/** A header block that leaves the receiver's dynamic table as it was. */
export function encodeWithoutIndexing(headers: readonly Header[]): Uint8Array {
  tablelessEncoder.write(
    headers.map((header) => ({
      name: header.name,
      value: header.value,
      neverIndex: header.neverIndex === true,
      incremental: false,
      huffman: false,
    })),
  );
  return tablelessEncoder.read() ?? new Uint8Array(0);
}
