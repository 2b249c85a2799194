/**
 * Malformed header blocks: each throws HpackError (code HTTP2_COMPRESSION_ERROR) naming what was
 * wrong and at which octet, and the decoder refuses every later block (a connection error). Then
 * the well-formed edge cases: size updates, padding, table boundaries, repeated literals.
 */
import hpack from 'hpack.js';
import { describe, expect, it } from 'vitest';
import { HpackDecoder, HpackError } from '../../../../src/api/http2/hpack-decoder.js';

const TABLE_BYTES = 4_096;
const LIST_BYTES = 65_536;

function decodeFails(block: number[], message: RegExp, listBytes = LIST_BYTES): HpackDecoder {
  const decoder = new HpackDecoder(TABLE_BYTES, listBytes);
  let thrown: unknown;
  try {
    decoder.decode(Buffer.from(block), () => {});
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(HpackError);
  expect((thrown as HpackError).code).toBe('HTTP2_COMPRESSION_ERROR');
  expect((thrown as HpackError).message).toMatch(message);
  return decoder;
}

/** `:method: GET` as a literal without indexing of a static name, value string given raw. */
const LITERAL_VALUE_PREFIX = [0x02];

describe('HpackDecoder on malformed blocks', () => {
  it('refuses an indexed field with index 0', () => {
    decodeFails([0x80], /octet 0: indexed field with index 0/);
  });

  it('refuses an index past the static and dynamic tables', () => {
    decodeFails(
      [0x82, 0xbe],
      /octet 1: index 62 is past the static table \(61\) and the dynamic table \(0 entries\)/,
    );
    // A literal's name index too.
    decodeFails([0x7e, 0x01, 0x61], /octet 0: index 62 is past/);
  });

  it('refuses an integer over 2^31 - 1', () => {
    // 127 + 0x7f + 0x7f*2^7 + 0x7f*2^14 + 0x7f*2^21 + 0x0f*2^28 > 2^31 - 1.
    decodeFails([0xff, 0xff, 0xff, 0xff, 0xff, 0x0f], /octet 0: integer over 2\^31 - 1/);
  });

  it('refuses an over-long integer (zero continuation octets)', () => {
    decodeFails(
      [0xff, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00],
      /octet 0: integer longer than 5 continuation octets/,
    );
  });

  it('refuses an integer cut off by the end of the block', () => {
    decodeFails([0x82, 0xff], /octet 1: integer runs past the end of the block/);
    decodeFails([0xff, 0x80], /octet 0: integer runs past the end of the block/);
  });

  it('refuses a string whose length runs past the end of the block', () => {
    decodeFails(
      [...LITERAL_VALUE_PREFIX, 0x05, 0x61, 0x62],
      /octet 1: string of 5 octets runs past the end of the block/,
    );
  });

  it('refuses a literal whose string is missing', () => {
    decodeFails([0x40], /octet 1: string expected, but the block ended/);
    decodeFails([0x42], /octet 1: string expected, but the block ended/);
  });

  it('refuses a Huffman string containing EOS', () => {
    // EOS (30 ones) and then '?'.
    decodeFails(
      [...LITERAL_VALUE_PREFIX, 0x85, 0xff, 0xff, 0xff, 0xff, 0xfc],
      /octet 1: Huffman string contains the EOS symbol/,
    );
  });

  it('refuses Huffman padding longer than 7 bits', () => {
    decodeFails(
      [...LITERAL_VALUE_PREFIX, 0x81, 0xff],
      /octet 1: Huffman string padding is longer than 7 bits/,
    );
    // 'a' (00011) and then 11 bits of ones.
    decodeFails([...LITERAL_VALUE_PREFIX, 0x82, 0x1f, 0xff], /padding is longer than 7 bits/);
  });

  it('refuses Huffman padding that is not all ones', () => {
    // '0' (00000) and then 000.
    decodeFails([...LITERAL_VALUE_PREFIX, 0x81, 0x00], /octet 1: Huffman string padding is not all ones/);
  });

  it('refuses a table size update above the maximum we advertised', () => {
    // 31 + 0x62 + 0x1f * 128 = 4097.
    decodeFails(
      [0x3f, 0xe2, 0x1f],
      /octet 0: dynamic table size update to 4097 octets, above our maximum of 4096/,
    );
  });

  it('refuses a table size update after a header field', () => {
    decodeFails([0x82, 0x20], /octet 1: dynamic table size update after a header field/);
  });

  it('refuses every block after a failure', () => {
    const decoder = decodeFails([0x80], /index 0/);
    expect(() => decoder.decode(Buffer.from([0x82]), () => {})).toThrow(
      /the decoder failed on an earlier block/,
    );
  });

  it('refuses every block after the field callback threw part-way through a block', () => {
    const decoder = new HpackDecoder(TABLE_BYTES, LIST_BYTES);
    expect(() =>
      decoder.decode(Buffer.from([0x82]), () => {
        throw new Error('the caller gave up');
      }),
    ).toThrow('the caller gave up');
    expect(() => decoder.decode(Buffer.from([0x82]), () => {})).toThrow(HpackError);
  });
});

describe('HpackDecoder on well-formed edge cases', () => {
  it('takes size updates at the start of a block, then fields', () => {
    const decoder = new HpackDecoder(TABLE_BYTES, LIST_BYTES);
    const fields: string[] = [];
    // Update to 0, update to 4096 (31 + 0x61 + 0x1f * 128), then `:method: GET`.
    decoder.decode(Buffer.from([0x20, 0x3f, 0xe1, 0x1f, 0x82]), (name, value) =>
      fields.push(`${name}: ${value}`),
    );
    expect(fields).toEqual([':method: GET']);
  });

  it('accepts padding of 7 ones and an empty Huffman string', () => {
    const decoder = new HpackDecoder(TABLE_BYTES, LIST_BYTES);
    const values: string[] = [];
    // 'a' (00011) and 111; then an empty Huffman string.
    decoder.decode(
      Buffer.from([...LITERAL_VALUE_PREFIX, 0x81, 0x1f, ...LITERAL_VALUE_PREFIX, 0x80]),
      (_, value) => values.push(value),
    );
    expect(values).toEqual(['a', '']);
  });

  it('decodes a block given as a Uint8Array view into a larger buffer', () => {
    const decoder = new HpackDecoder(TABLE_BYTES, LIST_BYTES);
    const backing = new Uint8Array([0xee, 0x04, 0x03, 0x2f, 0x6b, 0x76, 0xee]);
    const fields: string[] = [];
    decoder.decode(backing.subarray(1, 6), (name, value) => fields.push(`${name}: ${value}`));
    expect(fields).toEqual([':path: /kv']);
  });

  it('keeps entries that fill the table exactly, and evicts the oldest for the next', () => {
    // Each entry 'a' + 17-octet value = 1 + 17 + 32 = 50 octets; a 100-octet table holds two.
    const decoder = new HpackDecoder(100, LIST_BYTES);
    const literal = (value: string): number[] => [0x40, 0x01, 0x61, value.length, ...Buffer.from(value)];
    decoder.decode(Buffer.from([...literal('first-value-17-oc'), ...literal('second-value-17-o')]), () => {});
    expect(decoder.tableEntries()).toEqual([
      ['a', 'second-value-17-o'],
      ['a', 'first-value-17-oc'],
    ]);
    expect(decoder.tableBytes).toBe(100);
    decoder.decode(Buffer.from(literal('third-value-17-oc')), () => {});
    expect(decoder.tableEntries()).toEqual([
      ['a', 'third-value-17-oc'],
      ['a', 'second-value-17-o'],
    ]);
  });

  it('empties the table for an entry larger than it, and on a size update to 0', () => {
    const decoder = new HpackDecoder(100, LIST_BYTES);
    decoder.decode(Buffer.from([0x40, 0x01, 0x61, 0x01, 0x62]), () => {});
    expect(decoder.tableBytes).toBe(34);
    const large = 'x'.repeat(70);
    const fields: string[] = [];
    decoder.decode(Buffer.from([0x40, 0x01, 0x61, large.length, ...Buffer.from(large)]), (_, value) =>
      fields.push(value),
    );
    expect(fields).toEqual([large]);
    expect(decoder.tableEntries()).toEqual([]);
    decoder.decode(Buffer.from([0x40, 0x01, 0x61, 0x01, 0x62]), () => {});
    decoder.decode(Buffer.from([0x20]), () => {});
    expect(decoder.tableEntries()).toEqual([]);
    expect(decoder.tableBytes).toBe(0);
  });
});

describe('HpackDecoder on literals without indexing that repeat (the literal cache)', () => {
  it('decodes each of more paths than the cache holds, same length, Huffman and not, again and again', () => {
    const compressor = hpack.compressor.create({ table: { maxSize: TABLE_BYTES } });
    const decoder = new HpackDecoder(TABLE_BYTES, LIST_BYTES);
    // Same length, differing in one octet at the end or the start.
    const paths = Array.from({ length: 11 }, (_, index) => `/etcdserverpb.KV/Rang${index % 10}`).concat([
      '_etcdserverpb.KV/Rang0',
    ]);
    for (let call = 0; call < 100; call++) {
      const path = paths[(call * 7) % paths.length]!;
      compressor.write([{ name: ':path', value: path, incremental: false, huffman: call % 3 !== 0 }]);
      const fields: string[] = [];
      decoder.decode(compressor.read()!, (name, value) => fields.push(`${name}: ${value}`));
      expect(fields).toEqual([`:path: ${path}`]);
    }
    expect(decoder.tableEntries()).toEqual([]);
  });

  it('tells a Huffman string from a plain one made of the same octets', () => {
    const decoder = new HpackDecoder(TABLE_BYTES, LIST_BYTES);
    // `:path` without indexing, Huffman "/kv/range" (0x80 | length, then its code), and then the
    // same octets sent plain (length without the Huffman flag).
    const compressor = hpack.compressor.create({ table: { maxSize: TABLE_BYTES } });
    compressor.write([{ name: ':path', value: '/kv/range', incremental: false, huffman: true }]);
    const huffmanBlock = compressor.read()!;
    const plainBlock = Buffer.from(huffmanBlock);
    plainBlock[1] = plainBlock[1]! & 0x7f;
    const values: string[] = [];
    for (const block of [huffmanBlock, plainBlock, huffmanBlock])
      decoder.decode(block, (_, value) => values.push(value));
    expect(values).toEqual(['/kv/range', huffmanBlock.subarray(2).toString('latin1'), '/kv/range']);
  });
});

describe('HpackDecoder on a header list over its limit (name + value + 32 per field)', () => {
  it('decodes the whole block, so that the table follows, but hands over only the fields within the limit', () => {
    const decoder = new HpackDecoder(TABLE_BYTES, 84);
    const fields: string[] = [];
    // `:method: GET` counts 7 + 3 + 32 = 42: two fit in 84, the third does not; then a literal
    // with incremental indexing (`:path: /late`, static name 4) past the limit.
    const late = [0x44, 0x05, ...Buffer.from('/late')];
    const withinLimit = decoder.decode(Buffer.from([0x82, 0x82, 0x82, ...late]), (name, value) =>
      fields.push(`${name}: ${value}`),
    );
    expect(withinLimit).toBe(false);
    expect(fields).toEqual([':method: GET', ':method: GET']);
    expect(decoder.tableEntries()).toEqual([[':path', '/late']]);
    // The next block is decoded against the same table, and is within the limit.
    const next: string[] = [];
    expect(decoder.decode(Buffer.from([0xbe]), (name, value) => next.push(`${name}: ${value}`))).toBe(true);
    expect(next).toEqual([':path: /late']);
  });
});
