/**
 * Reading a daemon's outputs off its output chain. The chain may hold an event's outputs twice
 * (a new active rewrote what it could not see written, src/mesh/daemon-output-writer.ts): a
 * record whose (inboundOffset, index) is not after the last one delivered is dropped, so
 * readers see each output once, in inbound order. A reader starting mid-chain first looks at
 * the records just before its start so a copy of an output it would not deliver is dropped too.
 */
import type { DaemonOutput } from '../api/daemons-backend.js';
import type { ChainRecord, ChainsBackend } from '../api/index.js';
import { decodeOutputRecord } from '../daemons/record-codec.js';

/** Records a reader looks back over from its start to recognise copies of earlier outputs. */
export const OUTPUT_DEDUP_LOOKBACK_RECORDS = 1_024;
/** Records per read of a reader that does not follow. */
export const OUTPUT_READ_RECORDS = 1_000;
/** Bytes per read of a reader that does not follow. */
export const OUTPUT_READ_BYTES = 1024 * 1024;

/** Whether (offset, index) comes after (lastOffset, lastIndex). */
function after(
  record: { inboundOffset: number; index: number },
  last: { inboundOffset: number; index: number },
): boolean {
  return (
    record.inboundOffset > last.inboundOffset ||
    (record.inboundOffset === last.inboundOffset && record.index > last.index)
  );
}

export async function* readOutputs(
  chains: ChainsBackend,
  chain: string,
  fromSequence: number,
  follow: boolean,
  signal: AbortSignal,
): AsyncGenerator<DaemonOutput> {
  let last = { inboundOffset: -1, index: -1 };
  const lookbackFrom = Math.max(0, fromSequence - OUTPUT_DEDUP_LOOKBACK_RECORDS);
  for await (const record of committed(chains, chain, lookbackFrom, fromSequence, signal)) {
    const output = decodeOutputRecord(record.payload);
    if (after(output, last)) last = output;
  }
  const records = follow
    ? chains.subscribe(chain, fromSequence, signal)
    : committed(chains, chain, fromSequence, Number.POSITIVE_INFINITY, signal);
  for await (const record of records) {
    if (signal.aborted) return;
    const output = decodeOutputRecord(record.payload);
    if (!after(output, last)) continue;
    last = output;
    yield {
      sequence: record.offset,
      inboundOffset: output.inboundOffset,
      index: output.index,
      payload: output.payload,
    };
  }
}

/** Committed records in [from, until), up to the commit offset as of each read. */
async function* committed(
  chains: ChainsBackend,
  chain: string,
  from: number,
  until: number,
  signal: AbortSignal,
): AsyncGenerator<ChainRecord> {
  let offset = from;
  while (offset < until && !signal.aborted) {
    const batch = await chains.read(chain, offset, OUTPUT_READ_RECORDS, OUTPUT_READ_BYTES);
    for (const record of batch.records) {
      if (record.offset >= until) return;
      yield record;
    }
    if (batch.nextOffset <= offset || batch.nextOffset >= batch.commitOffset) return;
    offset = batch.nextOffset;
  }
}
