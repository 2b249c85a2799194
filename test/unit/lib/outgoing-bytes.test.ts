import { describe, expect, it } from 'vitest';
import { MAX_CARVED_BYTES, outgoingBytes, SLAB_BYTES } from '../../../src/lib/outgoing-bytes.js';

describe('outgoingBytes', () => {
  it('carves writes of 4 KiB and more one after another from one slab, never the same bytes twice', () => {
    const first = outgoingBytes(5000).fill(1);
    const second = outgoingBytes(6000).fill(2);
    expect(second.buffer).toBe(first.buffer);
    expect(first.buffer.byteLength).toBe(SLAB_BYTES);
    expect(first.length).toBe(5000);
    expect(second.byteOffset).toBeGreaterThanOrEqual(first.byteOffset + first.length);
    // What was handed out before stays as written, however much is carved after it.
    for (let count = 0; count < (2 * SLAB_BYTES) / 8192; count++) outgoingBytes(8192).fill(3);
    expect(first.every((byte) => byte === 1)).toBe(true);
    expect(second.every((byte) => byte === 2)).toBe(true);
  });

  it('starts a new slab when the current one cannot hold a write', () => {
    const seen = new Set<ArrayBufferLike>();
    for (let count = 0; count < SLAB_BYTES / 60_000 + 2; count++) seen.add(outgoingBytes(60_000).buffer);
    expect(seen.size).toBeGreaterThan(1);
    for (const buffer of seen) expect(buffer.byteLength).toBe(SLAB_BYTES);
  });

  it('leaves small writes to Node pool and gives large ones a buffer of their own', () => {
    const small = outgoingBytes(100);
    expect(small.buffer.byteLength).toBe(Buffer.poolSize);
    const large = outgoingBytes(MAX_CARVED_BYTES + 1);
    expect(large.buffer.byteLength).toBe(MAX_CARVED_BYTES + 1);
  });
});
