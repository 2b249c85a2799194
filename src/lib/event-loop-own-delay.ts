/**
 * The event loop's delay split into waiting for a CPU and the node's own work. A probe timer
 * due every `intervalMs` fires late by the loop's delay; the main thread's run-queue wait between
 * two firings is the part of that lateness spent waiting for a CPU, the rest is the node's own
 * (a long step, an inline fdatasync, a GC pause). Per window, the worst of each.
 */
export interface DelayWindow {
  /** Worst lateness of the probe in the window, ms. */
  readonly wallMaxMs: number;
  /** Worst lateness less the run-queue wait over the same gap, ms. */
  readonly ownMaxMs: number;
}

export class EventLoopOwnDelay {
  private previousMs: number | undefined;
  private previousWaitMs = 0;
  private wallMaxMs = 0;
  private ownMaxMs = 0;

  constructor(private readonly intervalMs: number) {}

  /** Lateness of the latest firing, ms (0 before the second). */
  latenessMs = 0;
  /** The same less the run-queue wait over it, ms. */
  ownLatenessMs = 0;

  /** A firing of the probe timer at `nowMs`, with the thread's total run-queue wait then. */
  tick(nowMs: number, runQueueWaitMs: number): void {
    if (this.previousMs !== undefined) {
      this.latenessMs = Math.max(0, nowMs - this.previousMs - this.intervalMs);
      this.ownLatenessMs = Math.max(0, this.latenessMs - (runQueueWaitMs - this.previousWaitMs));
      this.wallMaxMs = Math.max(this.wallMaxMs, this.latenessMs);
      this.ownMaxMs = Math.max(this.ownMaxMs, this.ownLatenessMs);
    }
    this.previousMs = nowMs;
    this.previousWaitMs = runQueueWaitMs;
  }

  /** The window's worst delays; the next window starts from zero. */
  closeWindow(): DelayWindow {
    const window = { wallMaxMs: this.wallMaxMs, ownMaxMs: this.ownMaxMs };
    this.wallMaxMs = 0;
    this.ownMaxMs = 0;
    return window;
  }
}
