import { assert } from './errors.js';

/** Opaque handle returned by `Clock.setTimer`. */
export type TimerId = number;

/**
 * Time as the rest of MeshOS sees it. `nowMs` is monotonic (never goes back, unaffected by
 * wall-clock changes); `wallMs` is the calendar time for records shown to people.
 */
export interface Clock {
  nowMs(): number;
  wallMs(): number;
  setTimer(delayMs: number, callback: () => void): TimerId;
  clearTimer(id: TimerId): void;
}

/**
 * The production clock: `performance.now()` and Node's timers. With `unrefTimers` its timers do
 * not keep the process alive (for guards such as a connection's timeouts, which must not hold
 * a process that has nothing else to do).
 */
export class SystemClock implements Clock {
  private nextId = 1;
  private readonly timers = new Map<TimerId, NodeJS.Timeout>();

  constructor(private readonly options: { readonly unrefTimers?: boolean } = {}) {}

  nowMs(): number {
    return performance.now();
  }

  wallMs(): number {
    return Date.now();
  }

  setTimer(delayMs: number, callback: () => void): TimerId {
    const id = this.nextId++;
    const handle = setTimeout(
      () => {
        this.timers.delete(id);
        callback();
      },
      Math.max(0, delayMs),
    );
    if (this.options.unrefTimers === true) handle.unref();
    this.timers.set(id, handle);
    return id;
  }

  clearTimer(id: TimerId): void {
    const handle = this.timers.get(id);
    if (handle !== undefined) {
      clearTimeout(handle);
      this.timers.delete(id);
    }
  }
}

interface PendingTimer {
  readonly id: TimerId;
  readonly dueMs: number;
  readonly callback: () => void;
}

/**
 * A clock that moves only when told to. Timers fire in due order (ties in the order they
 * were set) as `advance` passes them; a timer set by a firing callback fires in the same
 * `advance` call if it falls due within it.
 */
export class ManualClock implements Clock {
  private currentMs: number;
  private readonly wallOffsetMs: number;
  private nextId = 1;
  private pending: PendingTimer[] = [];

  constructor(startMs = 0, wallOffsetMs = 1_700_000_000_000) {
    this.currentMs = startMs;
    this.wallOffsetMs = wallOffsetMs;
  }

  nowMs(): number {
    return this.currentMs;
  }

  wallMs(): number {
    return this.wallOffsetMs + this.currentMs;
  }

  setTimer(delayMs: number, callback: () => void): TimerId {
    const id = this.nextId++;
    this.pending.push({ id, dueMs: this.currentMs + Math.max(0, delayMs), callback });
    return id;
  }

  clearTimer(id: TimerId): void {
    this.pending = this.pending.filter((timer) => timer.id !== id);
  }

  pendingTimerCount(): number {
    return this.pending.length;
  }

  /** Moves time forward by `deltaMs`, firing every timer that falls due on the way. */
  advance(deltaMs: number): void {
    assert(deltaMs >= 0, `ManualClock cannot go backwards (delta ${deltaMs} ms)`);
    const targetMs = this.currentMs + deltaMs;
    for (;;) {
      const next = this.earliestDue(targetMs);
      if (next === undefined) break;
      this.pending = this.pending.filter((timer) => timer.id !== next.id);
      this.currentMs = next.dueMs;
      next.callback();
    }
    this.currentMs = targetMs;
  }

  private earliestDue(limitMs: number): PendingTimer | undefined {
    let best: PendingTimer | undefined;
    for (const timer of this.pending) {
      if (timer.dueMs > limitMs) continue;
      if (
        best === undefined ||
        timer.dueMs < best.dueMs ||
        (timer.dueMs === best.dueMs && timer.id < best.id)
      ) {
        best = timer;
      }
    }
    return best;
  }
}
