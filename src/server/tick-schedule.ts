/**
 * When the Raft core's ticks are due. A timer set for one tick interval after the last tick fires
 * late by however long the event loop was busy, and a chain of such timers drifts: on the shared
 * 2-core machine a loop ticked 86 times a second idle and 40 with a little work per turn instead
 * of 100, so a follower's 1-2 s election timeout took up to twice as long in wall time (the gap
 * after a paused leader). Ticks are due at fixed times instead, one interval apart: a late timer
 * applies the ticks it missed, so the core's timeouts keep to the clock.
 *
 * A loop that stalled (a long garbage collection, a long step) catches up at most
 * `MAX_CATCH_UP_TICKS` and drops the rest, as Go's ticker does for etcd: the heartbeats that
 * arrived meanwhile are read only after the timers run, so counting the whole stall would have a
 * follower campaign before it reads them.
 */
export const MAX_CATCH_UP_TICKS = 2;

export class TickSchedule {
  private dueMs: number;

  constructor(
    private readonly intervalMs: number,
    nowMs: number,
  ) {
    this.dueMs = nowMs + intervalMs;
  }

  /** How long until the next tick is due (0 when it is). */
  delayMs(nowMs: number): number {
    return Math.max(0, this.dueMs - nowMs);
  }

  /** How late a timer firing at `nowMs` is: the event loop's delay (0 when early). */
  latenessMs(nowMs: number): number {
    return Math.max(0, nowMs - this.dueMs);
  }

  /**
   * The ticks a timer firing at `nowMs` applies: the one it was set for, even when the clock says it
   * fired a little early (a clock that drifts from the timers must not make a firing tick nothing
   * and set a zero timer), and any missed since; moves on past them.
   */
  take(nowMs: number): number {
    const missed = Math.max(1, Math.floor((nowMs - this.dueMs) / this.intervalMs) + 1);
    if (missed > MAX_CATCH_UP_TICKS) {
      this.dueMs = nowMs + this.intervalMs;
      return MAX_CATCH_UP_TICKS;
    }
    this.dueMs += missed * this.intervalMs;
    return missed;
  }
}
