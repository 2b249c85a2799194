import { promiseHooks } from 'node:v8';

/**
 * Runs every pending promise continuation, and the ones they queue, to completion: what the
 * simulator does after each event so the node's async work happens at that simulated time.
 * It counts continuations with a V8 promise hook: one hop to the end of the queue that runs
 * nothing but itself proves the queue empty. Much cheaper than a `setImmediate` turn of the
 * event loop per event; the node code in the simulation uses promises only (no nextTick).
 */
export class MicrotaskDrain {
  private continuations = 0;
  private readonly stopHook: () => void;

  constructor() {
    const stop = promiseHooks.onBefore(() => {
      this.continuations++;
    });
    this.stopHook = () => stop();
  }

  /**
   * Resolves true once the queue is empty; false if more than `maxContinuations` ran first
   * (a promise loop that never waits on a timer or I/O: it would spin forever at this
   * simulated time, since nothing else can run).
   */
  async drain(maxContinuations = Number.POSITIVE_INFINITY): Promise<boolean> {
    const start = this.continuations;
    for (;;) {
      const before = this.continuations;
      await null;
      // Our own continuation counts one; anything more ran ahead of it and may have queued more.
      if (this.continuations - before <= 1) return true;
      if (this.continuations - start > maxContinuations) return false;
    }
  }

  /** Removes the hook (it slows every promise in the process while installed). */
  close(): void {
    this.stopHook();
  }
}
