import { describe, expect, it } from 'vitest';
import { MvccStore } from '../../../src/kv/mvcc.js';
import {
  MAX_SHARED_SLAB_VALUE_BYTES,
  MIN_EVACUATION_WASTE_BYTES,
  VALUE_SLAB_BYTES,
  ValueArena,
} from '../../../src/kv/value-arena.js';

/** `length` bytes that differ with `seed`. */
function pattern(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let index = 0; index < length; index++) bytes[index] = (seed * 31 + index) & 0xff;
  return bytes;
}

/** Byte equality at native speed (vitest compares typed arrays element by element). */
function expectBytes(actual: Uint8Array | null | undefined, expected: Uint8Array): void {
  expect(actual).toBeInstanceOf(Uint8Array);
  expect(Buffer.compare(actual as Uint8Array, expected)).toBe(0);
}

function putOne(store: MvccStore, key: string, value: Uint8Array): void {
  store.begin();
  store.put(key, value, 0);
  store.commit();
}

describe('ValueArena', () => {
  it('gives back what was stored, drops a slab once its values are released, and leaves earlier views intact', () => {
    const arena = new ValueArena();
    const small = 1000;
    const perSlab = Math.floor(VALUE_SLAB_BYTES / small);
    const addresses: number[] = [];
    // Two slabs and a bit: the first two are sealed.
    for (let seed = 0; seed < 2 * perSlab + 5; seed++) addresses.push(arena.store(pattern(small, seed)));
    expect(arena.slabBytes).toBe(3 * VALUE_SLAB_BYTES);
    expect(arena.liveBytes).toBe(addresses.length * small);
    for (const [seed, address] of addresses.entries()) {
      expectBytes(arena.view(address, small), pattern(small, seed));
    }

    const early = arena.view(addresses[0] as number, small);
    for (let seed = 0; seed < perSlab; seed++) arena.release(addresses[seed] as number, small);
    expect(arena.slabBytes).toBe(2 * VALUE_SLAB_BYTES);
    // Slabs are never written again: a view handed out before stays as it was.
    expectBytes(early, pattern(small, 0));

    const large = pattern(MAX_SHARED_SLAB_VALUE_BYTES + 1, 7);
    const largeAddress = arena.store(large);
    expect(arena.slabBytes).toBe(2 * VALUE_SLAB_BYTES + large.length);
    expectBytes(arena.view(largeAddress, large.length), large);
    arena.release(largeAddress, large.length);
    expect(arena.slabBytes).toBe(2 * VALUE_SLAB_BYTES);
    expect(arena.view(arena.store(new Uint8Array(0)), 0)).toEqual(new Uint8Array(0));
  });

  it('a rolled-back put releases its value', () => {
    const store = new MvccStore();
    putOne(store, 'kept', pattern(100, 1));
    const live = store.values.liveBytes;
    store.begin();
    store.put('gone', pattern(5000, 2), 0);
    store.put('kept', pattern(300, 3), 0);
    store.rollback();
    expect(store.values.liveBytes).toBe(live);
    expectBytes(store.latest('kept')?.value, pattern(100, 1));
    expect(store.latest('gone')).toBeUndefined();
  });

  it('moves long-lived values out of slabs that released values pin, and keeps every value readable', () => {
    const store = new MvccStore();
    const coldKeys = 2000;
    const coldBytes = 512;
    const hotKeys = 10;
    const hotBytes = 16 * 1024;
    let hotWrites = 0;
    const writeHot = (): void => {
      putOne(store, `hot-${hotWrites % hotKeys}`, pattern(hotBytes, hotWrites));
      hotWrites++;
      if (hotWrites % 100 === 0) store.compact(store.currentRevision);
    };
    // Each cold value (never rewritten) lands in a slab between many hot ones, which compaction
    // releases: every slab ends up a few percent live, pinned by its cold values.
    for (let cold = 0; cold < coldKeys; cold++) {
      putOne(store, `cold-${cold}`, pattern(coldBytes, cold));
      writeHot();
    }
    const early = store.latest('cold-0')?.value;
    const written = coldKeys * (coldBytes + hotBytes);
    expect(written).toBeGreaterThan(2 * MIN_EVACUATION_WASTE_BYTES);
    for (let round = 0; round < 250; round++) writeHot();
    store.compact(store.currentRevision);

    const live = coldKeys * coldBytes + hotKeys * hotBytes;
    expect(store.values.liveBytes).toBe(live);
    // Without evacuation the slabs would hold about everything written (over 30 MiB).
    expect(store.values.slabBytes).toBeLessThanOrEqual(
      2 * live + MIN_EVACUATION_WASTE_BYTES + 2 * VALUE_SLAB_BYTES,
    );
    for (let cold = 0; cold < coldKeys; cold++) {
      expectBytes(store.latest(`cold-${cold}`)?.value, pattern(coldBytes, cold));
    }
    for (let hot = 0; hot < hotKeys; hot++) {
      const last = hotWrites - 1 - ((hotWrites - 1 - hot) % hotKeys);
      expectBytes(store.latest(`hot-${hot}`)?.value, pattern(hotBytes, last));
    }
    // A value read before it moved still reads the same.
    expectBytes(early, pattern(coldBytes, 0));
  });
});
