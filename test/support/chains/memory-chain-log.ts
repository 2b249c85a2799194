import {
  type ChainEntry,
  type ChainLog,
  ChainOffsetTruncatedError,
  type EpochStart,
} from '../../../src/chains/index.js';
import { assert, type Clock } from '../../../src/lib/index.js';

/** What survives a crash of the process holding a `MemoryChainLog`: only synced writes. */
export class MemoryChainDisk {
  /** The records kept, from `startOffset` on. */
  entries: ChainEntry[] = [];
  startOffset = 0;
  promisedEpoch = 0;
}

/** Retention as the test bed models it: at most this many records kept (always the last one). */
export interface MemoryRetention {
  readonly maxRecords: number;
}

type PendingWrite =
  | { readonly kind: 'append'; readonly entries: readonly ChainEntry[] }
  | { readonly kind: 'truncate'; readonly offset: number }
  | { readonly kind: 'promise'; readonly epoch: number }
  /** Everything below `offset` dropped (retention), or everything and the log restarted there. */
  | { readonly kind: 'drop-before' | 'restart'; readonly offset: number };

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
  private start: number;
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
    private readonly retention?: MemoryRetention,
  ) {
    this.entries = [...disk.entries];
    this.start = disk.startOffset;
    this.promised = disk.promisedEpoch;
    this.durableEnd = this.endOffset;
    for (const entry of this.entries) this.noteEpoch(entry);
  }

  get startOffset(): number {
    return this.start;
  }

  get endOffset(): number {
    return this.start + this.entries.length;
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
    return offset < this.start ? undefined : this.entries[offset - this.start];
  }

  append(entries: readonly ChainEntry[]): void {
    if (!this.isOpen()) return;
    for (const entry of entries) {
      assert(
        entry.offset === this.endOffset,
        () => `append at ${entry.offset}, log ends at ${this.endOffset}`,
      );
      this.entries.push(entry);
      this.noteEpoch(entry);
    }
    this.pending.push({ kind: 'append', entries: [...entries] });
  }

  truncateFrom(offset: number): void {
    if (!this.isOpen()) return;
    if (offset >= this.endOffset) return;
    assert(offset >= this.start, () => `truncation at ${offset}, below the log's start ${this.start}`);
    this.entries.length = offset - this.start;
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

  restartAt(offset: number): void {
    if (!this.isOpen()) return;
    assert(offset >= this.start, () => `restart at ${offset}, below the log's start ${this.start}`);
    this.entries = [];
    this.start = offset;
    this.history = [];
    this.durableEnd = Math.min(this.durableEnd, offset);
    this.pending.push({ kind: 'restart', offset });
  }

  read(fromOffset: number, maxRecords: number, maxBytes: number): Promise<ChainEntry[]> {
    if (fromOffset < this.start)
      return Promise.reject(new ChainOffsetTruncatedError('memory', fromOffset, this.start));
    const found: ChainEntry[] = [];
    let bytes = 0;
    for (let offset = fromOffset; offset < this.endOffset && found.length < maxRecords; offset++) {
      const entry = this.entries[offset - this.start] as ChainEntry;
      bytes += entry.payload.byteLength;
      if (found.length > 0 && bytes > maxBytes) break;
      found.push(entry);
    }
    return Promise.resolve(found);
  }

  /**
   * Drops records from the front while more than `maxRecords` are kept, never one at or after
   * `keepFrom`, never the last one (its epoch is the log's last epoch, which claims compare).
   */
  applyRetention(_nowMs: number, keepFrom = Number.POSITIVE_INFINITY): Promise<void> {
    if (!this.isOpen() || this.retention === undefined) return Promise.resolve();
    const keep = Math.max(1, this.retention.maxRecords);
    const newStart = Math.min(this.endOffset - keep, keepFrom);
    if (newStart <= this.start) return Promise.resolve();
    this.entries = this.entries.slice(newStart - this.start);
    this.start = newStart;
    // The first epoch kept now begins at the new start.
    while (this.history.length > 1 && (this.history[1] as EpochStart).offset <= newStart)
      this.history.shift();
    const first = this.history[0];
    if (first !== undefined && first.offset < newStart)
      this.history[0] = { epoch: first.epoch, offset: newStart };
    this.pending.push({ kind: 'drop-before', offset: newStart });
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
    this.durableEnd = this.endOffset;
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter.resolve();
  }

  private applyToDisk(writes: readonly PendingWrite[]): void {
    const disk = this.disk;
    for (const write of writes) {
      switch (write.kind) {
        case 'append':
          disk.entries.push(...write.entries);
          break;
        case 'truncate':
          disk.entries.length = Math.max(0, Math.min(disk.entries.length, write.offset - disk.startOffset));
          break;
        case 'promise':
          disk.promisedEpoch = write.epoch;
          break;
        case 'drop-before':
          disk.entries = disk.entries.slice(Math.max(0, write.offset - disk.startOffset));
          disk.startOffset = Math.max(disk.startOffset, write.offset);
          break;
        case 'restart':
          disk.entries = [];
          disk.startOffset = write.offset;
          break;
      }
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
