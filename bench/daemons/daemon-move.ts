import { runAppendLoad } from '../chains/append-load.js';
import { sleep } from '../cluster/processes.js';
import type { DaemonsBenchCluster } from './daemons-cluster.js';

export interface MoveOptions {
  readonly senders: number;
  readonly warmupMs: number;
  readonly sendTimeoutMs: number;
  readonly maxSends: number;
  readonly moveTimeoutMs: number;
  readonly clusterTimeoutMs: number;
}

/**
 * Moves the active to a standby's node under a closed-loop event load and answers the pause the
 * move reports (its cutover), in ms.
 */
export async function measureMovePause(cluster: DaemonsBenchCluster, options: MoveOptions): Promise<number> {
  const active = await cluster.activeNode(options.clusterTimeoutMs);
  const target = Math.min(...[1, 2, 3].filter((node) => node !== active));
  const { senders, close } = cluster.openSenders(options.senders);
  const stop = new AbortController();
  const load = runAppendLoad({
    appenders: senders,
    maxAppends: options.maxSends,
    maxDurationMs: options.warmupMs + options.moveTimeoutMs,
    appendTimeoutMs: options.sendTimeoutMs,
    signal: stop.signal,
  });
  try {
    await sleep(options.warmupMs);
    return await cluster.move(target, options.moveTimeoutMs);
  } finally {
    stop.abort();
    await load;
    close();
    await cluster.waitSynced(options.clusterTimeoutMs);
  }
}
