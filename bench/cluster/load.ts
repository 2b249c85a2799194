import { performance } from 'node:perf_hooks';
import { traceStage } from '../../src/lib/node/index.js';
import { percentile } from '../harness.js';
import { KvChannels } from './kv-channels.js';
import { type BenchClientTls, kvRequestFrame, RawKvChannels } from './raw-kv-channels.js';

/**
 * Closed-loop load over the etcd v3 KV API: N clients, each with exactly one request in flight,
 * multiplexed over a few shared HTTP/2 channels. Client `c` starts on channel `c mod channels`,
 * and channels cycle through the endpoints, so clients are spread evenly over every member; a
 * client whose call fails moves to the next channel (the next member) after a short pause.
 */
export type LoadOperation = 'put' | 'get-linearizable' | 'get-serializable';

export interface LoadOptions {
  readonly endpoints: readonly string[];
  readonly operation: LoadOperation;
  readonly clients: number;
  /** Stop after this many completed requests (successful or not)... */
  readonly maxRequests: number;
  /** ...or after this long, whichever comes first. */
  readonly maxDurationMs: number;
  readonly channelsPerEndpoint?: number;
  readonly valueBytes?: number;
  /** Keys cycle through this many distinct names per client (puts) or in total (gets). */
  readonly keySpace?: number;
  readonly requestTimeoutMs?: number;
  /** Called once per finished request, with times from `performance.now()` and a failure's message. */
  readonly observe?: (sentAtMs: number, doneAtMs: number, succeeded: boolean, error?: string) => void;
  /** Ends the run early (the in-flight requests still finish). */
  readonly signal?: AbortSignal;
  /** TLS to the client ports; plaintext without it. */
  readonly tls?: BenchClientTls;
  /** Client 0 talks to this endpoint (index in `endpoints`), client 1 to the next, and so on. */
  readonly firstEndpoint?: number;
}

export interface LoadResult {
  readonly operation: LoadOperation;
  readonly clients: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly durationMs: number;
  readonly throughputPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** p50 and p99 of the requests each member answered (index as in `endpoints`): the leader's against the followers'. */
  readonly byMember: readonly {
    readonly succeeded: number;
    readonly p50Ms: number;
    readonly p99Ms: number;
  }[];
  readonly firstError?: string;
}

export const DEFAULT_CHANNELS_PER_ENDPOINT = 2;
export const DEFAULT_VALUE_BYTES = 256;
export const DEFAULT_KEY_SPACE = 1_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
/** Pause before a failed client retries elsewhere, so a dead member does not spin the CPU. */
export const ERROR_BACKOFF_MS = 10;
/** Keys that the get workloads read; `preloadReadKeys` writes them. */
export const READ_KEY_PREFIX = 'bench/read/';

export function readKey(index: number): Buffer {
  return Buffer.from(`${READ_KEY_PREFIX}${String(index).padStart(8, '0')}`);
}

export function putKey(client: number, index: number): Buffer {
  return Buffer.from(`bench/put/${String(client).padStart(4, '0')}/${String(index).padStart(6, '0')}`);
}

/** Writes the keys the get workloads read (one Txn of puts per batch). */
export async function preloadReadKeys(
  endpoints: readonly string[],
  keySpace = DEFAULT_KEY_SPACE,
  valueBytes = DEFAULT_VALUE_BYTES,
): Promise<void> {
  const channels = new KvChannels(endpoints.slice(0, 1), 1);
  const value = Buffer.alloc(valueBytes, 0x61);
  const batch = 100;
  try {
    for (let start = 0; start < keySpace; start += batch) {
      const success = [];
      for (let index = start; index < Math.min(keySpace, start + batch); index++) {
        success.push({ request_put: { key: readKey(index), value } });
      }
      await channels.call(0, 'Txn', { compare: [], success, failure: [] }, DEFAULT_REQUEST_TIMEOUT_MS);
    }
  } finally {
    channels.close();
  }
}

/** Runs one closed-loop load and summarizes it. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const channels = new RawKvChannels(
    options.endpoints,
    options.channelsPerEndpoint ?? DEFAULT_CHANNELS_PER_ENDPOINT,
    options.tls,
  );
  const value = Buffer.alloc(options.valueBytes ?? DEFAULT_VALUE_BYTES, 0x62);
  const keySpace = options.keySpace ?? DEFAULT_KEY_SPACE;
  const timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const latencies = new Float64Array(options.maxRequests);
  const memberOf = new Uint8Array(options.maxRequests);
  let succeeded = 0;
  let failed = 0;
  let issued = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const deadline = started + options.maxDurationMs;

  // Gets read a fixed set of keys, so their frames are serialized once; puts once per call.
  const getFrames = new Map<number, Buffer>();
  const getFrame = (index: number, serializable: boolean): Buffer => {
    const slot = serializable ? -1 - index : index;
    let frame = getFrames.get(slot);
    if (frame === undefined) {
      frame = kvRequestFrame('Range', { key: readKey(index), ...(serializable ? { serializable } : {}) });
      getFrames.set(slot, frame);
    }
    return frame;
  };
  const request = (client: number, sequence: number): { method: string; frame: Buffer } => {
    switch (options.operation) {
      case 'put':
        return {
          method: 'Put',
          frame: kvRequestFrame('Put', { key: putKey(client, sequence % keySpace), value }),
        };
      case 'get-linearizable':
        return { method: 'Range', frame: getFrame((client * 7919 + sequence) % keySpace, false) };
      case 'get-serializable':
        return { method: 'Range', frame: getFrame((client * 7919 + sequence) % keySpace, true) };
    }
  };

  const runClient = async (client: number): Promise<void> => {
    let channel = (client + (options.firstEndpoint ?? 0)) % channels.size;
    for (let sequence = 0; ; sequence++) {
      if (issued >= options.maxRequests || performance.now() >= deadline) return;
      if (options.signal?.aborted === true) return;
      issued++;
      const { method, frame } = request(client, sequence);
      const sentAt = performance.now();
      let ok = true;
      let failure: string | undefined;
      traceStage?.('client-sent', 0);
      try {
        await channels.call(channel, method, frame, timeoutMs);
      } catch (error) {
        ok = false;
        failure = error instanceof Error ? error.message : String(error);
        firstError ??= failure;
      }
      traceStage?.('client-done', 0);
      const doneAt = performance.now();
      options.observe?.(sentAt, doneAt, ok, failure);
      if (ok) {
        latencies[succeeded] = doneAt - sentAt;
        memberOf[succeeded] = channel % options.endpoints.length;
        succeeded++;
      } else {
        failed++;
        channel = (channel + 1) % channels.size;
        await new Promise((resolve) => setTimeout(resolve, ERROR_BACKOFF_MS));
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: options.clients }, (_, client) => runClient(client)));
  } finally {
    channels.close();
  }
  const durationMs = performance.now() - started;
  const byMember = options.endpoints.map((_, member) => {
    const answered: number[] = [];
    for (let index = 0; index < succeeded; index++)
      if (memberOf[index] === member) answered.push(latencies[index]!);
    answered.sort((a, b) => a - b);
    return {
      succeeded: answered.length,
      p50Ms: percentile(answered, 0.5),
      p99Ms: percentile(answered, 0.99),
    };
  });
  const sorted = latencies.subarray(0, succeeded).sort();
  const values = Array.from(sorted);
  return {
    operation: options.operation,
    clients: options.clients,
    succeeded,
    failed,
    durationMs,
    throughputPerSecond: (succeeded * 1000) / durationMs,
    p50Ms: percentile(values, 0.5),
    p99Ms: percentile(values, 0.99),
    byMember,
    ...(firstError === undefined ? {} : { firstError }),
  };
}

/** Requests at most in a load bounded by time (`timedLoad`), so every loop stays bounded in count too. */
export const MAX_REQUESTS_PER_TIMED_LOAD = 10_000_000;

/** A closed-loop load that runs for `durationMs` (warm-ups, profiling, counters). */
export function timedLoad(
  endpoints: readonly string[],
  operation: LoadOperation,
  clients: number,
  durationMs: number,
  tls?: BenchClientTls,
): Promise<LoadResult> {
  return runLoad({
    endpoints,
    operation,
    clients,
    maxRequests: MAX_REQUESTS_PER_TIMED_LOAD,
    maxDurationMs: durationMs,
    ...(tls === undefined ? {} : { tls }),
  });
}

/** One line for logs: `put x64: 1234 req/s, p50 1.2 ms, p99 3.4 ms`. */
export function describeLoad(result: LoadResult): string {
  const errors = result.failed === 0 ? '' : `, ${result.failed} failed (${result.firstError ?? '?'})`;
  const members = result.byMember
    .map((member, index) => `m${index + 1} ${member.p50Ms.toFixed(1)}/${member.p99Ms.toFixed(1)}`)
    .join(', ');
  return `${result.operation} x${result.clients}: ${Math.round(result.throughputPerSecond)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms (${result.succeeded} ok${errors}; p50/p99 ms by member ${members})`;
}
