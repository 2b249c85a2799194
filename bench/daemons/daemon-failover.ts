import { FirstAckAfterMark } from '../chains/failover.js';
import { sleep } from '../cluster/processes.js';
import { DaemonsBenchCluster } from './daemons-cluster.js';

/** Which node dies with the active: the Raft leader's too (both fail over at once), or not. */
export type FailoverCase = 'leads-raft' | 'follows-raft';

export interface DaemonFailoverOptions {
  readonly senders: number;
  /** Events flow this long before the kill. */
  readonly warmupMs: number;
  /** Per-event deadline: an event stuck on the dead node fails after this and goes elsewhere. */
  readonly sendTimeoutMs: number;
  /** The gap is reported as missing (NaN) if no event is acknowledged this long after the kill. */
  readonly maxGapMs: number;
  readonly maxSends: number;
  readonly clusterTimeoutMs: number;
}

export interface DaemonFailoverResult {
  readonly failoverCase: FailoverCase;
  /** From the kill -9 of the active's node to the first acknowledged event sent after it. */
  readonly gapMs: number;
  readonly killedNode: number;
  /** Wall-clock time of the kill, to line it up with the members' logs. */
  readonly killedAtWallMs: number;
  readonly failedSends: number;
}

/**
 * Puts the Raft leadership on the active's node (or away from it), kills that node with SIGKILL
 * under a closed-loop event load, and measures until an event sent after the kill is
 * acknowledged; then restarts the node and waits until every member applied the whole chain.
 */
export async function measureDaemonFailover(
  cluster: DaemonsBenchCluster,
  failoverCase: FailoverCase,
  options: DaemonFailoverOptions,
): Promise<DaemonFailoverResult> {
  const active = await cluster.activeNode(options.clusterTimeoutMs);
  const raftLeader =
    failoverCase === 'leads-raft' ? active : Math.min(...[1, 2, 3].filter((node) => node !== active));
  await cluster.moveRaftLeader(raftLeader, options.clusterTimeoutMs);
  const { senders, close } = cluster.openSenders(options.senders);
  const watch = new FirstAckAfterMark(senders, {
    maxAppends: options.maxSends,
    maxDurationMs: options.warmupMs + options.maxGapMs + options.sendTimeoutMs,
    appendTimeoutMs: options.sendTimeoutMs,
  });
  const index = DaemonsBenchCluster.indexOf(active);
  let failedSends: number;
  let killedAtWallMs = 0;
  try {
    await sleep(options.warmupMs);
    killedAtWallMs = Date.now();
    watch.mark();
    await cluster.processes.kill(index);
    failedSends = (await watch.load).failed;
  } finally {
    await watch.stop();
    close();
  }
  await cluster.processes.restart(index, options.clusterTimeoutMs);
  await cluster.waitSynced(options.clusterTimeoutMs);
  return { failoverCase, gapMs: watch.gapMs, killedNode: active, killedAtWallMs, failedSends };
}
