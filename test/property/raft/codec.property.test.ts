import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isMeshError } from '../../../src/lib/index.js';
import {
  decodeConfigChange,
  decodeMessage,
  encodeConfigChange,
  encodeMessage,
} from '../../../src/raft/index.js';
import { raftMessageArbitrary } from '../../support/arbitraries/raft-message.js';

function expectBadMessageOrValid(bytes: Uint8Array): void {
  try {
    const decoded = decodeMessage(bytes);
    // Whatever decodes must encode back to the same bytes (the encoding is canonical).
    expect(encodeMessage(decoded)).toEqual(bytes);
  } catch (error) {
    expect(isMeshError(error, 'BAD_MESSAGE')).toBe(true);
  }
}

describe('message codec', () => {
  it('decode(encode(message)) is the message', () => {
    fc.assert(
      fc.property(raftMessageArbitrary, (original) => {
        expect(decodeMessage(encodeMessage(original))).toEqual(original);
      }),
      { numRuns: 500 },
    );
  });

  it('random bytes either decode canonically or throw BAD_MESSAGE, never anything else', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), expectBadMessageOrValid), { numRuns: 2000 });
  });

  it('truncated and bit-flipped messages throw BAD_MESSAGE or decode canonically', () => {
    fc.assert(
      fc.property(raftMessageArbitrary, fc.nat(), fc.nat({ max: 7 }), (original, position, bit) => {
        const bytes = encodeMessage(original);
        expectBadMessageOrValid(bytes.subarray(0, position % bytes.length));
        const flipped = bytes.slice();
        flipped[position % bytes.length]! ^= 1 << bit;
        expectBadMessageOrValid(flipped);
      }),
      { numRuns: 1000 },
    );
  });

  it('a huge declared length is refused before any allocation', () => {
    // version 1, append, from 1, to 2, term 1, prev 0/0, commit 0, then 2^40 entries.
    const bytes = Uint8Array.of(1, 4, 1, 2, 1, 0, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20);
    expect(() => decodeMessage(bytes)).toThrow(/exceeds the remaining bytes/);
  });
});

describe('config change codec', () => {
  it('round-trips every kind of change', () => {
    const changes = [
      { type: 'addLearner', node: 4 },
      { type: 'removeLearner', node: 4 },
      { type: 'promoteLearner', node: 7 },
      { type: 'changeVoters', add: [4, 5], remove: [1] },
      { type: 'leaveJoint' },
    ] as const;
    for (const change of changes) expect(decodeConfigChange(encodeConfigChange(change))).toEqual(change);
    expect(() => decodeConfigChange(Uint8Array.of(9))).toThrow(/malformed/);
  });
});
