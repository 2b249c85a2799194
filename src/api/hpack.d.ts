/** The parts of `hpack.js` (RFC 7541 HPACK) that the client port uses; the package ships no types. */
declare module 'hpack.js' {
  export interface HpackHeader {
    /** Names and values are byte strings: one character per octet. */
    readonly name: string;
    readonly value: string;
    readonly neverIndex?: boolean;
    /** false: a literal without indexing, so the peer's dynamic table is left alone. */
    readonly incremental?: boolean;
    readonly huffman?: boolean;
  }
  export interface HpackTableOptions {
    /** lookupDepth: how many of the newest dynamic entries a compressor searches (default 32). */
    readonly table: { readonly maxSize: number; readonly lookupDepth?: number };
  }
  export interface HpackDecompressor {
    write(block: Uint8Array): boolean;
    /** Decodes what was written; a malformed block is reported through the 'error' event. */
    execute(): void;
    read(): HpackHeader | null;
    on(event: 'error', listener: (error: Error) => void): this;
  }
  export interface HpackCompressor {
    write(headers: HpackHeader[]): boolean;
    read(): Buffer | null;
  }
  const hpack: {
    readonly decompressor: { create(options: HpackTableOptions): HpackDecompressor };
    readonly compressor: { create(options: HpackTableOptions): HpackCompressor };
  };
  export default hpack;
}
