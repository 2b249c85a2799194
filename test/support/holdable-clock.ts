/**
 * The system clock, except that it can be held: timers that fall due while held wait and fire
 * together, in due order, on release. It stands for a process that stops running for a while
 * (a GC pause, a frozen VM), so tests can make a keep-alive miss its lease's TTL for real.
 */
import { type Clock, SystemClock, type TimerId } from '../../src/lib/index.js';

export class HoldableClock implements Clock {
  private readonly system = new SystemClock();
  private held: Array<() => void> | undefined;

  nowMs(): number {
    return this.system.nowMs();
  }

  wallMs(): number {
    return this.system.wallMs();
  }

  setTimer(delayMs: number, callback: () => void): TimerId {
    return this.system.setTimer(delayMs, () => {
      if (this.held === undefined) callback();
      else this.held.push(callback);
    });
  }

  clearTimer(id: TimerId): void {
    this.system.clearTimer(id);
  }

  hold(): void {
    this.held ??= [];
  }

  release(): void {
    const due = this.held ?? [];
    this.held = undefined;
    for (const callback of due) callback();
  }
}
