/**
 * The strings of a connection's recent literals that stay out of the dynamic table, by their
 * encoded octets. Node's HTTP/2 clients (grpc-js, and the bench's load generator: nghttp2's
 * encoder) send `:path` as a literal without indexing on every call, so the same few octet
 * strings arrive again and again: a hit hands back the string decoded before, which costs an
 * octet comparison instead of Huffman decoding and a new string.
 */

/** Entries kept, replaced oldest first; a connection's distinct paths in use are usually fewer. */
export const LITERAL_CACHE_ENTRIES = 8;
/** Longer literals are decoded each time: comparing them would cost about what decoding does. */
export const LITERAL_CACHE_OCTETS_MAX = 64;

export class HpackLiteralCache {
  /** Entry i's encoded octets are `octets[i * LITERAL_CACHE_OCTETS_MAX, + lengths[i])`. */
  private readonly octets = new Uint8Array(LITERAL_CACHE_ENTRIES * LITERAL_CACHE_OCTETS_MAX);
  private readonly lengths = new Int32Array(LITERAL_CACHE_ENTRIES).fill(-1);
  private readonly strings: string[] = new Array<string>(LITERAL_CACHE_ENTRIES).fill('');
  private nextEntry = 0;

  /** The string cached for the encoded octets `block[start, end)`, if any; `end - start` is at most `LITERAL_CACHE_OCTETS_MAX`. */
  find(block: Uint8Array, start: number, end: number): string | undefined {
    const length = end - start;
    const octets = this.octets;
    for (let entry = 0; entry < LITERAL_CACHE_ENTRIES; entry++) {
      if (this.lengths[entry] !== length) continue;
      const base = entry * LITERAL_CACHE_OCTETS_MAX - start;
      let offset = end - 1;
      // From the end: paths of one service share their beginning.
      while (offset >= start && octets[base + offset] === block[offset]) offset--;
      if (offset < start) return this.strings[entry];
    }
    return undefined;
  }

  remember(block: Uint8Array, start: number, end: number, text: string): void {
    const entry = this.nextEntry;
    this.nextEntry = (entry + 1) % LITERAL_CACHE_ENTRIES;
    // A loop rather than `set(block.subarray(...))`, which would allocate a view on each miss.
    const base = entry * LITERAL_CACHE_OCTETS_MAX - start;
    for (let offset = start; offset < end; offset++) this.octets[base + offset] = block[offset] as number;
    this.lengths[entry] = end - start;
    this.strings[entry] = text;
  }
}
