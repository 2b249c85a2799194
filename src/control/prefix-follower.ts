/**
 * Follows everything under a prefix: lists it (all pages at one revision), then watches from
 * the revision after the listing. When the watch's history is compacted away, or the watch
 * cannot be resumed, it lists again and hands the owner the whole new state, so the owner's
 * view is always "a listing plus the events after it" and never silently stale. This is the
 * list-and-watch loop membership, `meshos nodes` and the reconciler stand on.
 */
import { retryDelayMs } from '../client/index.js';
import { type Clock, type Random, SystemClock, systemRandom } from '../lib/index.js';
import type { ControlEntry, ControlEvent, ControlPlane, ControlWatch } from './control-plane.js';
import { ControlPlaneError } from './errors.js';

export interface PrefixFollowerHandlers {
  /** The whole state under the prefix, at `revision`: first, and again after every re-list. */
  readonly onReset: (entries: ReadonlyMap<string, ControlEntry>, revision: number) => void;
  /** One change after the last reset, in revision order. */
  readonly onEvent?: (event: ControlEvent) => void;
  /** A failure the follower cannot get past (not a retryable or compaction one); it then stops. */
  readonly onError?: (error: Error) => void;
}

export interface PrefixFollowerOptions {
  /** Timers of the backoff between failed listings (the system clock by default). */
  readonly clock?: Clock;
  readonly random?: Random;
}

export class PrefixFollower {
  private readonly current = new Map<string, ControlEntry>();
  private watch: ControlWatch | undefined;
  private stopped = false;
  private resets = 0;
  private readonly clock: Clock;
  private readonly random: Random;
  /** Resolves when the follower stops (asked to, or after a failure it reported). */
  readonly done: Promise<void>;

  constructor(
    private readonly plane: ControlPlane,
    readonly prefix: string,
    private readonly handlers: PrefixFollowerHandlers,
    options: PrefixFollowerOptions = {},
  ) {
    this.clock = options.clock ?? new SystemClock();
    this.random = options.random ?? systemRandom();
    this.done = this.run();
  }

  /** The entries under the prefix as of the last event delivered. */
  get entries(): ReadonlyMap<string, ControlEntry> {
    return this.current;
  }

  /** How many times the state was listed (1 after start; more after compactions or outages). */
  get resetCount(): number {
    return this.resets;
  }

  stop(): void {
    this.stopped = true;
    this.watch?.cancel();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        const revision = await this.list();
        if (this.stopped) return;
        failures = 0;
        this.watch = await this.plane.watch(this.prefix, { fromRevision: revision + 1 });
        if (this.stopped) this.watch.cancel();
        for await (const event of this.watch) this.apply(event);
      } catch (error) {
        if (this.stopped) return;
        const recoverable =
          error instanceof ControlPlaneError && (error.retryable || error.code === 'CONTROL_COMPACTED');
        if (!recoverable) {
          this.stopped = true;
          this.handlers.onError?.(error as Error);
          return;
        }
        if (error.code !== 'CONTROL_COMPACTED') {
          await this.sleep(retryDelayMs(failures, this.random));
          failures += 1;
        }
      }
    }
  }

  /** Every page at one revision; answers that revision. */
  private async list(): Promise<number> {
    const entries = new Map<string, ControlEntry>();
    let page = await this.plane.range(this.prefix);
    const revision = page.revision;
    for (;;) {
      for (const entry of page.entries) entries.set(entry.key, entry);
      const last = page.entries[page.entries.length - 1];
      if (!page.more || last === undefined) break;
      page = await this.plane.range(this.prefix, { revision, startAfter: last.key });
    }
    if (this.stopped) return revision;
    this.current.clear();
    for (const [key, entry] of entries) this.current.set(key, entry);
    this.resets += 1;
    this.handlers.onReset(this.current, revision);
    return revision;
  }

  private apply(event: ControlEvent): void {
    if (this.stopped) return;
    if (event.type === 'put') this.current.set(event.entry.key, event.entry);
    else this.current.delete(event.key);
    this.handlers.onEvent?.(event);
  }

  private sleep(delayMs: number): Promise<void> {
    return new Promise((resolve) => {
      this.clock.setTimer(delayMs, resolve);
    });
  }
}
