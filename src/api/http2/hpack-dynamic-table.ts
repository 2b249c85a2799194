/**
 * The HPACK dynamic table (RFC 7541 2.3.2, 4) a decoder keeps: a ring of name/value string pairs,
 * newest first in index order, so an insertion or an eviction moves no other entry. An entry's
 * size is its name and value octets plus 32 (4.1); strings are byte strings, so their lengths
 * are their octet counts.
 */
export const ENTRY_OVERHEAD_BYTES = 32;
/** Slots a table starts with: what a gRPC client's headers fill; it doubles when full. */
const INITIAL_SLOTS = 16;

export class HpackDynamicTable {
  /** Ring slots; a power of two, doubled when full up to what the largest limit allows. */
  private names: string[];
  private values: string[];
  private slotMask: number;
  private readonly slotsMax: number;
  /** Slot of the newest entry (index 1 of the dynamic table). */
  private newestSlot = 0;
  private count = 0;
  private usedBytes = 0;
  private limitBytes: number;

  /** `maximumLimitBytes`: the largest size limit a size update may set (our SETTINGS value). */
  constructor(maximumLimitBytes: number) {
    const mostEntries = Math.max(1, Math.floor(maximumLimitBytes / ENTRY_OVERHEAD_BYTES));
    let slotsMax = 1;
    while (slotsMax < mostEntries) slotsMax *= 2;
    this.slotsMax = slotsMax;
    const slots = Math.min(INITIAL_SLOTS, slotsMax);
    this.names = new Array<string>(slots).fill('');
    this.values = new Array<string>(slots).fill('');
    this.slotMask = slots - 1;
    this.limitBytes = maximumLimitBytes;
  }

  get length(): number {
    return this.count;
  }

  get sizeBytes(): number {
    return this.usedBytes;
  }

  /** The name of entry `index` (1 is the newest); the caller checks `index <= length`. */
  name(index: number): string {
    return this.names[(this.newestSlot - index + 1) & this.slotMask] as string;
  }

  value(index: number): string {
    return this.values[(this.newestSlot - index + 1) & this.slotMask] as string;
  }

  /** Entries newest first (for tests and diagnostics: allocates). */
  entries(): [name: string, value: string][] {
    const entries: [string, string][] = [];
    for (let index = 1; index <= this.count; index++) entries.push([this.name(index), this.value(index)]);
    return entries;
  }

  /** Adds an entry, evicting the oldest ones to make room; one larger than the limit empties the table (4.4). */
  add(name: string, value: string): void {
    const entryBytes = name.length + value.length + ENTRY_OVERHEAD_BYTES;
    this.evictDownTo(this.limitBytes - entryBytes);
    if (entryBytes > this.limitBytes) return;
    if (this.count === this.names.length) this.grow();
    this.newestSlot = (this.newestSlot + 1) & this.slotMask;
    this.names[this.newestSlot] = name;
    this.values[this.newestSlot] = value;
    this.count++;
    this.usedBytes += entryBytes;
  }

  /** A dynamic table size update (6.3); the caller checks it against the maximum. */
  setLimit(limitBytes: number): void {
    this.limitBytes = limitBytes;
    this.evictDownTo(limitBytes);
  }

  /** Doubles the ring (never past `slotsMax`, which the byte limit keeps `count` within), oldest entry to slot 0. */
  private grow(): void {
    const slots = Math.min(this.names.length * 2, this.slotsMax);
    const names = new Array<string>(slots).fill('');
    const values = new Array<string>(slots).fill('');
    for (let index = this.count; index >= 1; index--) {
      names[this.count - index] = this.name(index);
      values[this.count - index] = this.value(index);
    }
    this.names = names;
    this.values = values;
    this.slotMask = slots - 1;
    this.newestSlot = this.count - 1;
  }

  private evictDownTo(targetBytes: number): void {
    while (this.usedBytes > targetBytes && this.count > 0) {
      const oldestSlot = (this.newestSlot - this.count + 1) & this.slotMask;
      const name = this.names[oldestSlot] as string;
      const value = this.values[oldestSlot] as string;
      this.usedBytes -= name.length + value.length + ENTRY_OVERHEAD_BYTES;
      // Dropped so the strings can be collected while the slot waits for reuse.
      this.names[oldestSlot] = '';
      this.values[oldestSlot] = '';
      this.count--;
    }
  }
}
