import type { Random } from '../lib/index.js';
import type { Scheduler } from './scheduler.js';

/**
 * A simulated client that keeps one operation in flight, a random think time apart: the KV
 * client, chain appenders and daemon senders. A subclass says what one operation is (`step`),
 * marks it begun and, when its outcome is recorded, done (which schedules the next). Clearing
 * `running` stops the loop; `idle` tells a run when the last operation has finished.
 */
export abstract class ClosedLoopClient {
  private busy = false;
  running = true;

  protected constructor(
    private readonly loop: {
      readonly scheduler: Scheduler;
      readonly random: Random;
      /** Think time before each operation is drawn below this. */
      readonly thinkTimeMaxUs: number;
      /** The scheduler's label for the operation's start. */
      readonly label: string;
      /** Orders events scheduled for the same instant (the KV clients pass their index). */
      readonly order?: number;
    },
  ) {}

  get idle(): boolean {
    return !this.busy;
  }

  start(): void {
    this.scheduleNext();
  }

  /** One operation; called only while running. */
  protected abstract step(): void;

  protected begun(): void {
    this.busy = true;
  }

  /** The operation's outcome is recorded: the next one is scheduled unless `next` is false. */
  protected done(next = true): void {
    this.busy = false;
    if (next) this.scheduleNext();
  }

  private scheduleNext(): void {
    if (!this.running) return;
    const { scheduler, random, thinkTimeMaxUs, label, order } = this.loop;
    const run = (): void => {
      if (this.running) this.step();
    };
    scheduler.schedule(random.nextInt(thinkTimeMaxUs), label, run, order ?? -1);
  }
}
