/**
 * An HPACK (RFC 7541) decoder for one connection's header blocks, on the client port's hot path:
 * indexed fields return the table's own string instances (no allocation); a literal without
 * indexing that comes again (Node clients' `:path`) returns the string decoded the first time;
 * other literal strings become latin1 strings straight from the block's octets (short ones by
 * `String.fromCharCode`), Huffman strings through a 4-bit state machine into one reused scratch
 * buffer.
 */
import { MeshError } from '../../lib/index.js';
import { ENTRY_OVERHEAD_BYTES, HpackDynamicTable } from './hpack-dynamic-table.js';
import { HpackLiteralCache, LITERAL_CACHE_OCTETS_MAX } from './hpack-literal-cache.js';
import {
  decodeHuffman,
  HUFFMAN_EOS_IN_STRING,
  HUFFMAN_PADDING_OVER_7_BITS,
  huffmanDecodedBytesMax,
} from './huffman-decoder.js';
import { type Latin1Buffer, latin1String } from './latin1-string.js';
import { STATIC_TABLE } from './static-table.js';

/** A header block that does not decode: a connection error of type COMPRESSION_ERROR (RFC 9113 4.3). */
export class HpackError extends MeshError {
  constructor(what: string, octet: number) {
    super('HTTP2_COMPRESSION_ERROR', `header block octet ${octet}: ${what}`, { details: { octet } });
  }
}

/** Integers above this are refused: no length, index or size we accept comes near it. */
const INTEGER_MAX = 0x7fff_ffff;
/** Continuation octets that reach `INTEGER_MAX` from any prefix; more is an over-long encoding. */
const INTEGER_CONTINUATION_OCTETS_MAX = 5;
const STATIC_TABLE_LENGTH = STATIC_TABLE.length;
const STATIC_NAMES = STATIC_TABLE.map(([name]) => name);
const STATIC_VALUES = STATIC_TABLE.map(([, value]) => value);

/** Huffman output lands here before it becomes a string; grown when a longer string arrives. */
let huffmanScratch = Buffer.allocUnsafeSlow(4_096) as Latin1Buffer;
/** Held between blocks instead of the last block, which can then be collected. */
const NO_BLOCK = Buffer.alloc(0) as Latin1Buffer;

export class HpackDecoder {
  private readonly table: HpackDynamicTable;
  /** Made on the first literal without indexing: Go's clients index everything and never need it. */
  private literalCache: HpackLiteralCache | undefined;
  private readonly maxTableBytes: number;
  private readonly maxListBytes: number;
  /** The block being decoded as a Buffer (for latin1 slicing) and the next octet to read. */
  private block: Latin1Buffer = NO_BLOCK;
  private offset = 0;
  private failed = false;

  /** maxTableBytes: the SETTINGS_HEADER_TABLE_SIZE we advertise (4096); maxListBytes: decoded header list limit (RFC 9113 SETTINGS_MAX_HEADER_LIST_SIZE semantics: sum of name+value+32 per field). */
  constructor(maxTableBytes: number, maxListBytes: number) {
    this.maxTableBytes = maxTableBytes;
    this.maxListBytes = maxListBytes;
    this.table = new HpackDynamicTable(maxTableBytes);
  }

  /**
   * Decodes one complete header block (the HEADERS fragment plus its CONTINUATIONs, joined),
   * calling field(name, value) per field in order. Answers false when the list went over
   * `maxListBytes`: the block is still decoded to its end (the dynamic table must follow the
   * client's encoder, or every later block on the connection would decode wrong), but the fields
   * from the one that crossed the limit on are not handed over; only that request is refused.
   * Malformed input throws HpackError; the decoder is then unusable (a connection error).
   */
  decode(block: Uint8Array, field: (name: string, value: string) => void): boolean {
    if (this.failed) throw new HpackError('the decoder failed on an earlier block', 0);
    // Any throw, ours or the callback's, leaves the table part-way through a block.
    this.failed = true;
    this.block = (
      Buffer.isBuffer(block) ? block : Buffer.from(block.buffer, block.byteOffset, block.byteLength)
    ) as Latin1Buffer;
    this.offset = 0;
    const withinLimit = this.decodeFields(field);
    this.block = NO_BLOCK;
    this.failed = false;
    return withinLimit;
  }

  /** The dynamic table, newest entry first, and its size by RFC 7541 4.1 (for tests and diagnostics). */
  tableEntries(): [name: string, value: string][] {
    return this.table.entries();
  }

  get tableBytes(): number {
    return this.table.sizeBytes;
  }

  /** Answers false when the header list went over `maxListBytes` (see `decode`). */
  private decodeFields(field: (name: string, value: string) => void): boolean {
    const block = this.block;
    const end = block.length;
    let listBytes = 0;
    let fieldSeen = false;
    while (this.offset < end) {
      const start = this.offset;
      const first = block[start] as number;
      let name: string;
      let value: string;
      if (first >= 0x80) {
        // Indexed field (6.1).
        const index = this.readInteger(0x7f);
        if (index === 0) throw new HpackError('indexed field with index 0', start);
        if (index <= STATIC_TABLE_LENGTH) {
          name = STATIC_NAMES[index - 1] as string;
          value = STATIC_VALUES[index - 1] as string;
        } else {
          const dynamicIndex = index - STATIC_TABLE_LENGTH;
          if (dynamicIndex > this.table.length) throw this.indexPastTables(index, start);
          name = this.table.name(dynamicIndex);
          value = this.table.value(dynamicIndex);
        }
      } else if (first >= 0x40) {
        // Literal with incremental indexing (6.2.1).
        name = this.readLiteralName(0x3f, start, false);
        value = this.readString(false);
        this.table.add(name, value);
      } else if (first >= 0x20) {
        // Dynamic table size update (6.3).
        if (fieldSeen) throw new HpackError('dynamic table size update after a header field', start);
        const limitBytes = this.readInteger(0x1f);
        if (limitBytes > this.maxTableBytes) {
          throw new HpackError(
            `dynamic table size update to ${limitBytes} octets, above our maximum of ${this.maxTableBytes}`,
            start,
          );
        }
        this.table.setLimit(limitBytes);
        continue;
      } else {
        // Literal without indexing (6.2.2) or never indexed (6.2.3): 4-bit prefix either way.
        // These come again literally on later blocks, so their strings are worth keeping.
        name = this.readLiteralName(0x0f, start, true);
        value = this.readString(true);
      }
      fieldSeen = true;
      listBytes += name.length + value.length + ENTRY_OVERHEAD_BYTES;
      if (listBytes <= this.maxListBytes) field(name, value);
    }
    return listBytes <= this.maxListBytes;
  }

  /** A literal field's name: a table entry's name (index in the prefix) or a string (index 0). */
  private readLiteralName(prefixMask: number, start: number, cached: boolean): string {
    const index = this.readInteger(prefixMask);
    if (index === 0) return this.readString(cached);
    if (index <= STATIC_TABLE_LENGTH) return STATIC_NAMES[index - 1] as string;
    const dynamicIndex = index - STATIC_TABLE_LENGTH;
    if (dynamicIndex > this.table.length) throw this.indexPastTables(index, start);
    return this.table.name(dynamicIndex);
  }

  private indexPastTables(index: number, start: number): HpackError {
    return new HpackError(
      `index ${index} is past the static table (${STATIC_TABLE_LENGTH}) and the dynamic table (${this.table.length} entries)`,
      start,
    );
  }

  /** An integer (5.1) whose prefix is the low bits of the current octet, which the caller has checked exists. */
  private readInteger(prefixMask: number): number {
    const block = this.block;
    const start = this.offset;
    let offset = start;
    let value = (block[offset++] as number) & prefixMask;
    if (value === prefixMask) {
      let scale = 1;
      let octet: number;
      let continuations = 0;
      do {
        if (offset >= block.length) throw new HpackError('integer runs past the end of the block', start);
        if (++continuations > INTEGER_CONTINUATION_OCTETS_MAX) {
          throw new HpackError(
            `integer longer than ${INTEGER_CONTINUATION_OCTETS_MAX} continuation octets`,
            start,
          );
        }
        octet = block[offset++] as number;
        value += (octet & 0x7f) * scale;
        scale *= 128;
        if (value > INTEGER_MAX) throw new HpackError('integer over 2^31 - 1', start);
      } while (octet >= 0x80);
    }
    this.offset = offset;
    return value;
  }

  /**
   * A string literal (5.2): its octets as a latin1 string, Huffman-decoded if flagged. `cached`:
   * looked up in (and added to) the literal cache by its encoded octets, length prefix included.
   */
  private readString(cached: boolean): string {
    const block = this.block;
    const start = this.offset;
    if (start >= block.length) throw new HpackError('string expected, but the block ended', start);
    const huffman = (block[start] as number) >= 0x80;
    const length = this.readInteger(0x7f);
    const stringStart = this.offset;
    const stringEnd = stringStart + length;
    if (stringEnd > block.length) {
      throw new HpackError(`string of ${length} octets runs past the end of the block`, start);
    }
    this.offset = stringEnd;
    if (cached && stringEnd - start <= LITERAL_CACHE_OCTETS_MAX) {
      this.literalCache ??= new HpackLiteralCache();
      const known = this.literalCache.find(block, start, stringEnd);
      if (known !== undefined) return known;
      const text = this.decodeString(huffman, stringStart, stringEnd, start);
      this.literalCache.remember(block, start, stringEnd, text);
      return text;
    }
    return this.decodeString(huffman, stringStart, stringEnd, start);
  }

  private decodeString(huffman: boolean, stringStart: number, stringEnd: number, start: number): string {
    const block = this.block;
    const length = stringEnd - stringStart;
    if (!huffman) return latin1String(block, stringStart, stringEnd);
    if (huffmanScratch.length < huffmanDecodedBytesMax(length)) {
      huffmanScratch = Buffer.allocUnsafeSlow(huffmanDecodedBytesMax(length)) as Latin1Buffer;
    }
    const decoded = decodeHuffman(block, stringStart, stringEnd, huffmanScratch);
    if (decoded < 0) throw new HpackError(huffmanFailure(decoded), start);
    return latin1String(huffmanScratch, 0, decoded);
  }
}

function huffmanFailure(code: number): string {
  if (code === HUFFMAN_EOS_IN_STRING) return 'Huffman string contains the EOS symbol';
  if (code === HUFFMAN_PADDING_OVER_7_BITS) return 'Huffman string padding is longer than 7 bits';
  return 'Huffman string padding is not all ones (the string ends inside a code)';
}
