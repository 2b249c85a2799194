/**
 * Telling a node's own work from waiting for a CPU. On a busy machine a thread that is ready to
 * run waits on the kernel's run queue, and a wall-clock step or event-loop delay counts that
 * wait as if it were work. Linux keeps, per thread, the total time spent waiting on a run queue
 * (`/proc/<pid>/task/<tid>/schedstat`); the wait between two readings, taken from a step's wall
 * time, leaves the node's own time: computing, or blocked by its own choice (an inline fdatasync).
 */

/** The scheduler's counters of one thread since it started. */
export interface ThreadSchedule {
  readonly onCpuMs: number;
  readonly runQueueWaitMs: number;
}

const NANOSECONDS_PER_MILLISECOND = 1e6;
const DIGIT_ZERO = 0x30;
const DIGIT_NINE = 0x39;

/**
 * Parses a `schedstat` file: three decimal fields separated by spaces, on-CPU ns, run-queue wait
 * ns, time slices. Undefined when the text is not that (an empty or cut read).
 */
export function parseSchedstat(bytes: Uint8Array, length: number): ThreadSchedule | undefined {
  const fields = [0, 0];
  let field = 0;
  let digits = 0;
  for (let index = 0; index < length && field < fields.length; index++) {
    const byte = bytes[index] as number;
    if (byte >= DIGIT_ZERO && byte <= DIGIT_NINE) {
      fields[field] = (fields[field] as number) * 10 + (byte - DIGIT_ZERO);
      digits++;
    } else {
      if (digits === 0) return undefined;
      field++;
      digits = 0;
    }
  }
  // The second field must have ended at a separator: a read cut inside it is not a reading.
  if (field < fields.length) return undefined;
  return {
    onCpuMs: (fields[0] as number) / NANOSECONDS_PER_MILLISECOND,
    runQueueWaitMs: (fields[1] as number) / NANOSECONDS_PER_MILLISECOND,
  };
}

/** Where the log's readings come from: a clock (performance.now's) and the thread's counter. */
export interface RunQueueWaitSource {
  nowMs(): number;
  /** The main thread's total run-queue wait since it started; undefined when unreadable. */
  runQueueWaitMs(): number | undefined;
  /** Its total time on a CPU as of the latest `runQueueWaitMs` reading (no read of its own). */
  latestOnCpuMs?(): number | undefined;
}

/**
 * A reading at most this old stands for "now" when a step starts: the start is then known to
 * within this much, and a busy loop reads at most once per this interval.
 */
export const FRESH_READING_MS = 1;
/** Readings kept: a long synchronous stretch takes at most one per `FRESH_READING_MS`. */
export const RUN_QUEUE_READINGS_KEPT = 1024;

/**
 * Timestamped readings of the main thread's run-queue wait, newest last, in a ring. A step
 * refreshes it as it starts (`refresh`, cheap when a reading is fresh) and asks at its end
 * how long the thread waited since (`waitSinceMs`); only steps long enough to matter read then.
 */
export class RunQueueWaitLog {
  private readonly timesMs: Float64Array;
  private readonly waitsMs: Float64Array;
  /** The thread's time on a CPU at each reading (NaN when the source does not say). */
  private readonly onCpuMs: Float64Array;
  /** Readings taken so far; the newest is at `(count - 1) % capacity`. */
  private count = 0;
  readonly available: boolean;

  constructor(
    private readonly source: RunQueueWaitSource,
    private readonly capacity = RUN_QUEUE_READINGS_KEPT,
  ) {
    this.timesMs = new Float64Array(capacity);
    this.waitsMs = new Float64Array(capacity);
    this.onCpuMs = new Float64Array(capacity);
    this.available = source.runQueueWaitMs() !== undefined;
    if (this.available) this.read();
  }

  /** The log's clock, ms. */
  nowMs(): number {
    return this.source.nowMs();
  }

  /** Takes a reading and returns the total wait, ms (0 when the counter is unreadable). */
  read(): number {
    const waitMs = this.source.runQueueWaitMs() ?? this.newestWaitMs();
    const slot = this.count % this.capacity;
    this.timesMs[slot] = this.source.nowMs();
    this.waitsMs[slot] = waitMs;
    this.onCpuMs[slot] = this.source.latestOnCpuMs?.() ?? Number.NaN;
    this.count++;
    return waitMs;
  }

  /** Makes sure a reading at most `FRESH_READING_MS` old exists: called as a step starts. */
  refresh(): void {
    if (!this.available) return;
    const newest = (this.count - 1) % this.capacity;
    if (this.source.nowMs() - (this.timesMs[newest] as number) > FRESH_READING_MS) this.read();
  }

  /**
   * Run-queue wait from the newest reading at or before `startMs` to now (a reading now): at
   * least the wait inside [startMs, now], and at most `FRESH_READING_MS` of wait more when a
   * reading was refreshed as the interval began. 0 when the counter is unreadable.
   */
  waitSinceMs(startMs: number): number {
    if (!this.available) return 0;
    const nowWaitMs = this.read();
    return nowWaitMs - this.waitAtOrBefore(startMs);
  }

  /**
   * Run-queue wait over a past interval (a GC pause the observer hears about later): between
   * the newest reading at or before its start and the oldest at or after its end (a reading now
   * when there is none). At least the wait inside it; more by what fell between the readings
   * and the interval's ends.
   */
  waitOverMs(startMs: number, endMs: number): number {
    return this.overMs(this.waitsMs, startMs, endMs) ?? 0;
  }

  /**
   * The thread's time on a CPU over a past interval, between the same readings as `waitOverMs`:
   * at least its CPU inside the interval, and more by what fell between the readings and the
   * interval's ends. Undefined when the source does not say.
   */
  onCpuOverMs(startMs: number, endMs: number): number | undefined {
    const onCpuMs = this.overMs(this.onCpuMs, startMs, endMs);
    return onCpuMs === undefined || Number.isNaN(onCpuMs) ? undefined : onCpuMs;
  }

  /** How much the counter `values` grew from the reading at or before `startMs` to the one at or after `endMs`. */
  private overMs(values: Float64Array, startMs: number, endMs: number): number | undefined {
    if (!this.available) return undefined;
    const before = values[this.slotAtOrBefore(startMs)] as number;
    const kept = Math.min(this.count, this.capacity);
    let afterSlot: number | undefined;
    for (let back = 0; back < kept; back++) {
      const slot = (this.count - 1 - back) % this.capacity;
      if ((this.timesMs[slot] as number) < endMs) break;
      afterSlot = slot;
    }
    if (afterSlot === undefined) {
      this.read();
      afterSlot = (this.count - 1) % this.capacity;
    }
    return (values[afterSlot] as number) - before;
  }

  /** The wait of the newest reading at or before `timeMs`, else of the oldest kept. */
  private waitAtOrBefore(timeMs: number): number {
    return this.waitsMs[this.slotAtOrBefore(timeMs)] as number;
  }

  /** The newest reading at or before `timeMs`, else the oldest kept. */
  private slotAtOrBefore(timeMs: number): number {
    const kept = Math.min(this.count, this.capacity);
    let slot = (this.count - 1) % this.capacity;
    for (let back = 0; back < kept; back++) {
      slot = (this.count - 1 - back) % this.capacity;
      if ((this.timesMs[slot] as number) <= timeMs) break;
    }
    return slot;
  }

  private newestWaitMs(): number {
    return this.count === 0 ? 0 : (this.waitsMs[(this.count - 1) % this.capacity] as number);
  }
}
