/**
 * The gate sends pass on the active's node: it counts the sends appending through the member,
 * and a move's cutover closes it (no new send appends under the old active's epoch) and waits
 * for the sends already through to finish, so they are answered before the active changes.
 */
import type { Clock } from '../lib/index.js';

export class SendGate {
  private closed = false;
  private inFlight = 0;
  private drainedWaiters: Array<() => void> = [];

  constructor(private readonly clock: Clock) {}

  get open(): boolean {
    return !this.closed;
  }

  /** Counts a send until the answer's `done` is called (once; later calls do nothing). */
  enter(): () => void {
    this.inFlight += 1;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.inFlight -= 1;
      if (this.inFlight === 0) for (const wake of this.drainedWaiters.splice(0)) wake();
    };
  }

  /** No new sends until `reopen`; those already through go on. */
  close(): void {
    this.closed = true;
  }

  reopen(): void {
    this.closed = false;
  }

  /** Resolves true once no send is in flight, false after `timeoutMs`. */
  drained(timeoutMs: number): Promise<boolean> {
    if (this.inFlight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = () => {
        this.clock.clearTimer(timer);
        resolve(true);
      };
      const timer = this.clock.setTimer(timeoutMs, () => {
        this.drainedWaiters = this.drainedWaiters.filter((waiter) => waiter !== wake);
        resolve(false);
      });
      this.drainedWaiters.push(wake);
    });
  }
}
