import { sleep } from '../cluster/processes.js';
import { runAppendLoad } from './append-load.js';
import type { ChainsSystem } from './chains-system.js';

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
  const appenders = await system.openAppenders(name, options.clients);
  const stop = new AbortController();
  let killedAt = Number.POSITIVE_INFINITY;
  let firstAckAfterKill: number | undefined;
  const load = runAppendLoad({
    appenders,
    maxAppends: options.maxAppends,
    maxDurationMs: options.warmupMs + options.maxGapMs + options.appendTimeoutMs,
    appendTimeoutMs: options.appendTimeoutMs,
    signal: stop.signal,
    observe(sentAt, doneAt, acknowledged) {
      if (!acknowledged || sentAt < killedAt || firstAckAfterKill !== undefined) return;
      firstAckAfterKill = doneAt;
      stop.abort();
    },
  });
  let leader: number;
  try {
    await sleep(options.warmupMs);
    leader = await system.leaderIndex(name, options.clusterTimeoutMs);
    killedAt = performance.now();
    await system.kill(leader);
  } catch (error) {
    stop.abort();
    await load;
    throw error;
  }
  const result = await load;
  await system.restart(leader, name, options.clusterTimeoutMs);
  const gapMs = firstAckAfterKill === undefined ? Number.NaN : firstAckAfterKill - killedAt;
  return { gapMs, killedMember: leader, failedAppends: result.failed };
}
