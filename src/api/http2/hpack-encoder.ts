/**
 * Header blocks that never touch the receiver's dynamic table, so one block can be made once and
 * sent on every connection: a field whose name and value are both a static-table entry is that
 * entry's index (6.1); any other is a literal without indexing (6.2.2) naming the static entry
 * of its name where there is one; strings go as plain octets (no Huffman).
 */
import { STATIC_TABLE } from './static-table.js';

const INDEXED_FLAG = 0x80;
const INDEXED_PREFIX_MASK = 0x7f;
/** A literal without indexing has 0000 in the top bits and a 4-bit name index prefix. */
const LITERAL_PREFIX_MASK = 0x0f;
const STRING_LENGTH_PREFIX_MASK = 0x7f;

/** For each name: its first static index, and the static index of each value it has there. */
interface StaticName {
  readonly index: number;
  readonly valueIndex: Map<string, number>;
}
const STATIC_NAMES = new Map<string, StaticName>();
STATIC_TABLE.forEach(([name, value], position) => {
  let known = STATIC_NAMES.get(name);
  if (known === undefined) {
    known = { index: position + 1, valueIndex: new Map() };
    STATIC_NAMES.set(name, known);
  }
  if (value !== '') known.valueIndex.set(value, position + 1);
});

/** A header block of literal fields without indexing (static-table name index where the name has one; no Huffman; RFC 7541 6.2.2): it never touches the peer's dynamic table, so a block can be made once and sent on any connection. Names lower case; values byte strings (one char per octet). */
export function encodeHeaderBlock(fields: readonly (readonly [name: string, value: string])[]): Buffer {
  let length = 0;
  for (let position = 0; position < fields.length; position++) {
    const [name, value] = fields[position] as readonly [string, string];
    const known = STATIC_NAMES.get(name);
    const fieldIndex = known?.valueIndex.get(value);
    if (fieldIndex !== undefined) {
      length += integerBytes(fieldIndex, INDEXED_PREFIX_MASK);
      continue;
    }
    const nameIndex = known?.index ?? 0;
    length += integerBytes(nameIndex, LITERAL_PREFIX_MASK);
    if (nameIndex === 0) length += stringBytes(name);
    length += stringBytes(value);
  }
  const block = Buffer.allocUnsafe(length);
  let offset = 0;
  for (let position = 0; position < fields.length; position++) {
    const [name, value] = fields[position] as readonly [string, string];
    const known = STATIC_NAMES.get(name);
    const fieldIndex = known?.valueIndex.get(value);
    if (fieldIndex !== undefined) {
      offset = writeInteger(block, offset, INDEXED_FLAG, fieldIndex, INDEXED_PREFIX_MASK);
      continue;
    }
    const nameIndex = known?.index ?? 0;
    offset = writeInteger(block, offset, 0, nameIndex, LITERAL_PREFIX_MASK);
    if (nameIndex === 0) offset = writeString(block, offset, name);
    offset = writeString(block, offset, value);
  }
  return block;
}

function integerBytes(value: number, prefixMask: number): number {
  if (value < prefixMask) return 1;
  let bytes = 2;
  for (let rest = value - prefixMask; rest >= 0x80; rest = Math.floor(rest / 0x80)) bytes++;
  return bytes;
}

function stringBytes(text: string): number {
  return integerBytes(text.length, STRING_LENGTH_PREFIX_MASK) + text.length;
}

/** RFC 7541 5.1: `flags` fill the octet's bits above the prefix. Returns the offset after it. */
function writeInteger(
  block: Buffer,
  offset: number,
  flags: number,
  value: number,
  prefixMask: number,
): number {
  if (value < prefixMask) {
    block[offset++] = flags | value;
    return offset;
  }
  block[offset++] = flags | prefixMask;
  let rest = value - prefixMask;
  while (rest >= 0x80) {
    block[offset++] = (rest % 0x80) | 0x80;
    rest = Math.floor(rest / 0x80);
  }
  block[offset++] = rest;
  return offset;
}

/** Shorter strings are copied by a loop: cheaper than a call into Node's latin1 writer. */
const LOOP_COPY_CHARACTERS_MAX = 32;

function writeString(block: Buffer, offset: number, text: string): number {
  const start = writeInteger(block, offset, 0, text.length, STRING_LENGTH_PREFIX_MASK);
  if (text.length > LOOP_COPY_CHARACTERS_MAX) return start + block.write(text, start, 'latin1');
  for (let index = 0; index < text.length; index++) block[start + index] = text.charCodeAt(index);
  return start + text.length;
}
