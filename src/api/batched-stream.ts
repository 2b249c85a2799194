/**
 * Reads an async iterable ahead of its consumer into a bounded buffer and hands over everything
 * buffered, within a budget, as one batch: a stream that writes one message per batch then sends
 * a backlog in few messages and a trickle one item at a time, without waiting to fill a batch.
 */
import { assert } from '../lib/index.js';

export interface BatchBudget {
  readonly maxItems: number;
  /** About: a batch always holds at least one item, however large. */
  readonly maxBytes: number;
}

/**
 * Batches of `source`'s items, in order, each within `budget` by count and by `bytesOf`. At most
 * one budget's worth is read ahead; the source is then not read until a batch is taken. Ending
 * the iteration (break, return) stops reading ahead; a failure of the source ends it after the
 * items read before the failure.
 */
export async function* batchedStream<T>(
  source: AsyncIterable<T>,
  budget: BatchBudget,
  bytesOf: (item: T) => number,
): AsyncGenerator<T[]> {
  assert(budget.maxItems >= 1 && budget.maxBytes >= 1, 'a batch budget holds at least one item');
  const buffer: T[] = [];
  let bufferedBytes = 0;
  let finished = false;
  let stopped = false;
  let failure: { error: unknown } | undefined;
  let wakeReader: (() => void) | undefined;
  let wakePump: (() => void) | undefined;
  const full = (): boolean => buffer.length >= budget.maxItems || bufferedBytes >= budget.maxBytes;

  void (async () => {
    try {
      for await (const item of source) {
        buffer.push(item);
        bufferedBytes += bytesOf(item);
        wakeReader?.();
        while (full() && !stopped) await new Promise<void>((resolve) => (wakePump = resolve));
        if (stopped) return;
      }
    } catch (error) {
      failure = { error };
    } finally {
      finished = true;
      wakeReader?.();
    }
  })();

  try {
    while (true) {
      while (buffer.length === 0 && !finished) await new Promise<void>((resolve) => (wakeReader = resolve));
      if (buffer.length === 0) {
        if (failure !== undefined) throw failure.error;
        return;
      }
      const batch: T[] = [];
      let batchBytes = 0;
      while (buffer.length > 0 && batch.length < budget.maxItems) {
        const next = buffer[0] as T;
        const bytes = bytesOf(next);
        if (batch.length > 0 && batchBytes + bytes > budget.maxBytes) break;
        batch.push(next);
        buffer.shift();
        batchBytes += bytes;
        bufferedBytes -= bytes;
      }
      wakePump?.();
      yield batch;
    }
  } finally {
    stopped = true;
    // The pump stops at its next item, or when the source ends (as an aborted backend iterable does).
    wakePump?.();
  }
}
