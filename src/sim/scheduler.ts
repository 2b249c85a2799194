import type { Clock, TimerId } from '../lib/index.js';
import { EventQueue } from './event-queue.js';
import type { Trace } from './trace.js';

/** Microseconds per millisecond: simulated time is kept in integer microseconds. */
export const MICROSECONDS_PER_MILLISECOND = 1_000;
/** Bound of the event queue; a run that needs more has a runaway feedback loop. */
const MAX_QUEUED_EVENTS = 1_000_000;

/**
 * The simulation's one clock and event loop. Events run in time order (ties in the order
 * they were scheduled); running one records its label in the trace. It also serves as the
 * `Clock` seam for code written against src/lib (timers become events).
 */
export class Scheduler implements Clock {
  private readonly queue = new EventQueue(MAX_QUEUED_EVENTS);
  private currentUs = 0;
  private eventsRun = 0;
  private nextTimerId = 1;
  private readonly cancelledTimers = new Set<TimerId>();
  readonly trace: Trace;

  constructor(trace: Trace) {
    this.trace = trace;
  }

  get nowUs(): number {
    return this.currentUs;
  }

  get eventCount(): number {
    return this.eventsRun;
  }

  get pendingEvents(): number {
    return this.queue.size;
  }

  /** `first`..`third` are numbers the trace prints after the label (-1: none). */
  schedule(delayUs: number, label: string, action: () => void, first = -1, second = -1, third = -1): void {
    this.queue.push(this.currentUs + Math.max(0, Math.round(delayUs)), label, action, first, second, third);
  }

  /** Runs the next event; false when none is due at or before `untilUs`. */
  runNext(untilUs: number): boolean {
    const next = this.queue.peek();
    if (next === undefined || next.timeUs > untilUs) return false;
    this.queue.pop();
    this.currentUs = next.timeUs;
    this.eventsRun++;
    this.trace.recordEvent(next.timeUs, next.label, next.first, next.second, next.third);
    next.action();
    return true;
  }

  /** Moves time to `timeUs` without running anything (used when the queue is idle). */
  advanceTo(timeUs: number): void {
    if (timeUs > this.currentUs) this.currentUs = timeUs;
  }

  // Clock seam.
  nowMs(): number {
    return this.currentUs / MICROSECONDS_PER_MILLISECOND;
  }

  wallMs(): number {
    return 1_700_000_000_000 + this.nowMs();
  }

  setTimer(delayMs: number, callback: () => void): TimerId {
    const id = this.nextTimerId++;
    this.schedule(delayMs * MICROSECONDS_PER_MILLISECOND, `timer ${id}`, () => {
      if (this.cancelledTimers.delete(id)) return;
      callback();
    });
    return id;
  }

  clearTimer(id: TimerId): void {
    this.cancelledTimers.add(id);
  }
}
