import type { RunQueueWaitSource } from '../../../src/lib/index.js';

/** A thread whose clock and run-queue wait a test moves by hand; counts the reads. */
export class ScriptedThread implements RunQueueWaitSource {
  nowMsValue = 1_000;
  waitMsValue = 0;
  onCpuMsValue = 0;
  reads = 0;
  readable = true;

  nowMs(): number {
    return this.nowMsValue;
  }

  runQueueWaitMs(): number | undefined {
    this.reads++;
    return this.readable ? this.waitMsValue : undefined;
  }

  latestOnCpuMs(): number | undefined {
    return this.readable ? this.onCpuMsValue : undefined;
  }

  /** `ms` pass, `waitMs` of them waiting for a CPU and `onCpuMs` on one (the rest by default). */
  pass(ms: number, waitMs = 0, onCpuMs = ms - waitMs): void {
    this.nowMsValue += ms;
    this.waitMsValue += waitMs;
    this.onCpuMsValue += onCpuMs;
  }
}
