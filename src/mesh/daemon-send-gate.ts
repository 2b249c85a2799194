/**
 * The gate sends pass on the active's node: it counts the sends appending through the member,
 * and a move's cutover (or the handover of the member's chains to its node) closes it (no new
 * send appends meanwhile) and waits for the sends already through to finish, so they are
 * answered first. Each `close` is undone by one `reopen`: the gate is open when all were.
 */
import type { Clock } from '../lib/index.js';

export class SendGate {
  private closers = 0;
  private inFlight = 0;
  private drainedWaiters: Array<() => void> = [];

  constructor(private readonly clock: Clock) {}

  get open(): boolean {
    return this.closers === 0;
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

  /** No new sends until this close's `reopen`; those already through go on. */
  close(): void {
    this.closers += 1;
  }

  reopen(): void {
    this.closers = Math.max(0, this.closers - 1);
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
