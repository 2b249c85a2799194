/** The host's timer functions the guard stands in for while a simulated run goes. */
const GUARDED_TIMERS = ['setImmediate', 'setTimeout', 'setInterval'] as const;

type TimerName = (typeof GUARDED_TIMERS)[number];

/**
 * While installed, a call to the host's `setImmediate`, `setTimeout` or `setInterval` is
 * reported (then passed on): code in a simulated run must take time only from the seams the
 * simulator fills (a clock, a defer), or its work happens outside simulated time (after the
 * run, since the run never yields to the event loop) and the seed no longer replays.
 */
export class HostTimerGuard {
  private readonly originals = new Map<TimerName, unknown>();

  constructor(onCall: (timer: TimerName, stack: string) => void) {
    const host = globalThis as unknown as Record<TimerName, (...args: unknown[]) => unknown>;
    for (const name of GUARDED_TIMERS) {
      const original = host[name];
      this.originals.set(name, original);
      host[name] = (...args: unknown[]) => {
        onCall(name, new Error(`host ${name} called in a simulated run`).stack ?? '');
        return original(...args);
      };
    }
  }

  /** Puts the host's own functions back. */
  close(): void {
    const host = globalThis as unknown as Record<TimerName, unknown>;
    for (const [name, original] of this.originals) host[name] = original;
  }
}
