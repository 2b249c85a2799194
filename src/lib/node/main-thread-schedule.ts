import { closeSync, openSync, readSync } from 'node:fs';
import { parseSchedstat, RunQueueWaitLog, type RunQueueWaitSource } from '../run-queue-wait.js';

/** A `schedstat` line is three decimal counters: well under this. */
const SCHEDSTAT_READ_BYTES = 96;

/**
 * The main thread's run-queue wait, read from Linux's `/proc/<pid>/task/<pid>/schedstat` (the
 * main thread's id is the process id) through a file kept open: one pread per reading, about
 * 2.5 µs here. Elsewhere, or when the kernel keeps no such counters, every reading is undefined.
 */
export class MainThreadSchedule implements RunQueueWaitSource {
  private readonly buffer = new Uint8Array(SCHEDSTAT_READ_BYTES);
  private fd: number | undefined;

  constructor(path = `/proc/self/task/${process.pid}/schedstat`) {
    try {
      this.fd = openSync(path, 'r');
    } catch {
      this.fd = undefined;
    }
  }

  nowMs(): number {
    return performance.now();
  }

  private onCpuMs: number | undefined;

  runQueueWaitMs(): number | undefined {
    if (this.fd === undefined) return undefined;
    try {
      const length = readSync(this.fd, this.buffer, 0, SCHEDSTAT_READ_BYTES, 0);
      const schedule = parseSchedstat(this.buffer, length);
      this.onCpuMs = schedule?.onCpuMs;
      return schedule?.runQueueWaitMs;
    } catch {
      return undefined;
    }
  }

  latestOnCpuMs(): number | undefined {
    return this.onCpuMs;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

let processWaits: RunQueueWaitLog | undefined;

/**
 * The process's one log of its main thread's run-queue wait: every node in the process runs on
 * that thread, so they share it (and its one open file).
 */
export function mainThreadRunQueueWaits(): RunQueueWaitLog {
  processWaits ??= new RunQueueWaitLog(new MainThreadSchedule());
  return processWaits;
}
