import { describe, expect, it } from 'vitest';
import {
  type CausalLink,
  type ChainEntry,
  ChainValidator,
  genesisLink,
  hashLink,
  nextLink,
  validateChain,
} from '../../../src/compute/index.js';
import { codeOf } from './fixtures.js';

const ORIGIN = 0x1234_5678_9abc_def0n;

function buildChain(origin: bigint, payloads: Uint8Array[]): ChainEntry[] {
  const entries: ChainEntry[] = [{ link: genesisLink(origin), payload: new Uint8Array(0) }];
  payloads.forEach((payload, index) => {
    const previous = entries[entries.length - 1]!;
    entries.push({ link: nextLink(previous.link, previous.payload, index + 1), payload });
  });
  return entries;
}

describe('causal chains', () => {
  const payloads = [Uint8Array.of(1), Uint8Array.of(2, 2), Uint8Array.of(3, 3, 3)];

  it('starts at a genesis link with sequence 0 and parent 0', () => {
    expect(genesisLink(ORIGIN)).toEqual({ originHash: ORIGIN, sequence: 0, parentHash: 0n, horizon: 0 });
  });

  it('makes each parent hash the hash of the previous link and its payload', () => {
    const chain = buildChain(ORIGIN, payloads);
    for (let index = 1; index < chain.length; index++) {
      const previous = chain[index - 1]!;
      expect(chain[index]!.link.sequence).toBe(index);
      expect(chain[index]!.link.parentHash).toBe(hashLink(previous.link, previous.payload));
    }
    expect(() => validateChain(ORIGIN, chain)).not.toThrow();
  });

  it('gives different hashes when any field of the link or the payload changes', () => {
    const link: CausalLink = { originHash: ORIGIN, sequence: 5, parentHash: 99n, horizon: 7 };
    const base = hashLink(link, Uint8Array.of(1, 2));
    expect(hashLink({ ...link, originHash: ORIGIN + 1n }, Uint8Array.of(1, 2))).not.toBe(base);
    expect(hashLink({ ...link, sequence: 6 }, Uint8Array.of(1, 2))).not.toBe(base);
    expect(hashLink({ ...link, parentHash: 98n }, Uint8Array.of(1, 2))).not.toBe(base);
    expect(hashLink({ ...link, horizon: 8 }, Uint8Array.of(1, 2))).not.toBe(base);
    expect(hashLink(link, Uint8Array.of(1, 3))).not.toBe(base);
  });

  it('rejects a link from another origin with CHAIN_WRONG_ORIGIN', () => {
    const chain = buildChain(ORIGIN, payloads);
    const validator = ChainValidator.fromGenesis(ORIGIN);
    validator.accept(chain[0]!.link, chain[0]!.payload);
    const foreign = { ...chain[1]!.link, originHash: ORIGIN ^ 1n };
    expect(codeOf(() => validator.accept(foreign, chain[1]!.payload))).toBe('CHAIN_WRONG_ORIGIN');
  });

  it('rejects a skipped or repeated sequence with CHAIN_SEQUENCE_GAP', () => {
    const chain = buildChain(ORIGIN, payloads);
    expect(codeOf(() => validateChain(ORIGIN, [chain[0]!, chain[2]!]))).toBe('CHAIN_SEQUENCE_GAP');
    expect(codeOf(() => validateChain(ORIGIN, [chain[0]!, chain[1]!, chain[1]!]))).toBe('CHAIN_SEQUENCE_GAP');
    expect(codeOf(() => validateChain(ORIGIN, [chain[1]!]))).toBe('CHAIN_SEQUENCE_GAP');
  });

  it('rejects a wrong parent hash or a changed payload with CHAIN_WRONG_PARENT', () => {
    const chain = buildChain(ORIGIN, payloads);
    const badParent = {
      link: { ...chain[2]!.link, parentHash: chain[2]!.link.parentHash ^ 4n },
      payload: chain[2]!.payload,
    };
    expect(codeOf(() => validateChain(ORIGIN, [chain[0]!, chain[1]!, badParent]))).toBe('CHAIN_WRONG_PARENT');
    const changedPayload = { link: chain[1]!.link, payload: Uint8Array.of(9) };
    expect(codeOf(() => validateChain(ORIGIN, [chain[0]!, changedPayload, chain[2]!]))).toBe(
      'CHAIN_WRONG_PARENT',
    );
  });

  it('rejects a genesis with a parent or a payload with CHAIN_BAD_GENESIS', () => {
    expect(
      codeOf(() =>
        validateChain(ORIGIN, [
          { link: { ...genesisLink(ORIGIN), parentHash: 1n }, payload: new Uint8Array(0) },
        ]),
      ),
    ).toBe('CHAIN_BAD_GENESIS');
    expect(
      codeOf(() => validateChain(ORIGIN, [{ link: genesisLink(ORIGIN), payload: Uint8Array.of(1) }])),
    ).toBe('CHAIN_BAD_GENESIS');
  });

  it('continues from a trusted link and stays put after a rejection', () => {
    const chain = buildChain(ORIGIN, payloads);
    const validator = ChainValidator.after(chain[1]!.link, chain[1]!.payload);
    expect(validator.nextSequence).toBe(2);
    expect(codeOf(() => validator.accept(chain[3]!.link, chain[3]!.payload))).toBe('CHAIN_SEQUENCE_GAP');
    validator.accept(chain[2]!.link, chain[2]!.payload);
    validator.accept(chain[3]!.link, chain[3]!.payload);
    expect(validator.nextSequence).toBe(4);
  });
});
