import type { Clock, Disk, DiskFile, MemoryDisk, OpenMode, Random, TimerId } from '../lib/index.js';
import { FSYNC_MAX_US, FSYNC_MIN_US, SLOW_FSYNC_MAX_US } from './fault-plan.js';
import { MICROSECONDS_PER_MILLISECOND, type Scheduler } from './scheduler.js';

/**
 * One life of a node process. A crash ends it: the process's timers stop firing, its disk
 * calls never complete and its links go silent, so the abandoned `RaftNode` object simply
 * freezes where it was, as a killed process would.
 */
export class Life {
  alive = true;
  /** A paused process (stopped by the OS, a long GC) runs nothing before this time. */
  pausedUntilUs = 0;
  constructor(
    readonly node: number,
    readonly incarnation: number,
  ) {}
}

/**
 * Runs `action` for `life` now, or when its pause ends; nothing once it died. Work held by a
 * pause runs in the order it arrived (equal times keep scheduling order).
 */
export function whenRunning(scheduler: Scheduler, life: Life, label: string, action: () => void): void {
  if (!life.alive) return;
  const waitUs = life.pausedUntilUs - scheduler.nowUs;
  if (waitUs <= 0) {
    action();
    return;
  }
  scheduler.schedule(waitUs, label, () => whenRunning(scheduler, life, label, action), life.node);
}

/** A promise that never settles: what a dead process waits for. */
function never<T>(): Promise<T> {
  return new Promise<T>(() => {});
}

/**
 * The simulator's clock as one process sees it: timers die with the process, and a drifting
 * machine's clock runs `slowness` times slower than simulated time (within the drift bound).
 */
export class IncarnationClock implements Clock {
  private nextTimerId = 1;
  private readonly cancelled = new Set<TimerId>();

  constructor(
    private readonly scheduler: Scheduler,
    private readonly life: Life,
    private readonly slowness = 1,
  ) {}

  nowMs(): number {
    return this.scheduler.nowMs() / this.slowness;
  }

  wallMs(): number {
    return this.scheduler.wallMs();
  }

  setTimer(delayMs: number, callback: () => void): TimerId {
    const id = this.nextTimerId++;
    this.scheduler.schedule(
      delayMs * MICROSECONDS_PER_MILLISECOND * this.slowness,
      'timer',
      () => {
        if (this.cancelled.delete(id) || !this.life.alive) return;
        whenRunning(this.scheduler, this.life, 'paused timer', () => {
          if (!this.cancelled.delete(id)) callback();
        });
      },
      this.life.node,
      id,
    );
    return id;
  }

  clearTimer(id: TimerId): void {
    this.cancelled.add(id);
  }

  /** Runs `work` at the current simulated time, after the running event (the Ready loop's seam). */
  defer(work: () => void): void {
    this.scheduler.schedule(
      0,
      'ready',
      () => whenRunning(this.scheduler, this.life, 'paused ready', work),
      this.life.node,
    );
  }
}

/** Fsync latency settings of one node's disk. */
export interface FsyncLatency {
  readonly random: Random;
  readonly slowProbability: number;
  /** Told of every slow fsync (for the fault counts). */
  readonly onSlow: () => void;
  /** A lying disk: file syncs report success without making anything durable (self-test). */
  readonly ignoreFileSyncs?: boolean;
}

/**
 * A process's view of its node's `MemoryDisk`: every call passes through unless the process
 * is dead, and syncs take simulated time, so a crash can strike while writes are unsynced.
 */
export class IncarnationDisk implements Disk {
  constructor(
    private readonly inner: MemoryDisk,
    private readonly scheduler: Scheduler,
    private readonly life: Life,
    private readonly latency: FsyncLatency,
  ) {}

  get ignoresFileSyncs(): boolean {
    return this.latency.ignoreFileSyncs === true;
  }

  /** Runs `action` while alive; a process that died meanwhile never sees the answer. */
  async run<T>(action: () => Promise<T>): Promise<T> {
    if (!this.life.alive) return never();
    const result = await action();
    if (!this.life.alive) return never();
    return result;
  }

  /** Waits one fsync's worth of simulated time. */
  async syncDelay(): Promise<void> {
    const random = this.latency.random;
    let delayUs = random.nextIntBetween(FSYNC_MIN_US, FSYNC_MAX_US);
    if (random.chance(this.latency.slowProbability)) {
      this.latency.onSlow();
      delayUs += random.nextInt(SLOW_FSYNC_MAX_US);
    }
    await new Promise<void>((resolve) => this.scheduler.schedule(delayUs, 'fsync', resolve, this.life.node));
  }

  async open(filePath: string, mode: OpenMode): Promise<DiskFile> {
    const file = await this.run(() => this.inner.open(filePath, mode));
    return new IncarnationFile(file, this);
  }

  readFile(filePath: string): Promise<Uint8Array> {
    return this.run(() => this.inner.readFile(filePath));
  }

  rename(fromPath: string, toPath: string): Promise<void> {
    return this.run(() => this.inner.rename(fromPath, toPath));
  }

  async fsyncDirectory(directoryPath: string): Promise<void> {
    await this.run(() => this.syncDelay());
    return this.run(() => this.inner.fsyncDirectory(directoryPath));
  }

  list(directoryPath: string): Promise<string[]> {
    return this.run(() => this.inner.list(directoryPath));
  }

  remove(filePath: string): Promise<void> {
    return this.run(() => this.inner.remove(filePath));
  }

  makeDirectory(directoryPath: string): Promise<void> {
    return this.run(() => this.inner.makeDirectory(directoryPath));
  }

  exists(filePath: string): Promise<boolean> {
    return this.run(() => this.inner.exists(filePath));
  }
}

class IncarnationFile implements DiskFile {
  constructor(
    private readonly inner: DiskFile,
    private readonly disk: IncarnationDisk,
  ) {}

  get path(): string {
    return this.inner.path;
  }

  append(data: Uint8Array): Promise<void> {
    return this.disk.run(() => this.inner.append(data));
  }

  writeAt(data: Uint8Array, offset: number): Promise<void> {
    return this.disk.run(() => this.inner.writeAt(data, offset));
  }

  readAt(offset: number, length: number): Promise<Uint8Array> {
    return this.disk.run(() => this.inner.readAt(offset, length));
  }

  size(): Promise<number> {
    return this.disk.run(() => this.inner.size());
  }

  async dataEnd(): Promise<number> {
    const inner = this.inner;
    return inner.dataEnd === undefined ? this.size() : this.disk.run(() => inner.dataEnd!());
  }

  truncate(size: number): Promise<void> {
    return this.disk.run(() => this.inner.truncate(size));
  }

  async datasync(): Promise<void> {
    await this.disk.run(() => this.disk.syncDelay());
    if (this.disk.ignoresFileSyncs) return;
    return this.disk.run(() => this.inner.datasync());
  }

  close(): Promise<void> {
    return this.disk.run(() => this.inner.close());
  }
}
