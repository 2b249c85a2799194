/**
 * The decoder against `hpack.js` as an oracle: random header lists encoded by hpack.js's
 * compressor (Huffman or not, incremental indexing or not, never indexed, table size updates)
 * decode to the fields given and to what hpack.js's own decompressor reads, block after block on
 * one connection so the dynamic table carries over and evicts.
 */
import hpack, { type HpackCompressor, type HpackDecompressor, type HpackHeader } from 'hpack.js';
import { describe, expect, it } from 'vitest';
import { HpackDecoder } from '../../../../src/api/http2/hpack-decoder.js';
import { STATIC_TABLE } from '../../../../src/api/http2/static-table.js';
import { SeededRandom } from '../../../../src/lib/random.js';

type Fields = [name: string, value: string][];

const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];
const BLOCKS_PER_CONNECTION = 300;
const LIST_BYTES = 1 << 20;
const CUSTOM_NAMES = ['grpc-timeout', 'grpc-accept-encoding', 'x-request-id', 'authorization-token', 'te'];
const STATIC_NAMES = [...new Set(STATIC_TABLE.map(([name]) => name))];
const STATIC_VALUES = STATIC_TABLE.map(([, value]) => value).filter((value) => value !== '');

/** hpack.js keeps its compressor's table private; a size update has to reach it too. */
interface CompressorTable {
  readonly _table: { updateSize(size: number): void };
}

function byteString(random: SeededRandom, length: number): string {
  let text = '';
  // Mostly printable, sometimes any octet (Huffman codes up to 30 bits).
  const anyOctet = random.chance(0.2);
  for (let index = 0; index < length; index++) {
    text += String.fromCharCode(anyOctet ? random.nextInt(256) : random.nextIntBetween(0x20, 0x7e));
  }
  return text;
}

function randomLength(random: SeededRandom): number {
  // Lengths past 127 take a multi-octet integer.
  return random.chance(0.1) ? random.nextIntBetween(120, 600) : random.nextInt(24);
}

function randomName(random: SeededRandom): string {
  const pick = random.nextInt(3);
  if (pick === 0) return STATIC_NAMES[random.nextInt(STATIC_NAMES.length)]!;
  if (pick === 1) return CUSTOM_NAMES[random.nextInt(CUSTOM_NAMES.length)]!;
  return byteString(random, 1 + randomLength(random)).toLowerCase();
}

function randomValue(random: SeededRandom, recent: readonly string[]): string {
  const pick = random.nextInt(4);
  if (pick === 0 && recent.length > 0) return recent[random.nextInt(recent.length)]!;
  if (pick === 1) return STATIC_VALUES[random.nextInt(STATIC_VALUES.length)]!;
  return byteString(random, randomLength(random));
}

function randomHeaders(random: SeededRandom, recent: string[]): HpackHeader[] {
  const headers: HpackHeader[] = [];
  const count = random.nextInt(12);
  for (let index = 0; index < count; index++) {
    const value = randomValue(random, recent);
    recent.push(value);
    if (recent.length > 20) recent.shift();
    headers.push({
      name: randomName(random),
      value,
      huffman: random.chance(0.5),
      incremental: random.chance(0.7),
      neverIndex: random.chance(0.1),
    });
  }
  return headers;
}

/** A size update block prefix (RFC 7541 6.3: 001 and a 5-bit prefix integer). */
function sizeUpdate(size: number): Buffer {
  if (size < 31) return Buffer.from([0x20 | size]);
  const octets = [0x3f];
  let rest = size - 31;
  while (rest >= 128) {
    octets.push((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  octets.push(rest);
  return Buffer.from(octets);
}

function encode(compressor: HpackCompressor, headers: HpackHeader[], updates: readonly number[]): Buffer {
  for (const size of updates) (compressor as unknown as CompressorTable)._table.updateSize(size);
  compressor.write(headers);
  const fields = compressor.read() ?? Buffer.alloc(0);
  return Buffer.concat([...updates.map(sizeUpdate), fields]);
}

/** hpack.js's decompressor, one per connection, reporting a failure by throwing. */
class OracleDecoder {
  private readonly decompressor: HpackDecompressor;
  private failure: Error | undefined;

  constructor(maxTableBytes: number) {
    this.decompressor = hpack.decompressor.create({ table: { maxSize: maxTableBytes } });
    this.decompressor.on('error', (error) => {
      this.failure = error;
    });
  }

  decode(block: Buffer): Fields {
    this.decompressor.write(block);
    this.decompressor.execute();
    if (this.failure !== undefined) throw this.failure;
    const fields: Fields = [];
    for (let header = this.decompressor.read(); header !== null; header = this.decompressor.read()) {
      fields.push([header.name, header.value]);
    }
    return fields;
  }
}

describe('HpackDecoder against hpack.js', () => {
  it.each(SEEDS)('seed=%i: a connection of random blocks decodes as hpack.js decodes it', (seed) => {
    const random = new SeededRandom(seed);
    const maxTableBytes = random.chance(0.5) ? 4_096 : 256;
    const compressor = hpack.compressor.create({ table: { maxSize: maxTableBytes } });
    const oracle = new OracleDecoder(maxTableBytes);
    const decoder = new HpackDecoder(maxTableBytes, LIST_BYTES);
    const recent: string[] = [];
    let mostTableEntries = 0;
    let updates = 0;
    for (let blockNumber = 0; blockNumber < BLOCKS_PER_CONNECTION; blockNumber++) {
      const headers = randomHeaders(random, recent);
      const sizes = random.chance(0.05)
        ? [random.nextInt(maxTableBytes + 1), maxTableBytes].slice(random.nextInt(2))
        : [];
      updates += sizes.length;
      const block = encode(compressor, headers, sizes);
      const decoded: Fields = [];
      decoder.decode(block, (name, value) => decoded.push([name, value]));
      expect(decoded, `seed=${seed} block ${blockNumber}`).toEqual(
        headers.map((header) => [header.name, header.value]),
      );
      expect(decoded, `seed=${seed} block ${blockNumber}`).toEqual(oracle.decode(block));
      mostTableEntries = Math.max(mostTableEntries, decoder.tableEntries().length);
    }
    // The run exercised the table: entries were added and size updates happened.
    expect(mostTableEntries).toBeGreaterThan(2);
    expect(updates).toBeGreaterThan(0);
    expect(decoder.tableBytes).toBeLessThanOrEqual(maxTableBytes);
  });

  it('gRPC request blocks with a changing grpc-timeout keep evicting and still decode', () => {
    const compressor = hpack.compressor.create({ table: { maxSize: 4_096 } });
    const decoder = new HpackDecoder(4_096, LIST_BYTES);
    let sawEviction = false;
    let previousBytes = 0;
    for (let call = 0; call < 500; call++) {
      const headers: HpackHeader[] = [
        { name: ':method', value: 'POST' },
        { name: ':scheme', value: 'http' },
        { name: ':path', value: `/etcdserverpb.KV/${call % 3 === 0 ? 'Put' : 'Range'}` },
        { name: ':authority', value: '127.0.0.1:2379' },
        { name: 'content-type', value: 'application/grpc' },
        { name: 'user-agent', value: 'grpc-go/1.59.0' },
        { name: 'te', value: 'trailers' },
        { name: 'grpc-timeout', value: `${4_999_000 - call * 7}u` },
      ];
      const block = encode(compressor, headers, []);
      const decoded: Fields = [];
      decoder.decode(block, (name, value) => decoded.push([name, value]));
      expect(decoded).toEqual(headers.map((header) => [header.name, header.value]));
      if (decoder.tableBytes < previousBytes) sawEviction = true;
      previousBytes = decoder.tableBytes;
    }
    expect(sawEviction).toBe(true);
  });
});
