/**
 * Callers waiting until the node applied through a log index: a follower answers a write it
 * forwarded once its own state machine applied the write (what the leader applied when it
 * answered), as an etcd member answers a write after its own apply. Kept sorted by index, so a
 * release takes from the front; indexes arrive nearly in order, so an insert is nearly a push.
 */
interface AppliedWaiter {
  readonly index: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export class AppliedWaiters {
  private waiters: AppliedWaiter[] = [];

  get size(): number {
    return this.waiters.length;
  }

  /** Settles once `releaseThrough` reaches `index` (or `rejectAll` fails it). */
  wait(index: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let at = this.waiters.length;
      while (at > 0 && (this.waiters[at - 1] as AppliedWaiter).index > index) at--;
      this.waiters.splice(at, 0, { index, resolve, reject });
    });
  }

  releaseThrough(appliedIndex: number): void {
    if (this.waiters.length === 0 || (this.waiters[0] as AppliedWaiter).index > appliedIndex) return;
    let count = 0;
    while (count < this.waiters.length && (this.waiters[count] as AppliedWaiter).index <= appliedIndex)
      count++;
    for (const waiter of this.waiters.splice(0, count)) waiter.resolve();
  }

  rejectAll(error: unknown): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const waiter of waiting) waiter.reject(error);
  }
}
