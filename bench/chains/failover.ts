import { sleep } from '../cluster/processes.js';
import { type AppendLoadResult, runAppendLoad } from './append-load.js';
import type { ChainAppender, ChainsSystem } from './chains-system.js';

export interface FailoverOptions {
  readonly clients: number;
  /** Appends run this long before the kill. */
  readonly warmupMs: number;
  /** Per-append deadline: an append stuck on the dead leader fails after this and is retried. */
  readonly appendTimeoutMs: number;
  /** The gap is reported as missing (NaN) if no append is acknowledged this long after the kill. */
  readonly maxGapMs: number;
  readonly maxAppends: number;
  readonly clusterTimeoutMs: number;
}

export interface FailoverResult {
  /** From the kill -9 of the chain's leader to the first acknowledged append sent after it. */
  readonly gapMs: number;
  readonly killedMember: number;
  readonly failedAppends: number;
}

/**
 * Kills the chain's leader with SIGKILL during a closed-loop append load and measures how long
 * until an append sent after the kill is acknowledged; then restarts the member and waits until
 * the chain has every replica back.
 */
export async function measureFailoverGap(
  system: ChainsSystem,
  name: string,
  options: FailoverOptions,
): Promise<FailoverResult> {
  const watch = new FirstAckAfterMark(await system.openAppenders(name, options.clients), {
    maxAppends: options.maxAppends,
    maxDurationMs: options.warmupMs + options.maxGapMs + options.appendTimeoutMs,
    appendTimeoutMs: options.appendTimeoutMs,
  });
  let leader: number;
  try {
    await sleep(options.warmupMs);
    leader = await system.leaderIndex(name, options.clusterTimeoutMs);
    watch.mark();
    await system.kill(leader);
  } catch (error) {
    await watch.stop();
    throw error;
  }
  const result = await watch.load;
  await system.restart(leader, name, options.clusterTimeoutMs);
  return { gapMs: watch.gapMs, killedMember: leader, failedAppends: result.failed };
}

/**
 * A closed-loop load that ends at the first acknowledgement of an operation sent after `mark()`
 * (a kill, say); `gapMs` is the time from the mark to that acknowledgement (NaN: none came).
 */
export class FirstAckAfterMark {
  readonly load: Promise<AppendLoadResult>;
  private readonly ended = new AbortController();
  private markedAt = Number.POSITIVE_INFINITY;
  private firstAck: number | undefined;

  constructor(
    appenders: readonly ChainAppender[],
    options: {
      readonly maxAppends: number;
      readonly maxDurationMs: number;
      readonly appendTimeoutMs: number;
    },
  ) {
    this.load = runAppendLoad({
      appenders,
      ...options,
      signal: this.ended.signal,
      observe: (sentAt, doneAt, acknowledged) => {
        if (!acknowledged || sentAt < this.markedAt || this.firstAck !== undefined) return;
        this.firstAck = doneAt;
        this.ended.abort();
      },
    });
  }

  mark(): void {
    this.markedAt = performance.now();
  }

  get gapMs(): number {
    return this.firstAck === undefined ? Number.NaN : this.firstAck - this.markedAt;
  }

  /** Ends the load early (the operations in flight finish). */
  async stop(): Promise<AppendLoadResult> {
    this.ended.abort();
    return this.load;
  }
}
