import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c, crc32cBitwise } from '../../../src/store/crc32c.js';

const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('crc32c', () => {
  it('matches the published check values', () => {
    expect(crc32c(ascii('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, index) => index))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, index) => 31 - index))).toBe(0x113fdb5c);
  });

  it('agrees with the bit-at-a-time definition on any input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (data) => {
        expect(crc32c(data)).toBe(crc32cBitwise(data));
      }),
      { numRuns: 200 },
    );
  });

  it('continues a checksum across pieces and honours start and end', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(), (data, cutSeed) => {
        const cut = data.byteLength === 0 ? 0 : cutSeed % data.byteLength;
        const whole = crc32c(data);
        expect(crc32c(data.subarray(cut), crc32c(data.subarray(0, cut)))).toBe(whole);
        expect(crc32c(data, crc32c(data, 0, 0, cut), cut)).toBe(whole);
      }),
      { numRuns: 100 },
    );
  });
});
