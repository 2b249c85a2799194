import * as os from 'node:os';
import { runAppendLoad } from '../chains/append-load.js';
import { runLoad } from '../cluster/load.js';
import { type DaemonFailoverResult, type FailoverCase, measureDaemonFailover } from './daemon-failover.js';
import { measureMovePause } from './daemon-move.js';
import { DaemonsBenchCluster } from './daemons-cluster.js';
import type { DaemonsBenchSettings } from './daemons-settings.js';

/** Concurrencies of the loads, as the issue asks. */
export const SENDER_COUNTS = [1, 16, 64] as const;
export const FAILOVER_CASES: readonly FailoverCase[] = ['leads-raft', 'follows-raft'];
export const MAX_REQUESTS_PER_LOAD = 200_000;
const WARMUP_CONCURRENCY = 16;
const WARMUP_MS = 1_000;
const LOAD_TIMEOUT_MS = 5_000;
export const FAILOVER_SENDERS = 4;
const FAILOVER_WARMUP_MS = 1_000;
const FAILOVER_SEND_TIMEOUT_MS = 1_000;
const FAILOVER_MAX_GAP_MS = 20_000;
const MOVE_TIMEOUT_MS = 30_000;
export const CLUSTER_TIMEOUT_MS = 60_000;

/** One closed-loop load's figures. */
export interface LoadFigures {
  readonly concurrency: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly failed: number;
}

export interface DaemonsRoundFigures {
  /** The cluster's own etcd Put rate at each concurrency: the reference. */
  readonly kvPuts: readonly LoadFigures[];
  /** `counter` events through the 3-member standby group at each concurrency. */
  readonly events: readonly LoadFigures[];
  readonly failovers: readonly DaemonFailoverResult[];
  /** The pause `daemon move` reported, in ms (undefined: not measured, `--loads-only`). */
  readonly movePauseMs: number | undefined;
  /** One-minute load average before each phase. */
  readonly loadAverages: readonly string[];
}

function loadAverage(): string {
  return os.loadavg()[0]?.toFixed(1) ?? '?';
}

/** Every phase once on a fresh cluster: KV puts, events, failovers of each case, a move. */
export async function runDaemonsRound(
  settings: DaemonsBenchSettings,
  log: (line: string) => void,
): Promise<DaemonsRoundFigures> {
  const loadAverages: string[] = [];
  const cluster = await DaemonsBenchCluster.start(CLUSTER_TIMEOUT_MS);
  try {
    loadAverages.push(`puts ${loadAverage()}`);
    const put = (concurrency: number, maxDurationMs: number) =>
      runLoad({
        endpoints: cluster.endpoints,
        operation: 'put',
        clients: concurrency,
        maxRequests: MAX_REQUESTS_PER_LOAD,
        maxDurationMs,
      });
    await put(WARMUP_CONCURRENCY, WARMUP_MS);
    const kvPuts: LoadFigures[] = [];
    for (const concurrency of SENDER_COUNTS) {
      const result = await put(concurrency, settings.loadDurationMs);
      kvPuts.push({
        concurrency,
        perSecond: result.throughputPerSecond,
        p50Ms: result.p50Ms,
        p99Ms: result.p99Ms,
        failed: result.failed,
      });
      log(
        `  KV put x${concurrency}: ${result.throughputPerSecond.toFixed(0)}/s, p50 ${result.p50Ms.toFixed(2)} ms`,
      );
    }

    await cluster.deploy(CLUSTER_TIMEOUT_MS);
    loadAverages.push(`events ${loadAverage()}`);
    const send = async (concurrency: number, maxDurationMs: number): Promise<LoadFigures> => {
      const { senders, close } = cluster.openSenders(concurrency);
      try {
        const result = await runAppendLoad({
          appenders: senders,
          maxAppends: MAX_REQUESTS_PER_LOAD,
          maxDurationMs,
          appendTimeoutMs: LOAD_TIMEOUT_MS,
        });
        return {
          concurrency,
          perSecond: result.acksPerSecond,
          p50Ms: result.p50Ms,
          p99Ms: result.p99Ms,
          failed: result.failed,
        };
      } finally {
        close();
      }
    };
    await send(WARMUP_CONCURRENCY, WARMUP_MS);
    const events: LoadFigures[] = [];
    for (const concurrency of SENDER_COUNTS) {
      const figures = await send(concurrency, settings.loadDurationMs);
      events.push(figures);
      log(
        `  events x${concurrency}: ${figures.perSecond.toFixed(0)}/s, p50 ${figures.p50Ms.toFixed(2)} ms, ${figures.failed} failed`,
      );
    }
    await cluster.waitSynced(CLUSTER_TIMEOUT_MS);
    if (settings.loadsOnly) return { kvPuts, events, failovers: [], movePauseMs: undefined, loadAverages };

    const failovers: DaemonFailoverResult[] = [];
    for (let repetition = 0; repetition < settings.failoversPerCase; repetition++) {
      for (const failoverCase of FAILOVER_CASES) {
        loadAverages.push(`failover ${failoverCase} ${loadAverage()}`);
        const result = await measureDaemonFailover(cluster, failoverCase, {
          senders: FAILOVER_SENDERS,
          warmupMs: FAILOVER_WARMUP_MS,
          sendTimeoutMs: FAILOVER_SEND_TIMEOUT_MS,
          maxGapMs: FAILOVER_MAX_GAP_MS,
          maxSends: MAX_REQUESTS_PER_LOAD,
          clusterTimeoutMs: CLUSTER_TIMEOUT_MS,
        });
        failovers.push(result);
        log(
          `  failover (${failoverCase}): kill -9 of node ${result.killedNode} at ${result.killedAtWallMs} -> first ack ${result.gapMs.toFixed(0)} ms`,
        );
      }
    }

    const movePauseMs = await measureMovePause(cluster, {
      senders: FAILOVER_SENDERS,
      warmupMs: FAILOVER_WARMUP_MS,
      sendTimeoutMs: FAILOVER_SEND_TIMEOUT_MS,
      maxSends: MAX_REQUESTS_PER_LOAD,
      moveTimeoutMs: MOVE_TIMEOUT_MS,
      clusterTimeoutMs: CLUSTER_TIMEOUT_MS,
    });
    log(`  move: ${movePauseMs.toFixed(0)} ms pause`);
    return { kvPuts, events, failovers, movePauseMs, loadAverages };
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${cluster.processes.describeOutput()}`, { cause: error });
  } finally {
    await cluster.stop();
  }
}
