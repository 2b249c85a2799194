import { performance } from 'node:perf_hooks';
import { KvChannels } from './kv-channels.js';

/** Most operations etcd's API allows in one Txn (MeshOS has the same limit). */
export const KEYS_PER_TXN = 128;
export const MEMORY_KEY_BYTES = 16;
export const MEMORY_VALUE_BYTES = 128;

/** A failed batch is sent again (puts are idempotent) at most this many times in all. */
export const MAX_BATCH_RETRIES = 50;
const BULK_REQUEST_TIMEOUT_MS = 30_000;
const RETRY_PAUSE_MS = 200;

export interface BulkLoadResult {
  readonly keys: number;
  readonly durationMs: number;
  readonly retries: number;
  readonly firstError?: string;
}

/** `m` + 15 digits: exactly 16 bytes for every index below 10^15. */
export function memoryKey(index: number): Buffer {
  return Buffer.from(`m${String(index).padStart(MEMORY_KEY_BYTES - 1, '0')}`);
}

/**
 * Writes distinct keys through the API as fast as it goes, `KEYS_PER_TXN` puts per Txn and
 * `concurrency` Txns in flight, until `targetKeys` are written or `maxDurationMs` has passed.
 */
export async function bulkLoadKeys(
  endpoints: readonly string[],
  targetKeys: number,
  maxDurationMs: number,
  concurrency: number,
): Promise<BulkLoadResult> {
  const channels = new KvChannels(endpoints, 1);
  const value = Buffer.alloc(MEMORY_VALUE_BYTES, 0x63);
  const started = performance.now();
  let nextKey = 0;
  let written = 0;
  let retries = 0;
  let firstError: string | undefined;
  const worker = async (worker: number): Promise<void> => {
    for (;;) {
      if (nextKey >= targetKeys || performance.now() - started >= maxDurationMs) return;
      const first = nextKey;
      const count = Math.min(KEYS_PER_TXN, targetKeys - first);
      nextKey += count;
      const success = Array.from({ length: count }, (_, offset) => ({
        request_put: { key: memoryKey(first + offset), value },
      }));
      for (;;) {
        try {
          await channels.call(worker, 'Txn', { compare: [], success, failure: [] }, BULK_REQUEST_TIMEOUT_MS);
          break;
        } catch (error) {
          firstError ??= error instanceof Error ? error.message : String(error);
          if (++retries > MAX_BATCH_RETRIES) throw error;
          await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
        }
      }
      written += count;
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, (_, index) => worker(index)));
  } finally {
    channels.close();
  }
  return {
    keys: written,
    durationMs: performance.now() - started,
    retries,
    ...(firstError === undefined ? {} : { firstError }),
  };
}
