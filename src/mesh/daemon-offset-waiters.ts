/**
 * Callers waiting until an inbound offset is passed (a member applied it, the output writer
 * wrote its outputs), each with its own deadline. Bounded: past `maxWaiters`, after a deadline
 * and once closed, a caller gets `notReached` and learns nothing more than that.
 *
 * Cheap per wait, since every send waits here once: the waiters are kept in offset order
 * (senders' offsets mostly arrive in order: an insert is nearly always at the end), so settling
 * the waiters below an offset takes only those, from the front; and one timer serves every
 * deadline (armed for the earliest, it answers the expired ones and arms for the next), instead of
 * a timer per wait (each a distinct duration: a new timer list in Node).
 */
import type { Clock, TimerId } from '../lib/index.js';

interface OffsetWaiter<Answer> {
  readonly offset: number;
  readonly deadlineMs: number;
  readonly resolve: (answer: Answer) => void;
  /** Answered (settled, expired or closed); left in the queue until passed or swept. */
  done: boolean;
}

export class OffsetWaiters<Answer> {
  /** Waiters by offset (ties in arrival order), from `head` on; some may be done already. */
  private queue: OffsetWaiter<Answer>[] = [];
  private head = 0;
  private live = 0;
  private closed = false;
  private timer: TimerId | undefined;
  private timerDueMs = Number.POSITIVE_INFINITY;

  constructor(
    private readonly clock: Clock,
    private readonly maxWaiters: number,
    private readonly notReached: Answer,
  ) {}

  /** Callers waiting now. */
  get size(): number {
    return this.live;
  }

  /** Resolves with what `settleBelow` answers for `offset`, or `notReached`. */
  wait(offset: number, timeoutMs: number): Promise<Answer> {
    if (this.closed || this.live >= this.maxWaiters) return Promise.resolve(this.notReached);
    return new Promise((resolve) => {
      const deadlineMs = this.clock.nowMs() + Math.max(0, timeoutMs);
      this.insert({ offset, deadlineMs, resolve, done: false });
      this.live += 1;
      this.armFor(deadlineMs);
    });
  }

  /** Settles every waiter whose offset is below `through` with `answerOf(offset)`. */
  settleBelow(through: number, answerOf: (offset: number) => Answer): void {
    const queue = this.queue;
    while (this.head < queue.length && (queue[this.head] as OffsetWaiter<Answer>).offset < through) {
      const waiter = queue[this.head] as OffsetWaiter<Answer>;
      this.head += 1;
      if (waiter.done) continue;
      waiter.done = true;
      this.live -= 1;
      waiter.resolve(answerOf(waiter.offset));
    }
    if (this.head === queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > this.maxWaiters) {
      this.queue = queue.slice(this.head);
      this.head = 0;
    }
    if (this.live === 0) this.disarm();
  }

  /** Answers every waiter `notReached`, and every later one at once. */
  close(): void {
    this.closed = true;
    this.settleBelow(Number.POSITIVE_INFINITY, () => this.notReached);
  }

  private insert(waiter: OffsetWaiter<Answer>): void {
    const queue = this.queue;
    const last = queue[queue.length - 1];
    if (last === undefined || last.offset <= waiter.offset) {
      queue.push(waiter);
      return;
    }
    // The first position after every waiter at or below its offset.
    let low = this.head;
    let high = queue.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((queue[middle] as OffsetWaiter<Answer>).offset <= waiter.offset) low = middle + 1;
      else high = middle;
    }
    queue.splice(low, 0, waiter);
  }

  /** The one timer fires at `deadlineMs` at the latest (earlier when a waiter due sooner armed it). */
  private armFor(deadlineMs: number): void {
    if (deadlineMs >= this.timerDueMs) return;
    this.disarm();
    this.timerDueMs = deadlineMs;
    // Whole milliseconds, at least one: a clock that rounds a fraction down would fire before the
    // deadline, find nothing expired and arm again, without end.
    const delayMs = Math.max(1, Math.ceil(deadlineMs - this.clock.nowMs()));
    this.timer = this.clock.setTimer(delayMs, () => {
      this.timer = undefined;
      this.timerDueMs = Number.POSITIVE_INFINITY;
      this.expire();
    });
  }

  private disarm(): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.timerDueMs = Number.POSITIVE_INFINITY;
  }

  /** Answers the waiters past their deadline, drops the answered ones, arms for the next deadline. */
  private expire(): void {
    const nowMs = this.clock.nowMs();
    let nextMs = Number.POSITIVE_INFINITY;
    const waiting: OffsetWaiter<Answer>[] = [];
    for (let index = this.head; index < this.queue.length; index++) {
      const waiter = this.queue[index] as OffsetWaiter<Answer>;
      if (waiter.done) continue;
      if (waiter.deadlineMs <= nowMs) {
        waiter.done = true;
        this.live -= 1;
        waiter.resolve(this.notReached);
        continue;
      }
      waiting.push(waiter);
      nextMs = Math.min(nextMs, waiter.deadlineMs);
    }
    this.queue = waiting;
    this.head = 0;
    if (nextMs !== Number.POSITIVE_INFINITY) this.armFor(nextMs);
  }
}
