/**
 * Read heat: each read adds to a blob's heat on the node that reads it, and heat halves every
 * BLOB_HEAT_HALF_LIFE_MS, so a blob nobody reads cools by itself. Pure: times come in as
 * parameters (wall-clock milliseconds, since heat rows are compared across nodes).
 */
import { assert } from '../lib/index.js';
import type { BlobId } from './blob-id.js';
import { BLOB_HEAT_HALF_LIFE_MS, MAX_HEAT_ENTRIES_PER_NODE, MIN_TRACKED_BLOB_HEAT } from './limits.js';

/** `heat` measured at `fromMs`, as it stands at `toMs` (never grows: a time before `fromMs` counts as `fromMs`). */
export function decayedHeat(
  heat: number,
  fromMs: number,
  toMs: number,
  halfLifeMs = BLOB_HEAT_HALF_LIFE_MS,
): number {
  const elapsedMs = Math.max(0, toMs - fromMs);
  return heat * 2 ** (-elapsedMs / halfLifeMs);
}

interface HeatEntry {
  heat: number;
  atMs: number;
}

/** One node's heat per blob, bounded: past `maxEntries` the coolest blob is forgotten. */
export class HeatCounter {
  private readonly entries = new Map<BlobId, HeatEntry>();
  private changed = false;

  constructor(
    private readonly halfLifeMs = BLOB_HEAT_HALF_LIFE_MS,
    private readonly maxEntries = MAX_HEAT_ENTRIES_PER_NODE,
  ) {
    assert(halfLifeMs > 0 && maxEntries > 0, 'heat needs a positive half-life and room for one entry');
  }

  add(id: BlobId, amount: number, nowMs: number): void {
    const entry = this.entries.get(id);
    const heat =
      (entry === undefined ? 0 : decayedHeat(entry.heat, entry.atMs, nowMs, this.halfLifeMs)) + amount;
    this.entries.delete(id);
    this.entries.set(id, { heat, atMs: nowMs });
    this.changed = true;
    if (this.entries.size > this.maxEntries) this.forgetCoolest(nowMs);
  }

  heatOf(id: BlobId, nowMs: number): number {
    const entry = this.entries.get(id);
    return entry === undefined ? 0 : decayedHeat(entry.heat, entry.atMs, nowMs, this.halfLifeMs);
  }

  /** Every tracked blob's heat at `nowMs`; blobs cooled below MIN_TRACKED_BLOB_HEAT are forgotten. */
  snapshot(nowMs: number): Map<BlobId, number> {
    const heats = new Map<BlobId, number>();
    for (const [id, entry] of this.entries) {
      const heat = decayedHeat(entry.heat, entry.atMs, nowMs, this.halfLifeMs);
      if (heat < MIN_TRACKED_BLOB_HEAT) {
        this.entries.delete(id);
        this.changed = true;
      } else heats.set(id, heat);
    }
    return heats;
  }

  /** True once after each change (a read, a forgotten blob): whether a new row is worth publishing. */
  takeChanged(): boolean {
    const changed = this.changed;
    this.changed = false;
    return changed;
  }

  private forgetCoolest(nowMs: number): void {
    let coolest: BlobId | undefined;
    let coolestHeat = Number.POSITIVE_INFINITY;
    for (const [id, entry] of this.entries) {
      const heat = decayedHeat(entry.heat, entry.atMs, nowMs, this.halfLifeMs);
      if (heat < coolestHeat) {
        coolest = id;
        coolestHeat = heat;
      }
    }
    if (coolest !== undefined) this.entries.delete(coolest);
  }
}
