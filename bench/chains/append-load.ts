import { sleep } from '../cluster/processes.js';
import { percentile } from '../harness.js';
import type { ChainAppender } from './chains-system.js';

/** 256-byte records, as the issue asks. */
export const RECORD_BYTES = 256;
export const DEFAULT_APPEND_TIMEOUT_MS = 5_000;
/** Pause before a client whose append failed tries again, so a dead member does not spin the CPU. */
export const APPEND_ERROR_BACKOFF_MS = 10;

export interface AppendLoadOptions {
  /** One closed-loop client per appender: exactly one append in flight each. */
  readonly appenders: readonly ChainAppender[];
  /** Stop after this many finished appends (acknowledged or failed)... */
  readonly maxAppends: number;
  /** ...or after this long, whichever comes first. */
  readonly maxDurationMs: number;
  readonly appendTimeoutMs?: number;
  /** Called once per finished append, with times from `performance.now()`. */
  readonly observe?: (sentAtMs: number, doneAtMs: number, acknowledged: boolean) => void;
  /** Ends the run early (the appends in flight still finish). */
  readonly signal?: AbortSignal;
}

export interface AppendLoadResult {
  readonly clients: number;
  readonly acknowledged: number;
  readonly failed: number;
  readonly durationMs: number;
  readonly acksPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly firstError?: string;
}

/** A record's payload: the client and its counter up front (distinct records), padding after. */
export function recordPayload(client: number, counter: number, bytes = RECORD_BYTES): Uint8Array {
  const payload = new Uint8Array(bytes);
  const view = new DataView(payload.buffer);
  view.setUint32(0, client);
  view.setUint32(4, counter);
  return payload;
}

/** Closed-loop appends from every appender until the count, the time or the signal ends it. */
export async function runAppendLoad(options: AppendLoadOptions): Promise<AppendLoadResult> {
  const timeoutMs = options.appendTimeoutMs ?? DEFAULT_APPEND_TIMEOUT_MS;
  const latencies: number[] = [];
  let started = 0;
  let failed = 0;
  let firstError: string | undefined;
  const startedAt = performance.now();
  const deadline = startedAt + options.maxDurationMs;
  const running = (): boolean =>
    started < options.maxAppends && performance.now() < deadline && options.signal?.aborted !== true;

  const client = async (appender: ChainAppender, index: number): Promise<void> => {
    for (let counter = 0; running(); counter++) {
      started++;
      const sentAt = performance.now();
      try {
        await appender.append(recordPayload(index, counter), timeoutMs);
        const doneAt = performance.now();
        latencies.push(doneAt - sentAt);
        options.observe?.(sentAt, doneAt, true);
      } catch (error) {
        failed++;
        firstError ??= error instanceof Error ? error.message : String(error);
        options.observe?.(sentAt, performance.now(), false);
        await sleep(APPEND_ERROR_BACKOFF_MS);
      }
    }
  };
  await Promise.all(options.appenders.map(client));
  const durationMs = performance.now() - startedAt;
  latencies.sort((a, b) => a - b);
  return {
    clients: options.appenders.length,
    acknowledged: latencies.length,
    failed,
    durationMs,
    acksPerSecond: (latencies.length * 1000) / durationMs,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    ...(firstError === undefined ? {} : { firstError }),
  };
}
