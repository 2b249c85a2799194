/**
 * Callers waiting until an inbound offset is passed (a member applied it, the output writer
 * wrote its outputs), each with its own deadline. Bounded: past `maxWaiters`, after a deadline
 * and once closed, a caller gets `notReached` and learns nothing more than that.
 */
import type { Clock, TimerId } from '../lib/index.js';

interface OffsetWaiter<Answer> {
  readonly offset: number;
  readonly resolve: (answer: Answer) => void;
  readonly timer: TimerId;
}

export class OffsetWaiters<Answer> {
  private readonly waiting = new Set<OffsetWaiter<Answer>>();
  private closed = false;

  constructor(
    private readonly clock: Clock,
    private readonly maxWaiters: number,
    private readonly notReached: Answer,
  ) {}

  /** Callers waiting now. */
  get size(): number {
    return this.waiting.size;
  }

  /** Resolves with what `settleBelow` answers for `offset`, or `notReached`. */
  wait(offset: number, timeoutMs: number): Promise<Answer> {
    if (this.closed || this.waiting.size >= this.maxWaiters) return Promise.resolve(this.notReached);
    return new Promise((resolve) => {
      const waiter: OffsetWaiter<Answer> = {
        offset,
        resolve,
        timer: this.clock.setTimer(Math.max(0, timeoutMs), () => {
          this.waiting.delete(waiter);
          resolve(this.notReached);
        }),
      };
      this.waiting.add(waiter);
    });
  }

  /** Settles every waiter whose offset is below `through` with `answerOf(offset)`. */
  settleBelow(through: number, answerOf: (offset: number) => Answer): void {
    for (const waiter of this.waiting) {
      if (waiter.offset >= through) continue;
      this.waiting.delete(waiter);
      this.clock.clearTimer(waiter.timer);
      waiter.resolve(answerOf(waiter.offset));
    }
  }

  /** Answers every waiter `notReached`, and every later one at once. */
  close(): void {
    this.closed = true;
    this.settleBelow(Number.POSITIVE_INFINITY, () => this.notReached);
  }
}
