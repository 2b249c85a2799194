/**
 * The newest records of a chain log, kept in memory (at most `CHAIN_TAIL_MAX_BYTES` of payload
 * and `CHAIN_TAIL_MAX_RECORDS` records), so a reader that follows the log's end (a daemon member
 * applying its inbound chain as records commit, a subscriber) gets the records just written
 * without reading them back from the segment file: no file read on the thread pool, no checksum
 * walk from the sparse index point, no copy. Kept in step with the log: appends add at its end,
 * a truncation drops from its offset, a restart forgets everything.
 */
import type { ChainEntry } from './types.js';

/** Payload bytes a log keeps in memory at most (per log: a node holds many). */
export const CHAIN_TAIL_MAX_BYTES = 64 * 1024;
/** Records a log keeps in memory at most. */
export const CHAIN_TAIL_MAX_RECORDS = 1_024;

export class ChainLogTail {
  /** Kept records from `head` on, consecutive offsets; the last is the log's last. */
  private entries: ChainEntry[] = [];
  private head = 0;
  private bytes = 0;

  /** Records appended at the log's end (consecutive with what is kept, or after a gap: kept alone). */
  add(appended: readonly ChainEntry[]): void {
    const first = appended[0];
    if (first === undefined) return;
    const last = this.entries[this.entries.length - 1];
    if (last !== undefined && last.offset + 1 !== first.offset) this.clear();
    for (const entry of appended) {
      this.entries.push(entry);
      this.bytes += entry.payload.byteLength;
    }
    while (
      this.entries.length - this.head > CHAIN_TAIL_MAX_RECORDS ||
      (this.bytes > CHAIN_TAIL_MAX_BYTES && this.entries.length - this.head > 1)
    ) {
      this.bytes -= (this.entries[this.head] as ChainEntry).payload.byteLength;
      this.head += 1;
    }
    if (this.head > CHAIN_TAIL_MAX_RECORDS) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }

  /** The log dropped its records from `offset` on. */
  truncateFrom(offset: number): void {
    while (this.entries.length > this.head) {
      const last = this.entries[this.entries.length - 1] as ChainEntry;
      if (last.offset < offset) return;
      this.entries.pop();
      this.bytes -= last.payload.byteLength;
    }
    this.clear();
  }

  clear(): void {
    this.entries = [];
    this.head = 0;
    this.bytes = 0;
  }

  /**
   * The kept records from `fromOffset`: at most `maxRecords`, stopping before the payload bytes
   * would pass `maxBytes` (the first is returned whatever its size), as a read of the files
   * answers; undefined when `fromOffset` is not kept (read the files) or past the end.
   */
  read(fromOffset: number, maxRecords: number, maxBytes: number): ChainEntry[] | undefined {
    const first = this.entries[this.head];
    if (first === undefined || fromOffset < first.offset) return undefined;
    const start = this.head + (fromOffset - first.offset);
    if (start >= this.entries.length) return undefined;
    const found: ChainEntry[] = [];
    let bytes = 0;
    for (let index = start; index < this.entries.length && found.length < maxRecords; index++) {
      const entry = this.entries[index] as ChainEntry;
      if (found.length > 0 && bytes + entry.payload.byteLength > maxBytes) break;
      found.push(entry);
      bytes += entry.payload.byteLength;
    }
    return found;
  }
}
