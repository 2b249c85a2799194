import type { ChainEntry, ChainLog, EpochStart } from '../../../src/chains/index.js';

/**
 * Puts any `ChainLog` (the disk one, say) under the test bed's checks: every call goes to it,
 * and the records it was given are mirrored in memory so `entryAt` can read them synchronously.
 */
export class MirroredChainLog implements ChainLog {
  private readonly mirror: ChainEntry[] = [];

  constructor(private readonly inner: ChainLog) {}

  get startOffset(): number {
    return this.inner.startOffset;
  }

  get endOffset(): number {
    return this.inner.endOffset;
  }

  get durableOffset(): number {
    return this.inner.durableOffset;
  }

  get promisedEpoch(): number {
    return this.inner.promisedEpoch;
  }

  get lastEpoch(): number {
    return this.inner.lastEpoch;
  }

  entryAt(offset: number): ChainEntry | undefined {
    return offset < this.inner.endOffset && offset >= this.inner.startOffset
      ? this.mirror[offset]
      : undefined;
  }

  epochHistory(): readonly EpochStart[] {
    return this.inner.epochHistory();
  }

  append(entries: readonly ChainEntry[]): void {
    this.inner.append(entries);
    for (const entry of entries) this.mirror[entry.offset] = entry;
  }

  truncateFrom(offset: number): void {
    this.inner.truncateFrom(offset);
    this.mirror.length = Math.min(this.mirror.length, offset);
  }

  restartAt(offset: number): void {
    this.inner.restartAt(offset);
    this.mirror.length = 0;
  }

  setPromisedEpoch(epoch: number): void {
    this.inner.setPromisedEpoch(epoch);
  }

  durable(): Promise<number> {
    return this.inner.durable();
  }

  read(fromOffset: number, maxRecords: number, maxBytes: number): Promise<ChainEntry[]> {
    return this.inner.read(fromOffset, maxRecords, maxBytes);
  }

  applyRetention(nowMs: number, keepFrom?: number): Promise<void> {
    return this.inner.applyRetention(nowMs, keepFrom);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
