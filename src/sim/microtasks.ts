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

  async drain(): Promise<void> {
    for (;;) {
      const before = this.continuations;
      await null;
      // Our own continuation counts one; anything more ran ahead of it and may have queued more.
      if (this.continuations - before <= 1) return;
    }
  }

  /** Removes the hook (it slows every promise in the process while installed). */
  close(): void {
    this.stopHook();
  }
}
