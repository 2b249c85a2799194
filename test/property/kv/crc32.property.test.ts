import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32, crc32Portable } from '../../../src/kv/bytes.js';

describe('CRC-32 of snapshots', () => {
  it('gives the standard check value for "123456789"', () => {
    const check = new TextEncoder().encode('123456789');
    expect(crc32Portable(check)).toBe(0xcbf43926);
    expect(crc32(check)).toBe(0xcbf43926);
  });

  it('agrees with the portable byte-at-a-time loop on any bytes, views into larger buffers included', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.nat(16), (bytes, trim) => {
        const view = bytes.subarray(Math.min(trim, bytes.length));
        expect(crc32(view)).toBe(crc32Portable(view));
      }),
    );
  });

  it('checksums data given in pieces as if it were whole', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.nat(2048), (bytes, cut) => {
        const at = Math.min(cut, bytes.length);
        const whole = crc32Portable(bytes);
        expect(crc32(bytes.subarray(at), crc32(bytes.subarray(0, at)))).toBe(whole);
        expect(crc32Portable(bytes.subarray(at), crc32Portable(bytes.subarray(0, at)))).toBe(whole);
      }),
    );
  });
});
