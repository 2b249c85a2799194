/**
 * Callers waiting for the next change of something they follow (definitions, say), each for at
 * most its own wait: they look again at what they wait for either way. A caller whose wait ran
 * out leaves the set at once, so the set holds only callers still waiting.
 */
import type { Clock, TimerId } from './clock.js';

export class ChangeWaiters {
  private readonly waiting = new Set<() => void>();

  constructor(private readonly clock: Clock) {}

  get size(): number {
    return this.waiting.size;
  }

  /** Resolves at the next `wakeAll`, or after `waitMs`. */
  next(waitMs: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: TimerId | undefined;
      const wake = (): void => {
        this.waiting.delete(wake);
        if (timer !== undefined) this.clock.clearTimer(timer);
        resolve();
      };
      timer = this.clock.setTimer(Math.max(0, waitMs), wake);
      this.waiting.add(wake);
    });
  }

  wakeAll(): void {
    for (const wake of [...this.waiting]) wake();
  }
}
