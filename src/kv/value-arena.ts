/**
 * The stored values' bytes, packed into large slabs. A store keeps one value per revision, and
 * one string per value was one heap object per revision for every full garbage collection to
 * mark (about 280,000 under saturation). A slab is one ArrayBuffer, whose bytes V8 does not trace,
 * so a value costs two small integers in its key's record slots (its address and length) and no
 * object at all. Slabs are append-only and never written again, so a view of a value stays valid
 * for as long as someone holds it (a dropped slab's memory is freed once no view refers to it).
 *
 * Space comes back two ways: a slab whose values were all released is dropped, and when the
 * dropped-but-pinned space (released values in slabs that still hold live ones) outgrows what is
 * live, the emptiest slabs become victims of an evacuation: the store walks its keys a few per
 * write (`MvccStore`), moving each value found in a victim to the current slab.
 */
import { assert } from '../lib/index.js';

/** Bytes of one slab; also what an address counts per slab number. */
export const VALUE_SLAB_BYTES = 1024 * 1024;

/** Values longer than this get a slab of their own, so a full slab wastes at most this much. */
export const MAX_SHARED_SLAB_VALUE_BYTES = VALUE_SLAB_BYTES / 8;

/** Released space in still-used slabs that starts an evacuation, at the least (below it, none). */
export const MIN_EVACUATION_WASTE_BYTES = 8 * 1024 * 1024;

const EMPTY_VALUE = new Uint8Array(0);

/** Where a value lives: `slab * VALUE_SLAB_BYTES + offset` (a small integer while under 2 GiB of slabs). */
export type ValueAddress = number;

export class ValueArena {
  /** Slabs by number; a number whose slab was dropped is undefined until reused. */
  private readonly slabs: (Uint8Array | undefined)[] = [];
  /** Bytes of live values per slab. */
  private readonly slabLiveBytes: number[] = [];
  /** True for slabs being evacuated (see `startEvacuation`). */
  private readonly victims: boolean[] = [];
  private readonly freeNumbers: number[] = [];
  /** The slab small values are appended to (-1: none yet) and how much of it is used. */
  private current = -1;
  private currentUsed = 0;
  private victimCount = 0;
  /** Bytes of values stored and not released. */
  liveBytes = 0;
  /** Bytes of the slabs held. */
  slabBytes = 0;

  /** Copies `value` in; its address, for `view` and `release` with the same length. */
  store(value: Uint8Array): ValueAddress {
    const length = value.byteLength;
    if (length === 0) return 0;
    let number: number;
    let offset: number;
    if (length > MAX_SHARED_SLAB_VALUE_BYTES) {
      number = this.newSlab(length);
      offset = 0;
    } else {
      if (this.current < 0 || this.currentUsed + length > VALUE_SLAB_BYTES) {
        this.sealCurrent();
        this.current = this.newSlab(VALUE_SLAB_BYTES);
        this.currentUsed = 0;
      }
      number = this.current;
      offset = this.currentUsed;
      this.currentUsed += length;
    }
    (this.slabs[number] as Uint8Array).set(value, offset);
    this.slabLiveBytes[number] = (this.slabLiveBytes[number] as number) + length;
    this.liveBytes += length;
    return number * VALUE_SLAB_BYTES + offset;
  }

  /** The value at `address` as a view of its slab (no copy; never written again). */
  view(address: ValueAddress, length: number): Uint8Array {
    if (length === 0) return EMPTY_VALUE;
    const number = Math.floor(address / VALUE_SLAB_BYTES);
    const offset = address - number * VALUE_SLAB_BYTES;
    const slab = this.slabs[number];
    assert(slab !== undefined, () => `value arena: no slab ${number} for address ${address}`);
    return slab.subarray(offset, offset + length);
  }

  /** The value at `address` is no longer stored; its slab is dropped once it holds none. */
  release(address: ValueAddress, length: number): void {
    if (length === 0) return;
    const number = Math.floor(address / VALUE_SLAB_BYTES);
    const live = (this.slabLiveBytes[number] as number) - length;
    assert(live >= 0 && this.slabs[number] !== undefined, 'value arena: released more than stored');
    this.slabLiveBytes[number] = live;
    this.liveBytes -= length;
    if (live === 0 && number !== this.current) this.dropSlab(number);
  }

  /** True when the value at `address` must be moved by the evacuation in progress. */
  isVictim(address: ValueAddress, length: number): boolean {
    return length > 0 && this.victims[Math.floor(address / VALUE_SLAB_BYTES)] === true;
  }

  /** Copies the value at `address` to the current slab and releases the old copy; the new address. */
  move(address: ValueAddress, length: number): ValueAddress {
    const moved = this.store(this.view(address, length));
    this.release(address, length);
    return moved;
  }

  /**
   * Space held by slabs beyond their live values and the current slab's free room: released
   * values that still-used slabs pin.
   */
  get wastedBytes(): number {
    const currentRoom = this.current < 0 ? 0 : VALUE_SLAB_BYTES - this.currentUsed;
    return this.slabBytes - this.liveBytes - currentRoom;
  }

  get evacuating(): boolean {
    return this.victimCount > 0;
  }

  /**
   * When the wasted space outgrows the live values (and `MIN_EVACUATION_WASTE_BYTES`), marks every
   * sealed slab at most half live as a victim. True when an evacuation started: the caller then
   * moves every victim's values (`isVictim`, `move`) and calls `finishEvacuation`. It is over
   * (`evacuating` false) as soon as the last victim's last value moved out.
   */
  startEvacuation(): boolean {
    if (this.evacuating) return false;
    if (this.wastedBytes < Math.max(MIN_EVACUATION_WASTE_BYTES, this.liveBytes)) return false;
    for (let number = 0; number < this.slabs.length; number++) {
      const slab = this.slabs[number];
      if (slab === undefined || number === this.current) continue;
      if ((this.slabLiveBytes[number] as number) * 2 <= slab.byteLength) {
        this.victims[number] = true;
        this.victimCount++;
      }
    }
    return this.evacuating;
  }

  /**
   * The caller walked every stored value: each victim was dropped as its last value moved out,
   * so none is left (one left means a value was stored where the walk did not look).
   */
  finishEvacuation(): void {
    assert(this.victimCount === 0, () => `value arena: ${this.victimCount} victim slabs still hold values`);
  }

  private newSlab(bytes: number): number {
    const number = this.freeNumbers.pop() ?? this.slabs.length;
    this.slabs[number] = new Uint8Array(bytes);
    this.slabLiveBytes[number] = 0;
    this.victims[number] = false;
    this.slabBytes += bytes;
    return number;
  }

  private sealCurrent(): void {
    const sealed = this.current;
    this.current = -1;
    if (sealed >= 0 && this.slabLiveBytes[sealed] === 0) this.dropSlab(sealed);
  }

  private dropSlab(number: number): void {
    const slab = this.slabs[number] as Uint8Array;
    this.slabBytes -= slab.byteLength;
    this.slabs[number] = undefined;
    if (this.victims[number] === true) {
      this.victims[number] = false;
      this.victimCount--;
    }
    this.freeNumbers.push(number);
  }
}
