import type { ChainRecord, ChainRecordStream } from './chains-backend.js';

/**
 * A `ChainRecordStream` over a source of batches: `batches()` is the source itself; iterating
 * the stream gives the batches' records one by one and stops between two records once `signal`
 * aborts.
 */
export function chainRecordStream(
  batches: () => AsyncIterable<readonly ChainRecord[]>,
  signal: AbortSignal,
): ChainRecordStream {
  return {
    batches,
    async *[Symbol.asyncIterator]() {
      for await (const batch of batches()) {
        for (const record of batch) {
          if (signal.aborted) return;
          yield record;
        }
      }
    },
  };
}
