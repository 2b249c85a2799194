import type { RunQueueWaitSource } from '../../../src/lib/index.js';

/** A thread whose clock and run-queue wait a test moves by hand; counts the reads. */
export class ScriptedThread implements RunQueueWaitSource {
  nowMsValue = 1_000;
  waitMsValue = 0;
  reads = 0;
  readable = true;

  nowMs(): number {
    return this.nowMsValue;
  }

  runQueueWaitMs(): number | undefined {
    this.reads++;
    return this.readable ? this.waitMsValue : undefined;
  }

  /** `ms` pass, `waitMs` of them waiting for a CPU. */
  pass(ms: number, waitMs = 0): void {
    this.nowMsValue += ms;
    this.waitMsValue += waitMs;
  }
}
