import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ChainEntry,
  DaemonHost,
  genesisLink,
  memberIdentity,
  validateChain,
} from '../../../src/compute/index.js';
import { isMeshError, ManualClock } from '../../../src/lib/index.js';
import { eventOf, LedgerDaemon, seedOf } from '../../unit/compute/fixtures.js';

const CHAIN_CODES = ['CHAIN_WRONG_ORIGIN', 'CHAIN_SEQUENCE_GAP', 'CHAIN_WRONG_PARENT', 'CHAIN_BAD_GENESIS'];

const IDENTITY = memberIdentity(seedOf(21), 0);
const chainCache = new Map<string, { origin: bigint; entries: ChainEntry[] }>();

/** A real chain produced by a host: genesis plus every output of `eventCount` events (memoized). */
function hostChain(eventCount: number, outputsPerEvent: number): { origin: bigint; entries: ChainEntry[] } {
  const key = `${eventCount}/${outputsPerEvent}`;
  const cached = chainCache.get(key);
  if (cached !== undefined) return cached;
  const built = buildHostChain(eventCount, outputsPerEvent);
  chainCache.set(key, built);
  return built;
}

function buildHostChain(
  eventCount: number,
  outputsPerEvent: number,
): { origin: bigint; entries: ChainEntry[] } {
  const host = new DaemonHost(IDENTITY, new LedgerDaemon(() => outputsPerEvent), new ManualClock(), {
    snapshotEveryEvents: 0,
    outputLogCapacityEntries: 4096,
    maxQueuedDeliveries: 0,
  });
  for (let id = 1; id <= eventCount; id++) host.deliver(eventOf(id));
  const genesis: ChainEntry = { link: genesisLink(host.originHash), payload: new Uint8Array(0) };
  return { origin: host.originHash, entries: [genesis, ...host.outputLog()] };
}

type Mutation =
  | { readonly kind: 'origin'; readonly at: number; readonly flip: bigint }
  | { readonly kind: 'sequence'; readonly at: number; readonly delta: number }
  | { readonly kind: 'parent'; readonly at: number; readonly flip: bigint }
  | { readonly kind: 'horizon'; readonly at: number; readonly delta: number }
  | { readonly kind: 'payload'; readonly at: number; readonly byte: number }
  | { readonly kind: 'drop'; readonly at: number }
  | { readonly kind: 'swap'; readonly at: number };

const mutationArbitrary: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('origin' as const),
    at: fc.nat(),
    flip: fc.bigInt({ min: 1n, max: (1n << 64n) - 1n }),
  }),
  fc.record({
    kind: fc.constant('sequence' as const),
    at: fc.nat(),
    delta: fc.integer({ min: -3, max: 3 }).filter((d) => d !== 0),
  }),
  fc.record({
    kind: fc.constant('parent' as const),
    at: fc.nat(),
    flip: fc.bigInt({ min: 1n, max: (1n << 64n) - 1n }),
  }),
  fc.record({ kind: fc.constant('horizon' as const), at: fc.nat(), delta: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ kind: fc.constant('payload' as const), at: fc.nat(), byte: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('drop' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), at: fc.nat() }),
);

/** Applies a mutation that changes the chain; the last link only matters if something follows it. */
function mutate(entries: ChainEntry[], mutation: Mutation): ChainEntry[] {
  const result = [...entries];
  const at = mutation.at % result.length;
  const entry = result[at]!;
  switch (mutation.kind) {
    case 'origin':
      result[at] = { ...entry, link: { ...entry.link, originHash: entry.link.originHash ^ mutation.flip } };
      break;
    case 'sequence':
      result[at] = { ...entry, link: { ...entry.link, sequence: entry.link.sequence + mutation.delta } };
      break;
    case 'parent':
      result[at] = { ...entry, link: { ...entry.link, parentHash: entry.link.parentHash ^ mutation.flip } };
      break;
    case 'horizon':
      // A changed horizon is caught by the next link's parent hash; keep one after it.
      result[Math.min(at, result.length - 2)] = {
        ...result[Math.min(at, result.length - 2)]!,
        link: {
          ...result[Math.min(at, result.length - 2)]!.link,
          horizon: entry.link.horizon + mutation.delta,
        },
      };
      break;
    case 'payload': {
      const target = Math.min(at, result.length - 2);
      const original = result[target]!;
      const payload = original.payload.length === 0 ? Uint8Array.of(mutation.byte) : original.payload.slice();
      if (original.payload.length > 0) payload[0] = payload[0]! ^ mutation.byte;
      result[target] = { ...original, payload };
      break;
    }
    case 'drop':
      result.splice(Math.min(at, result.length - 2), 1);
      break;
    case 'swap': {
      const first = Math.min(at, result.length - 2);
      [result[first], result[first + 1]] = [result[first + 1]!, result[first]!];
      break;
    }
  }
  return result;
}

describe('chain validation fuzzing', () => {
  it('accepts every chain a host produces', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 3 }), (events, outputs) => {
        const { origin, entries } = hostChain(events, outputs);
        expect(() => validateChain(origin, entries)).not.toThrow();
      }),
      { numRuns: 50 },
    );
  });

  it('rejects every mutated chain with one of the typed chain errors', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 3 }),
        mutationArbitrary,
        (events, outputs, mutation) => {
          const { origin, entries } = hostChain(events, outputs);
          const mutated = mutate(entries, mutation);
          let code: string | undefined;
          try {
            validateChain(origin, mutated);
          } catch (error) {
            code = isMeshError(error) ? error.code : 'not a MeshError';
          }
          expect(CHAIN_CODES).toContain(code);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('never throws anything but a typed chain error on arbitrary links', () => {
    const linkArbitrary = fc.record({
      link: fc.record({
        originHash: fc.constantFrom(1n, 2n),
        sequence: fc.integer({ min: 0, max: 4 }),
        parentHash: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        horizon: fc.nat(10),
      }),
      payload: fc.uint8Array({ maxLength: 4 }),
    });
    fc.assert(
      fc.property(fc.array(linkArbitrary, { minLength: 1, maxLength: 6 }), (entries) => {
        try {
          validateChain(1n, entries);
        } catch (error) {
          expect(isMeshError(error) && CHAIN_CODES.includes(error.code)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
