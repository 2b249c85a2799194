/**
 * When a disk that writes inline (on the event loop) should hand a write or an fdatasync to
 * Node's thread pool instead. Inline IO saves a turn of the event loop per write, which is most
 * of a small write's latency, while an fdatasync on a quiet SSD takes a fraction of a ms; but
 * when the device is busy (three nodes syncing on one disk, a large batch of dirty pages) one
 * fdatasync can take 50-250 ms. So an "inline" sync runs on the disk's sync thread while the
 * loop waits at most `INLINE_SYNC_WAIT_MS` for it (`SyncThread`); the rest of a slow sync
 * passes as ordinary IO. Inline while syncs are quick and the batch small; through the pool
 * after a slow sync, or for a large batch, until a sync is quick again. Durability is the same
 * either way: the caller waits for the sync.
 */

/**
 * The longest the event loop waits for an inline sync before it lets the sync finish as
 * ordinary IO. A quick sync (well under a millisecond on a quiet SSD) ends in the same turn.
 */
export const INLINE_SYNC_WAIT_MS = 5;

/** A sync that took longer than this sends the next writes and syncs through the thread pool. */
export const INLINE_SYNC_SLOW_MS = 5;
/**
 * A write, or a sync of more unsynced bytes than this, goes through the thread pool: its
 * duration grows with the bytes the device must take.
 */
export const INLINE_MAX_BATCH_BYTES = 1024 * 1024;

export class InlineIoPolicy {
  /** Duration of the latest fdatasync, inline or through the pool (an upper bound then). */
  private lastSyncMs = 0;

  /** Whether the device has been quick lately (the last sync took at most `INLINE_SYNC_SLOW_MS`). */
  get quick(): boolean {
    return this.lastSyncMs <= INLINE_SYNC_SLOW_MS;
  }

  /** Whether to write `bytes`, or sync `bytes` of unsynced data, on the event loop. */
  inline(bytes: number): boolean {
    return this.quick && bytes <= INLINE_MAX_BATCH_BYTES;
  }

  /**
   * Notes how long a sync took. Through the pool the time includes waiting for the event loop,
   * so a busy loop keeps syncs in the pool a little longer: the safe direction.
   */
  synced(durationMs: number): void {
    this.lastSyncMs = durationMs;
  }
}
