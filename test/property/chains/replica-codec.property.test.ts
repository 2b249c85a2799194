import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeChainMessage, encodeChainMessage } from '../../../src/chains/index.js';
import { isMeshError } from '../../../src/lib/index.js';
import { chainReplicaMessageArbitrary } from '../../support/arbitraries/chain-message.js';

describe('chain replica message codec', () => {
  it('decodes what it encodes, for every message type', () => {
    fc.assert(
      fc.property(chainReplicaMessageArbitrary, (original) => {
        expect(decodeChainMessage(encodeChainMessage(original))).toEqual(original);
      }),
      { numRuns: 500 },
    );
  });

  it('rejects truncated or altered bytes with CHAIN_MESSAGE_INVALID, never anything else', () => {
    fc.assert(
      fc.property(
        chainReplicaMessageArbitrary,
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        (original, position, value) => {
          const bytes = encodeChainMessage(original);
          const cut = bytes.subarray(0, position % bytes.length);
          expect(() => decodeChainMessage(cut)).toThrow(
            expect.objectContaining({ code: 'CHAIN_MESSAGE_INVALID' }),
          );
          const altered = bytes.slice();
          altered[position % bytes.length] = value;
          try {
            decodeChainMessage(altered);
          } catch (error) {
            expect(isMeshError(error, 'CHAIN_MESSAGE_INVALID'), String(error)).toBe(true);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
