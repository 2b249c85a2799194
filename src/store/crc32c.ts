/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), computed eight bytes at a time
 * with eight lookup tables. Every write-ahead log record is checksummed with it, so it is
 * on the append and recovery hot paths.
 */
const CASTAGNOLI_REFLECTED_POLYNOMIAL = 0x82f63b78;
const TABLE_ENTRIES = 256;
const SLICE_BYTES = 8;

// Int32Array tables keep every intermediate value a 32-bit integer, which the JIT keeps
// in registers; unsigned values above 2^31 would become heap doubles.
function buildTables(): Int32Array[] {
  const tables: Int32Array[] = [];
  const first = new Int32Array(TABLE_ENTRIES);
  for (let byte = 0; byte < TABLE_ENTRIES; byte++) {
    let value = byte;
    for (let bit = 0; bit < 8; bit++) {
      value = value & 1 ? (value >>> 1) ^ CASTAGNOLI_REFLECTED_POLYNOMIAL : value >>> 1;
    }
    first[byte] = value;
  }
  tables.push(first);
  // Table k advances a byte through k further zero bytes, so eight bytes fold in one step.
  for (let slice = 1; slice < SLICE_BYTES; slice++) {
    const previous = tables[slice - 1]!;
    const table = new Int32Array(TABLE_ENTRIES);
    for (let byte = 0; byte < TABLE_ENTRIES; byte++) {
      const value = previous[byte]!;
      table[byte] = (value >>> 8) ^ first[value & 0xff]!;
    }
    tables.push(table);
  }
  return tables;
}

const [T0, T1, T2, T3, T4, T5, T6, T7] = buildTables() as [
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
];

/**
 * CRC-32C of `data[start, end)`. Pass a previous result as `previous` to continue a
 * checksum over several pieces.
 */
export function crc32c(data: Uint8Array, previous = 0, start = 0, end = data.byteLength): number {
  let crc = ~previous | 0;
  let offset = start;
  const wholeSlicesEnd = end - ((end - start) % SLICE_BYTES);
  while (offset < wholeSlicesEnd) {
    crc ^= data[offset]! | (data[offset + 1]! << 8) | (data[offset + 2]! << 16) | (data[offset + 3]! << 24);
    crc =
      T7[crc & 0xff]! ^
      T6[(crc >>> 8) & 0xff]! ^
      T5[(crc >>> 16) & 0xff]! ^
      T4[crc >>> 24]! ^
      T3[data[offset + 4]!]! ^
      T2[data[offset + 5]!]! ^
      T1[data[offset + 6]!]! ^
      T0[data[offset + 7]!]!;
    offset += SLICE_BYTES;
  }
  while (offset < end) {
    crc = T0[(crc ^ data[offset]!) & 0xff]! ^ (crc >>> 8);
    offset++;
  }
  return ~crc >>> 0;
}

/** One bit at a time; the definition the fast version is tested against. */
export function crc32cBitwise(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 1 ? (crc >>> 1) ^ CASTAGNOLI_REFLECTED_POLYNOMIAL : crc >>> 1;
  }
  return ~crc >>> 0;
}
