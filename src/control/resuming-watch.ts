/**
 * A prefix watch that survives its store watch breaking: it re-opens the store watch from the
 * revision of the last event it delivered, skipping the events of that revision it already
 * delivered, so the caller sees every change exactly once and in order. Compaction is not
 * survivable (the history is gone) and ends the watch with CONTROL_COMPACTED.
 */
import { retryDelayMs } from '../client/index.js';
import type { Clock, Random } from '../lib/index.js';
import type { ControlEvent, ControlWatch } from './control-plane.js';
import { ControlClosedError, ControlPlaneError, ControlUnavailableError } from './errors.js';
import type { ControlKeys } from './keys.js';
import { WATCH_RESUME_MAX_ATTEMPTS } from './limits.js';
import type { StoreEvent, StoreWatch } from './store.js';

export interface ResumingWatchDependencies {
  /** Opens the store watch from a revision; resolves once it is established. */
  readonly open: (startRevision: number) => Promise<StoreWatch>;
  readonly keys: ControlKeys;
  readonly clock: Clock;
  readonly random: Random;
  readonly onEnd: (watch: ResumingWatch) => void;
}

export class ResumingWatch implements ControlWatch {
  private current: StoreWatch | undefined;
  private ended = false;
  private closedByPlane = false;
  /** Revision of the last event delivered, and how many of that revision's events were. */
  private lastRevision = 0;
  private deliveredAtLastRevision = 0;
  /** Events of the last revision a re-opened watch will repeat, still to be skipped. */
  private skipAtLastRevision = 0;
  private startRevision: number;

  constructor(
    private readonly dependencies: ResumingWatchDependencies,
    startRevision: number,
    first: StoreWatch,
  ) {
    this.startRevision = startRevision;
    this.current = first;
  }

  get nextRevision(): number {
    return this.lastRevision === 0 ? this.startRevision : this.lastRevision + 1;
  }

  cancel(): void {
    this.end();
  }

  /** Ends the watch because the plane closed: a pending or later read throws CONTROL_CLOSED. */
  closeByPlane(): void {
    this.closedByPlane = true;
    this.end();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ControlEvent> {
    try {
      for (;;) {
        const event = await this.nextStoreEvent();
        if (event === undefined) return;
        yield this.toControlEvent(event);
      }
    } finally {
      this.end();
    }
  }

  private async nextStoreEvent(): Promise<StoreEvent | undefined> {
    let failures = 0;
    for (;;) {
      if (this.ended) return this.finish();
      try {
        const watch = this.current ?? (await this.reopen());
        const event = await watch.next();
        if (event === undefined || this.ended) return this.finish();
        if (this.alreadyDelivered(event)) continue;
        this.record(event);
        return event;
      } catch (error) {
        if (this.ended) return this.finish();
        const retryable = error instanceof ControlPlaneError && error.retryable;
        if (!retryable) throw error;
        this.current?.close();
        this.current = undefined;
        failures += 1;
        if (failures >= WATCH_RESUME_MAX_ATTEMPTS) {
          throw new ControlUnavailableError(`watch could not be resumed after ${failures} attempts`, error);
        }
        await this.sleep(retryDelayMs(failures - 1, this.dependencies.random));
      }
    }
  }

  private reopen(): Promise<StoreWatch> {
    // From the last delivered revision itself: its remaining events may not all have arrived.
    const from = this.lastRevision === 0 ? this.startRevision : this.lastRevision;
    this.skipAtLastRevision = this.lastRevision === 0 ? 0 : this.deliveredAtLastRevision;
    return this.dependencies.open(from).then((watch) => {
      if (this.ended) watch.close();
      else this.current = watch;
      return watch;
    });
  }

  private alreadyDelivered(event: StoreEvent): boolean {
    const revision = event.kv.modRevision;
    if (revision < this.lastRevision) return true;
    if (revision > this.lastRevision) return false;
    // A re-opened watch repeats the last revision's events; count them off.
    if (this.skipAtLastRevision > 0) {
      this.skipAtLastRevision -= 1;
      return true;
    }
    return false;
  }

  private record(event: StoreEvent): void {
    const revision = event.kv.modRevision;
    if (revision === this.lastRevision) {
      this.deliveredAtLastRevision += 1;
    } else {
      this.lastRevision = revision;
      this.deliveredAtLastRevision = 1;
    }
  }

  private toControlEvent(event: StoreEvent): ControlEvent {
    const key = this.dependencies.keys.relative(event.kv.key);
    if (event.type === 'delete') return { type: 'delete', key, revision: event.kv.modRevision };
    return { type: 'put', entry: { ...event.kv, key } };
  }

  private finish(): undefined {
    if (this.closedByPlane) throw new ControlClosedError();
    return undefined;
  }

  private sleep(delayMs: number): Promise<void> {
    return new Promise((resolve) => {
      this.dependencies.clock.setTimer(delayMs, resolve);
    });
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.current?.close();
    this.current = undefined;
    this.dependencies.onEnd(this);
  }
}
