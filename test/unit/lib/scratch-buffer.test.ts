import { describe, expect, it } from 'vitest';
import { encodeWithScratch, ScratchBuffer } from '../../../src/lib/index.js';

describe('ScratchBuffer', () => {
  it('lends its buffer to one borrower at a time and takes it back', () => {
    const scratch = new ScratchBuffer(64, 1024);
    const first = scratch.borrow(16);
    expect(first?.length).toBe(64);
    expect(scratch.borrow(16)).toBeUndefined();
    scratch.giveBack(first!);
    expect(scratch.borrow(16)).toBe(first);
  });

  it('refuses a borrower that needs more than it holds, and drops a buffer grown too large', () => {
    const scratch = new ScratchBuffer(64, 128);
    expect(scratch.borrow(65)).toBeUndefined();
    const lent = scratch.borrow(1)!;
    scratch.giveBack(new Uint8Array(256));
    expect(scratch.borrow(1)).toBeUndefined();
    expect(lent.length).toBe(64);
  });
});

describe('encodeWithScratch', () => {
  it('returns what finish returns and releases the writer even when encoding throws', () => {
    const released: string[] = [];
    const writer = (name: string) => ({
      finish: () => new Uint8Array([1, 2]),
      release: () => released.push(name),
    });
    expect(encodeWithScratch(writer('ok'), () => {})).toEqual(new Uint8Array([1, 2]));
    expect(() =>
      encodeWithScratch(writer('failed'), () => {
        throw new Error('bad input');
      }),
    ).toThrow('bad input');
    expect(released).toEqual(['ok', 'failed']);
  });
});
