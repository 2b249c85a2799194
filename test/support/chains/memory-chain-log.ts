import type { ChainEntry, ChainLog, EpochStart } from '../../../src/chains/index.js';
import { assert, type Clock } from '../../../src/lib/index.js';

/** What survives a crash of the process holding a `MemoryChainLog`: only synced writes. */
export class MemoryChainDisk {
  entries: ChainEntry[] = [];
  promisedEpoch = 0;
}

type PendingWrite =
  | { readonly kind: 'append'; readonly entries: readonly ChainEntry[] }
  | { readonly kind: 'truncate'; readonly offset: number }
  | { readonly kind: 'promise'; readonly epoch: number };

/** How long a sync takes by default (every `durable()` waiting meanwhile shares it). */
export const MEMORY_SYNC_DELAY_MS = 2;

/**
 * An in-memory `ChainLog` that is honest about durability: writes take effect at once for
 * readers of this log, but reach its `MemoryChainDisk` only when a sync (started by
 * `durable()`, finishing `syncDelayMs` later on the clock) writes them out, in order. `crash`
 * drops the unsynced writes (or lets an ordered prefix of them through, as an OS that wrote
 * some pages out would), and a log reopened over the disk sees only what got there.
 */
export class MemoryChainLog implements ChainLog {
  private entries: ChainEntry[];
  private history: EpochStart[] = [];
  private promised: number;
  private durableEnd: number;
  private pending: PendingWrite[] = [];
  private waiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  private failure: Error | undefined;
  private syncScheduled = false;
  private crashed = false;

  constructor(
    private readonly disk: MemoryChainDisk,
    private readonly clock: Clock,
    private readonly syncDelayMs = MEMORY_SYNC_DELAY_MS,
  ) {
    this.entries = [...disk.entries];
    this.promised = disk.promisedEpoch;
    this.durableEnd = this.entries.length;
    for (const entry of this.entries) this.noteEpoch(entry);
  }

  get startOffset(): number {
    return 0;
  }

  get endOffset(): number {
    return this.entries.length;
  }

  get durableOffset(): number {
    return this.durableEnd;
  }

  get promisedEpoch(): number {
    return this.promised;
  }

  get lastEpoch(): number {
    return this.entries[this.entries.length - 1]?.epoch ?? 0;
  }

  /** Writes not yet synced (a crash may keep an ordered prefix of them). */
  get unsyncedWriteCount(): number {
    return this.pending.length;
  }

  epochHistory(): readonly EpochStart[] {
    return this.history.slice();
  }

  /** The record at `offset` as this process sees it (for invariant checks). */
  entryAt(offset: number): ChainEntry | undefined {
    return this.entries[offset];
  }

  append(entries: readonly ChainEntry[]): void {
    if (!this.isOpen()) return;
    for (const entry of entries) {
      assert(
        entry.offset === this.entries.length,
        () => `append at ${entry.offset}, log ends at ${this.entries.length}`,
      );
      this.entries.push(entry);
      this.noteEpoch(entry);
    }
    this.pending.push({ kind: 'append', entries: [...entries] });
  }

  truncateFrom(offset: number): void {
    if (!this.isOpen()) return;
    if (offset >= this.entries.length) return;
    this.entries.length = offset;
    while (
      this.history.length > 0 &&
      (this.history[this.history.length - 1] as EpochStart).offset >= offset
    ) {
      this.history.pop();
    }
    this.durableEnd = Math.min(this.durableEnd, offset);
    this.pending.push({ kind: 'truncate', offset });
  }

  setPromisedEpoch(epoch: number): void {
    if (!this.isOpen()) return;
    assert(epoch >= this.promised, 'a promise never goes back');
    this.promised = epoch;
    this.pending.push({ kind: 'promise', epoch });
  }

  durable(): Promise<number> {
    return new Promise((resolve, reject) => {
      if (!this.isOpen()) return;
      this.waiters.push({ resolve: () => resolve(this.durableEnd), reject });
      if (this.syncScheduled) return;
      this.syncScheduled = true;
      this.clock.setTimer(this.syncDelayMs, () => this.sync());
    });
  }

  read(fromOffset: number, maxRecords: number, maxBytes: number): Promise<ChainEntry[]> {
    const found: ChainEntry[] = [];
    let bytes = 0;
    for (let offset = fromOffset; offset < this.entries.length && found.length < maxRecords; offset++) {
      const entry = this.entries[offset] as ChainEntry;
      bytes += entry.payload.byteLength;
      if (found.length > 0 && bytes > maxBytes) break;
      found.push(entry);
    }
    return Promise.resolve(found);
  }

  /** Retention is not modelled: every record is kept. */
  applyRetention(): Promise<void> {
    return Promise.resolve();
  }

  async close(): Promise<void> {
    this.crashed = true;
  }

  /**
   * The process died: unsynced writes are lost, except the first `keptUnsyncedWrites` of them
   * (in order). Waiting `durable()` calls never answer.
   */
  crash(keptUnsyncedWrites = 0): void {
    this.applyToDisk(this.pending.slice(0, keptUnsyncedWrites));
    this.pending = [];
    this.waiters = [];
    this.crashed = true;
  }

  /** Every later sync fails with `error` (as a failed fdatasync does: the log is unusable). */
  failSyncs(error: Error): void {
    this.failure = error;
  }

  private sync(): void {
    this.syncScheduled = false;
    if (this.crashed) return;
    if (this.failure !== undefined) {
      const failed = this.waiters.splice(0);
      for (const waiter of failed) waiter.reject(this.failure);
      return;
    }
    this.applyToDisk(this.pending);
    this.pending = [];
    this.durableEnd = this.entries.length;
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter.resolve();
  }

  private applyToDisk(writes: readonly PendingWrite[]): void {
    for (const write of writes) {
      if (write.kind === 'append') this.disk.entries.push(...write.entries);
      else if (write.kind === 'truncate')
        this.disk.entries.length = Math.min(this.disk.entries.length, write.offset);
      else this.disk.promisedEpoch = write.epoch;
    }
  }

  private noteEpoch(entry: ChainEntry): void {
    if (entry.epoch !== this.lastEpochInHistory())
      this.history.push({ epoch: entry.epoch, offset: entry.offset });
  }

  private lastEpochInHistory(): number {
    return this.history[this.history.length - 1]?.epoch ?? -1;
  }

  /** After a crash the dead process's leftover continuations may still call in: they do nothing. */
  private isOpen(): boolean {
    return !this.crashed;
  }
}
