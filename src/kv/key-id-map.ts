/**
 * Key ids by key, in two typed arrays: an open-addressing hash table with linear probing. A JS
 * `Map` from key string to id held one table entry per key on the V8 heap (7.3 MB at 180,000
 * keys) pointing at one string per key for every full collection to mark; here a slot is an id
 * and its key's hash, and the keys themselves stay wherever `keyEquals` reads them (the key
 * table's off-heap bytes). Removal shifts the following run back, so no tombstones build up.
 */

/** An empty slot. */
const EMPTY = -1;
const INITIAL_SLOTS = 1024;

/** A 32-bit hash of a binary string: FNV-1a over its chars, then murmur3's finaliser. */
export function hashKey(key: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < key.length; index++) hash = Math.imul(hash ^ key.charCodeAt(index), 0x01000193);
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  return hash ^ (hash >>> 16);
}

export class KeyIdMap {
  private ids = new Int32Array(INITIAL_SLOTS).fill(EMPTY);
  private hashes = new Int32Array(INITIAL_SLOTS);
  private mask = INITIAL_SLOTS - 1;
  /** Keys held. */
  size = 0;

  /** `keyEquals(id, key)`: whether `id` is the id of `key`. */
  constructor(private readonly keyEquals: (id: number, key: string) => boolean) {}

  get(key: string): number | undefined {
    const slot = this.slotOf(key, hashKey(key));
    return slot === EMPTY ? undefined : this.ids[slot];
  }

  has(key: string): boolean {
    return this.slotOf(key, hashKey(key)) !== EMPTY;
  }

  /** Adds `id` under `key` (not present). */
  add(key: string, id: number): void {
    if ((this.size + 1) * 2 > this.ids.length) this.grow();
    this.place(hashKey(key), id);
    this.size++;
  }

  /** Removes `key`; its id, or undefined when it was not present. */
  delete(key: string): number | undefined {
    let slot = this.slotOf(key, hashKey(key));
    if (slot === EMPTY) return undefined;
    const id = this.ids[slot];
    this.size--;
    // Shift back each following entry of the run that may sit at `slot` (its home at or before it).
    for (let next = (slot + 1) & this.mask; this.ids[next] !== EMPTY; next = (next + 1) & this.mask) {
      const home = (this.hashes[next] as number) & this.mask;
      if (((next - home) & this.mask) >= ((next - slot) & this.mask)) {
        this.ids[slot] = this.ids[next] as number;
        this.hashes[slot] = this.hashes[next] as number;
        slot = next;
      }
    }
    this.ids[slot] = EMPTY;
    return id;
  }

  /** The slot holding `key`, or `EMPTY`. */
  private slotOf(key: string, hash: number): number {
    for (let slot = hash & this.mask; ; slot = (slot + 1) & this.mask) {
      const id = this.ids[slot] as number;
      if (id === EMPTY) return EMPTY;
      if (this.hashes[slot] === hash && this.keyEquals(id, key)) return slot;
    }
  }

  private place(hash: number, id: number): void {
    let slot = hash & this.mask;
    while (this.ids[slot] !== EMPTY) slot = (slot + 1) & this.mask;
    this.ids[slot] = id;
    this.hashes[slot] = hash;
  }

  private grow(): void {
    const ids = this.ids;
    const hashes = this.hashes;
    this.ids = new Int32Array(ids.length * 2).fill(EMPTY);
    this.hashes = new Int32Array(ids.length * 2);
    this.mask = ids.length * 2 - 1;
    for (let slot = 0; slot < ids.length; slot++) {
      if (ids[slot] !== EMPTY) this.place(hashes[slot] as number, ids[slot] as number);
    }
  }
}
