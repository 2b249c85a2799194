import type { ChainRecord, ChainRecordStream } from './chains-backend.js';

/**
 * A `ChainRecordStream` over a source of batches: `batches()` is the source itself; iterating
 * the stream gives the batches' records one by one and stops between two records once `signal`
 * aborts. `position` is the source's (see `ChainRecordStream.position`).
 */
export function chainRecordStream(
  batches: () => AsyncIterable<readonly ChainRecord[]>,
  signal: AbortSignal,
  position: () => number,
): ChainRecordStream {
  return {
    batches,
    get position() {
      return position();
    },
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
