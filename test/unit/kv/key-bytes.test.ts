import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KEY_CHUNK_BYTES, KeyBytes, MAX_SHARED_SLOT_BYTES } from '../../../src/kv/key-bytes.js';
import { hashKey, KeyIdMap } from '../../../src/kv/key-id-map.js';

const binaryOf = (bytes: readonly number[]): string => String.fromCharCode(...bytes);
/** Short keys of every size class, over all byte values. */
const shortKey = fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 300 }).map(binaryOf);

describe('KeyBytes', () => {
  it('gives back every stored key and orders it as strings compare, as keys come and go', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), shortKey), { maxLength: 400 }),
        shortKey,
        (operations, probe) => {
          const bytes = new KeyBytes();
          const live: { key: string; address: number }[] = [];
          for (const [store, key] of operations) {
            if (store || live.length === 0) live.push({ key, address: bytes.store(key) });
            else {
              const { key: released, address } = live.splice(
                key.length % live.length,
                1,
              )[0] as (typeof live)[0];
              bytes.release(address, released.length);
            }
          }
          for (const { key, address } of live) {
            expect(bytes.read(address, key.length)).toBe(key);
            expect(bytes.equals(address, key.length, key)).toBe(true);
            expect(bytes.equals(address, key.length, probe)).toBe(key === probe);
            expect(Math.sign(bytes.compare(address, key.length, probe))).toBe(
              key < probe ? -1 : key > probe ? 1 : 0,
            );
          }
          expect(bytes.liveBytes).toBe(live.reduce((sum, { key }) => sum + key.length, 0));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('reuses a released slot of the same class and gives a long key a chunk of its own', () => {
    const bytes = new KeyBytes();
    const addresses = Array.from({ length: 1000 }, (_, number) =>
      bytes.store(`key-${number}`.padEnd(20, '.')),
    );
    const held = bytes.chunkBytes;
    expect(held).toBe(KEY_CHUNK_BYTES);
    for (const address of addresses) bytes.release(address, 20);
    for (let number = 0; number < 1000; number++) bytes.store(`other-${number}`.padEnd(17, '.'));
    expect(bytes.chunkBytes).toBe(held);
    const long = 'x'.repeat(MAX_SHARED_SLOT_BYTES + 1);
    const address = bytes.store(long);
    expect(bytes.chunkBytes).toBeGreaterThan(held);
    expect(bytes.read(address, long.length)).toBe(long);
    bytes.release(address, long.length);
    expect(bytes.chunkBytes).toBe(held);
  });

  it('refuses a string that is not binary', () => {
    expect(() => new KeyBytes().store('caf\u00e9\u0100')).toThrow(/binary string/);
  });
});

describe('KeyIdMap', () => {
  it('agrees with a Map under random adds and deletes, through growth and collisions', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.nat(3000)), { minLength: 2000, maxLength: 5000 }),
        (operations) => {
          const keys: string[] = [];
          const map = new KeyIdMap((id, key) => keys[id] === key);
          const model = new Map<string, number>();
          for (const [add, number] of operations) {
            const key = `k${number}`;
            if (add && !model.has(key)) {
              const id = keys.push(key) - 1;
              map.add(key, id);
              model.set(key, id);
            } else if (!add) {
              expect(map.delete(key)).toBe(model.get(key));
              model.delete(key);
            }
          }
          expect(map.size).toBe(model.size);
          for (let number = 0; number <= 3000; number++)
            expect(map.get(`k${number}`)).toBe(model.get(`k${number}`));
        },
      ),
      { numRuns: 30 },
    );
  });

  it('finds every key of a run that shares a home slot after one of them is deleted', () => {
    // Keys whose hashes share their low 10 bits share a home slot in the first table (1,024 slots).
    const home = hashKey('k0') & 1023;
    const colliding = Array.from({ length: 200_000 }, (_, number) => `k${number}`)
      .filter((key) => (hashKey(key) & 1023) === home)
      .slice(0, 5);
    expect(colliding).toHaveLength(5);
    for (let removed = 0; removed < colliding.length; removed++) {
      const map = new KeyIdMap((id, key) => colliding[id] === key);
      for (const [id, key] of colliding.entries()) map.add(key, id);
      expect(map.delete(colliding[removed] as string)).toBe(removed);
      for (const [id, key] of colliding.entries()) expect(map.get(key)).toBe(id === removed ? undefined : id);
    }
  });

  it('hashes keys that differ in one byte apart', () => {
    const hashes = new Set(Array.from({ length: 10_000 }, (_, number) => hashKey(`key-${number}`) & 0xffff));
    // 10,000 keys into 65,536 buckets: a good hash leaves few collisions (expected about 700).
    expect(hashes.size).toBeGreaterThan(9_000);
  });
});
