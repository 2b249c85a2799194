import { type AppendLoadResult, runAppendLoad } from './append-load.js';
import { type ChainSyncMode, type ChainsSystem, SystemUnavailableError } from './chains-system.js';
import { type FailoverResult, measureFailoverGap } from './failover.js';

/** Client counts of the append loads, as the issue asks. */
export const APPEND_CLIENTS = [1, 16, 64] as const;
export const MAX_APPENDS_PER_LOAD = 200_000;
const WARMUP_CLIENTS = 16;
const WARMUP_MS = 1_000;
export const READ_MAX_RECORDS = 200_000;
export const READ_MAX_MS = 5_000;
export const FAILOVER_CLIENTS = 4;
const FAILOVER_WARMUP_MS = 1_000;
const FAILOVER_APPEND_TIMEOUT_MS = 1_000;
/** JetStream's own election timeout is 4-9 s; a gap longer than this is reported as missing. */
const FAILOVER_MAX_GAP_MS = 20_000;
export const CLUSTER_TIMEOUT_MS = 30_000;

export interface ModeFigures {
  readonly mode: ChainSyncMode;
  readonly loads: readonly AppendLoadResult[];
  readonly readRecordsPerSecond: number;
  readonly recordsRead: number;
}

export interface RoundFigures {
  readonly system: string;
  readonly modes: readonly ModeFigures[];
  /** Measured on the chain of the system's first sync mode. */
  readonly failover: FailoverResult;
}

function describeLoad(result: AppendLoadResult): string {
  const errors = result.failed === 0 ? '' : `, ${result.failed} failed (${result.firstError ?? '?'})`;
  return `x${result.clients}: ${result.acksPerSecond.toFixed(0)} acks/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms (${result.acknowledged} acks${errors})`;
}

/** Every phase once on a fresh cluster of `system`: appends and reads per sync mode, then failover. */
export async function runChainsRound(
  system: ChainsSystem,
  loadDurationMs: number,
  log: (line: string) => void,
): Promise<RoundFigures> {
  try {
    await system.start(CLUSTER_TIMEOUT_MS);
    const modes: ModeFigures[] = [];
    for (const mode of system.syncModes.keys()) {
      const name = `bench-${mode}`;
      await system.createChain(name, mode, CLUSTER_TIMEOUT_MS);
      await runAppendLoad({
        appenders: await system.openAppenders(name, WARMUP_CLIENTS),
        maxAppends: MAX_APPENDS_PER_LOAD,
        maxDurationMs: WARMUP_MS,
      });
      const loads: AppendLoadResult[] = [];
      for (const clients of APPEND_CLIENTS) {
        const result = await runAppendLoad({
          appenders: await system.openAppenders(name, clients),
          maxAppends: MAX_APPENDS_PER_LOAD,
          maxDurationMs: loadDurationMs,
        });
        log(`  ${system.label} ${mode} appends ${describeLoad(result)}`);
        loads.push(result);
      }
      const read = await system.read(name, READ_MAX_RECORDS, READ_MAX_MS);
      const readRecordsPerSecond = (read.records * 1000) / read.durationMs;
      log(`  ${system.label} ${mode} read: ${read.records} records at ${readRecordsPerSecond.toFixed(0)}/s`);
      modes.push({ mode, loads, readRecordsPerSecond, recordsRead: read.records });
    }
    const [firstMode] = system.syncModes.keys();
    const failover = await measureFailoverGap(system, `bench-${firstMode}`, {
      clients: FAILOVER_CLIENTS,
      warmupMs: FAILOVER_WARMUP_MS,
      appendTimeoutMs: FAILOVER_APPEND_TIMEOUT_MS,
      maxGapMs: FAILOVER_MAX_GAP_MS,
      maxAppends: MAX_APPENDS_PER_LOAD,
      clusterTimeoutMs: CLUSTER_TIMEOUT_MS,
    });
    log(
      `  ${system.label} failover: leader (member ${failover.killedMember + 1}) kill -9 -> first ack ${failover.gapMs.toFixed(0)} ms (${failover.failedAppends} appends failed meanwhile)`,
    );
    return { system: system.label, modes, failover };
  } catch (error) {
    if (error instanceof SystemUnavailableError) throw error;
    throw new Error(`${(error as Error).message}\n${system.describeOutput()}`, { cause: error });
  } finally {
    await system.stop();
  }
}
