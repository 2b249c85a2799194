import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeKvCommand, encodeKvCommand } from '../../../src/kv/index.js';
import { kvCommandArbitrary } from '../../support/arbitraries/kv-command.js';

describe('command codec round trip', () => {
  it('decodes every encoded command to an equal command', () => {
    fc.assert(
      fc.property(kvCommandArbitrary, (original) => {
        const encoded = encodeKvCommand(original);
        expect(decodeKvCommand(encoded)).toEqual(original);
      }),
      { numRuns: 500 },
    );
  });
});
