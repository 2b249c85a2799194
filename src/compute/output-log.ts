import { assert } from '../lib/index.js';
import { type ChainEntry, joinHalves } from './causal.js';

/**
 * The last `capacity` outputs of one daemon's chain, in a ring of parallel typed arrays so
 * that appending allocates nothing. `CausalLink` objects are built only when read.
 */
export class OutputLog {
  private readonly sequences: Float64Array;
  private readonly horizons: Float64Array;
  private readonly parentHighs: Uint32Array;
  private readonly parentLows: Uint32Array;
  private readonly payloads: (Uint8Array | undefined)[];
  private start = 0;
  private count = 0;

  constructor(
    readonly capacityEntries: number,
    private readonly originHash: bigint,
  ) {
    assert(Number.isInteger(capacityEntries) && capacityEntries > 0, 'output log capacity must be positive');
    this.sequences = new Float64Array(capacityEntries);
    this.horizons = new Float64Array(capacityEntries);
    this.parentHighs = new Uint32Array(capacityEntries);
    this.parentLows = new Uint32Array(capacityEntries);
    this.payloads = new Array<Uint8Array | undefined>(capacityEntries).fill(undefined);
  }

  get size(): number {
    return this.count;
  }

  append(
    sequence: number,
    parentHigh: number,
    parentLow: number,
    horizon: number,
    payload: Uint8Array,
  ): void {
    const capacity = this.capacityEntries;
    let slot = this.start + this.count;
    if (slot >= capacity) slot -= capacity;
    if (this.count === capacity) {
      this.start = this.start + 1 === capacity ? 0 : this.start + 1;
    } else {
      this.count++;
    }
    this.sequences[slot] = sequence;
    this.horizons[slot] = horizon;
    this.parentHighs[slot] = parentHigh;
    this.parentLows[slot] = parentLow;
    this.payloads[slot] = payload;
  }

  clear(): void {
    for (let index = 0; index < this.capacityEntries; index++) this.payloads[index] = undefined;
    this.start = 0;
    this.count = 0;
  }

  /** The retained entries, oldest first. */
  entries(): ChainEntry[] {
    const result: ChainEntry[] = [];
    for (let offset = 0; offset < this.count; offset++) {
      const slot = (this.start + offset) % this.capacityEntries;
      result.push({
        link: {
          originHash: this.originHash,
          sequence: this.sequences[slot]!,
          parentHash: joinHalves(this.parentHighs[slot]!, this.parentLows[slot]!),
          horizon: this.horizons[slot]!,
        },
        payload: this.payloads[slot]!,
      });
    }
    return result;
  }
}
