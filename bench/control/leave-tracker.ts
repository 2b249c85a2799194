import { performance } from 'node:perf_hooks';

/** How long a leave may take to reach every watcher before the bench stops waiting for it. */
export const LEAVE_TIMEOUT_MS = 30_000;

interface PendingLeave {
  readonly startedAtMs: number;
  /** Watchers (by worker index) that have not seen the delete yet. */
  readonly waitingFor: Set<number>;
  resolve(elapsedMs: number): void;
}

/**
 * Times how long a node's departure takes to reach every watcher: a leave starts when its
 * key is expected to go (a revoke is sent, or a lease's TTL ran out) and ends when the last
 * watcher still open has seen the key's delete event.
 */
export class LeaveTracker {
  private readonly pending = new Map<string, PendingLeave>();

  /** Starts timing the delete of `key`, which each of `watchers` must see once. */
  expect(key: string, watchers: Iterable<number>, startedAtMs = performance.now()): Promise<number> {
    if (this.pending.has(key)) throw new Error(`a leave of ${key} is already being timed`);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const waiting = this.pending.get(key)?.waitingFor.size ?? 0;
        this.pending.delete(key);
        reject(
          new Error(`${waiting} watchers had not seen the delete of ${key} after ${LEAVE_TIMEOUT_MS} ms`),
        );
      }, LEAVE_TIMEOUT_MS);
      this.pending.set(key, {
        startedAtMs,
        waitingFor: new Set(watchers),
        resolve: (elapsedMs) => {
          clearTimeout(timer);
          resolve(elapsedMs);
        },
      });
    });
  }

  /** Watcher `watcher` saw `key` deleted. */
  sawDelete(key: string, watcher: number): void {
    const leave = this.pending.get(key);
    if (leave === undefined) return;
    leave.waitingFor.delete(watcher);
    this.settleIfDone(key, leave);
  }

  /** Watcher `watcher` closed (its node left): no leave waits for it any more. */
  watcherClosed(watcher: number): void {
    for (const [key, leave] of this.pending) {
      leave.waitingFor.delete(watcher);
      this.settleIfDone(key, leave);
    }
  }

  private settleIfDone(key: string, leave: PendingLeave): void {
    if (leave.waitingFor.size > 0) return;
    this.pending.delete(key);
    leave.resolve(performance.now() - leave.startedAtMs);
  }
}
