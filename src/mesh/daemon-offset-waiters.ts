/**
 * Callers waiting until an inbound offset is passed (a member applied it, the output writer
 * wrote its outputs), each with its own deadline. Bounded: past `maxWaiters`, after a deadline
 * and once closed, a caller gets `notReached` and learns nothing more than that.
 *
 * Kept in offset order (senders' offsets mostly arrive in order: an insert is nearly always at
 * the end), so settling the waiters below an offset takes only those, from the front: a member
 * settles after every record it applies, and looking at every waiter each time cost a
 * noticeable share of the active's CPU at 64 senders.
 */
import type { Clock, TimerId } from '../lib/index.js';

interface OffsetWaiter<Answer> {
  readonly offset: number;
  readonly resolve: (answer: Answer) => void;
  readonly timer: TimerId;
  /** Answered (settled, timed out or closed); left in the queue until passed or compacted. */
  done: boolean;
}

export class OffsetWaiters<Answer> {
  /** Waiters by offset (ties in arrival order), from `head` on; some may be done already. */
  private queue: OffsetWaiter<Answer>[] = [];
  private head = 0;
  private live = 0;
  private closed = false;

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
      const waiter: OffsetWaiter<Answer> = {
        offset,
        resolve,
        done: false,
        timer: this.clock.setTimer(Math.max(0, timeoutMs), () => {
          if (waiter.done) return;
          waiter.done = true;
          this.live -= 1;
          resolve(this.notReached);
          this.compactIfMostlyDone();
        }),
      };
      this.insert(waiter);
      this.live += 1;
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
      this.clock.clearTimer(waiter.timer);
      waiter.resolve(answerOf(waiter.offset));
    }
    if (this.head === queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > this.maxWaiters) {
      this.queue = queue.slice(this.head);
      this.head = 0;
    }
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

  /** Waiters that timed out stay queued until passed; past the bound of live ones they are dropped. */
  private compactIfMostlyDone(): void {
    if (this.queue.length - this.head - this.live <= this.maxWaiters) return;
    this.queue = this.queue.slice(this.head).filter((waiter) => !waiter.done);
    this.head = 0;
  }
}
