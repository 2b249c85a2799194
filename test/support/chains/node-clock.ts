import type { Clock, ManualClock, TimerId } from '../../../src/lib/index.js';

/**
 * One simulated process's view of the shared `ManualClock`. Paused (SIGSTOP), its timers that
 * fall due wait and run at once on resume, late, as a stopped process's would; killed, they
 * never run again.
 */
export class NodeClock implements Clock {
  private paused = false;
  private killed = false;
  private deferred = new Map<TimerId, () => void>();

  constructor(private readonly base: ManualClock) {}

  nowMs(): number {
    return this.base.nowMs();
  }

  wallMs(): number {
    return this.base.wallMs();
  }

  setTimer(delayMs: number, callback: () => void): TimerId {
    const id: TimerId = this.base.setTimer(delayMs, () => {
      if (this.killed) return;
      if (this.paused) this.deferred.set(id, callback);
      else callback();
    });
    return id;
  }

  clearTimer(id: TimerId): void {
    this.base.clearTimer(id);
    this.deferred.delete(id);
  }

  get isPaused(): boolean {
    return this.paused;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    const due = [...this.deferred.values()];
    this.deferred.clear();
    for (const callback of due) if (!this.killed) callback();
  }

  kill(): void {
    this.killed = true;
    this.deferred.clear();
  }
}
