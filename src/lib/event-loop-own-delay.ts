/**
 * The event loop's delay split into waiting for a CPU and the node's own work. A timer fires late
 * by the loop's delay (the node reports the lateness of its Raft tick timer, due every tick
 * interval); the main thread's run-queue wait between two firings is the part of that lateness
 * spent waiting for a CPU, the rest is the node's own (a long step, an inline fdatasync, a GC
 * pause). Per window, the worst of each.
 */
export interface DelayWindow {
  /** Worst lateness of the timer in the window, ms. */
  readonly wallMaxMs: number;
  /** Worst lateness less the run-queue wait over the same gap, ms. */
  readonly ownMaxMs: number;
}

export class EventLoopOwnDelay {
  private previousWaitMs: number | undefined;
  private wallMaxMs = 0;
  private ownMaxMs = 0;

  /** Lateness of the latest firing, ms. */
  latenessMs = 0;
  /** The same less the run-queue wait since the firing before (all of it for the first), ms. */
  ownLatenessMs = 0;

  /** A firing `latenessMs` after the timer was due, with the thread's total run-queue wait then. */
  observe(latenessMs: number, runQueueWaitMs: number): void {
    const waitedMs = this.previousWaitMs === undefined ? 0 : runQueueWaitMs - this.previousWaitMs;
    this.previousWaitMs = runQueueWaitMs;
    this.latenessMs = Math.max(0, latenessMs);
    this.ownLatenessMs = Math.max(0, this.latenessMs - waitedMs);
    this.wallMaxMs = Math.max(this.wallMaxMs, this.latenessMs);
    this.ownMaxMs = Math.max(this.ownMaxMs, this.ownLatenessMs);
  }

  /** The window's worst delays; the next window starts from zero. */
  closeWindow(): DelayWindow {
    const window = { wallMaxMs: this.wallMaxMs, ownMaxMs: this.ownMaxMs };
    this.wallMaxMs = 0;
    this.ownMaxMs = 0;
    return window;
  }
}
