/**
 * encodeHeaderBlock: its blocks decode, with hpack.js and with our decoder, to the fields given,
 * and leave the receiver's dynamic table empty however often they are sent.
 */
import hpack from 'hpack.js';
import { describe, expect, it } from 'vitest';
import { HpackDecoder } from '../../../../src/api/http2/hpack-decoder.js';
import { encodeHeaderBlock } from '../../../../src/api/http2/hpack-encoder.js';

type Fields = [name: string, value: string][];

const TABLE_BYTES = 4_096;
const LIST_BYTES = 1 << 20;

const RESPONSE: Fields = [
  [':status', '200'],
  ['content-type', 'application/grpc'],
  ['grpc-accept-encoding', 'identity,deflate,gzip'],
];
const TRAILERS: Fields = [
  ['grpc-status', '3'],
  ['grpc-message', 'key%20is%20not%20provided'],
];
/** Long strings take multi-octet lengths; octets above 0x7f stay one character each. */
const AWKWARD: Fields = [
  ['x-long', 'v'.repeat(300)],
  ['x-'.padEnd(200, 'n'), ''],
  ['x-bytes', '\u0000\u00ff\u0080caf\u00e9'],
  [':status', '599'],
  ['accept-encoding', 'gzip, deflate'],
];

function decodeWithOurs(decoder: HpackDecoder, block: Buffer): Fields {
  const fields: Fields = [];
  decoder.decode(block, (name, value) => fields.push([name, value]));
  return fields;
}

function decodeWithHpackJs(block: Buffer): Fields {
  const decompressor = hpack.decompressor.create({ table: { maxSize: TABLE_BYTES } });
  decompressor.write(block);
  decompressor.execute();
  const fields: Fields = [];
  for (let header = decompressor.read(); header !== null; header = decompressor.read()) {
    fields.push([header.name, header.value]);
  }
  return fields;
}

describe('encodeHeaderBlock', () => {
  it.each([
    ['a response', RESPONSE],
    ['trailers', TRAILERS],
    ['long names and values, high octets', AWKWARD],
    ['no fields', []],
  ] as [string, Fields][])('%s decodes with hpack.js and with ours, the table left empty', (_, fields) => {
    const block = encodeHeaderBlock(fields);
    expect(decodeWithHpackJs(block)).toEqual(fields);
    const decoder = new HpackDecoder(TABLE_BYTES, LIST_BYTES);
    for (let sent = 0; sent < 3; sent++) expect(decodeWithOurs(decoder, block)).toEqual(fields);
    expect(decoder.tableEntries()).toEqual([]);
  });

  it('uses static-table indices: a whole entry, or a name with a literal value', () => {
    const block = encodeHeaderBlock([
      [':status', '200'],
      ['content-type', 'application/grpc'],
    ]);
    // 0x88: indexed 8. Then literal without indexing, name index 31 (0x0f + 16), 16 raw octets.
    expect([...block.subarray(0, 4)]).toEqual([0x88, 0x0f, 0x10, 0x10]);
    expect(block.subarray(4).toString('latin1')).toBe('application/grpc');
  });

  it('sends an unknown name as a literal string, without Huffman', () => {
    expect([...encodeHeaderBlock([['te', 'x']])]).toEqual([0x00, 0x02, 0x74, 0x65, 0x01, 0x78]);
  });
});
