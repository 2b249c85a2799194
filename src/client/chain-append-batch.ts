/**
 * Concurrent appends to one chain share one `Append` call: the appends a client makes in one
 * turn of the event loop (with the same timeout) go out as one batch of consecutive records, and
 * each caller gets its own offsets from the answer. The batch's outcome is every caller's: not
 * written (retried by the call as for any append), acknowledged, or unknown. A batch the node
 * refuses for its contents (a record too large for the chain, say) was not written, so each
 * append is then sent alone and fails or succeeds on its own.
 */
import type { ChainAppendResult } from '../api/index.js';
import type { Clock } from '../lib/index.js';
import { MeshClientError } from './errors.js';
import type { CallOptions } from './types.js';

/** Most records one shared `Append` call carries (a larger append goes alone). */
export const MAX_SHARED_APPEND_RECORDS = 1_000;
/** Most payload bytes one shared `Append` call carries (a larger append goes alone). */
export const MAX_SHARED_APPEND_BYTES = 1024 * 1024;

/** Refusals caused by what the batch holds: nothing was written, each append may fare differently alone. */
const CONTENT_REFUSALS: ReadonlySet<string> = new Set(['CHAIN_RECORD_TOO_LARGE', 'VALIDATION_FAILED']);

export type SendAppend = (
  name: string,
  payloads: readonly Uint8Array[],
  options: CallOptions,
) => Promise<ChainAppendResult>;

interface WaitingAppend {
  readonly payloads: readonly Uint8Array[];
  readonly startedAtMs: number;
  readonly resolve: (result: ChainAppendResult) => void;
  readonly reject: (error: unknown) => void;
}

interface OpenBatch {
  readonly name: string;
  readonly options: CallOptions;
  readonly appends: WaitingAppend[];
  records: number;
  bytes: number;
}

function payloadBytes(payloads: readonly Uint8Array[]): number {
  let bytes = 0;
  for (const payload of payloads) bytes += payload.byteLength;
  return bytes;
}

export class SharedAppends {
  /** The batch still taking appends, per chain and timeout. */
  private readonly open = new Map<string, OpenBatch>();

  constructor(
    private readonly send: SendAppend,
    private readonly clock: Clock,
  ) {}

  append(name: string, payloads: readonly Uint8Array[], options: CallOptions): Promise<ChainAppendResult> {
    const bytes = payloadBytes(payloads);
    if (payloads.length >= MAX_SHARED_APPEND_RECORDS || bytes >= MAX_SHARED_APPEND_BYTES) {
      return this.send(name, payloads, options);
    }
    const key = `${options.timeoutMs ?? ''}:${name}`;
    let batch = this.open.get(key);
    if (
      batch !== undefined &&
      (batch.records + payloads.length > MAX_SHARED_APPEND_RECORDS ||
        batch.bytes + bytes > MAX_SHARED_APPEND_BYTES)
    ) {
      this.dispatch(key, batch);
      batch = undefined;
    }
    if (batch === undefined) {
      const opened: OpenBatch = { name, options, appends: [], records: 0, bytes: 0 };
      this.open.set(key, opened);
      // Everything appended in this turn (every I/O callback of it, not just this one) joins.
      setImmediate(() => this.dispatch(key, opened));
      batch = opened;
    }
    batch.records += payloads.length;
    batch.bytes += bytes;
    const joined = batch;
    return new Promise((resolve, reject) => {
      joined.appends.push({ payloads, startedAtMs: this.clock.nowMs(), resolve, reject });
    });
  }

  private dispatch(key: string, batch: OpenBatch): void {
    if (this.open.get(key) !== batch) return;
    this.open.delete(key);
    const { name, options, appends } = batch;
    if (appends.length === 1) {
      const only = appends[0] as WaitingAppend;
      this.send(name, only.payloads, options).then(only.resolve, only.reject);
      return;
    }
    this.send(
      name,
      appends.flatMap((append) => append.payloads),
      options,
    ).then(
      (result) => {
        let offset = result.firstOffset;
        for (const append of appends) {
          const lastOffset = offset + append.payloads.length - 1;
          append.resolve({ epoch: result.epoch, firstOffset: offset, lastOffset });
          offset = lastOffset + 1;
        }
      },
      (error: unknown) => {
        if (!(error instanceof MeshClientError && CONTENT_REFUSALS.has(error.code))) {
          for (const append of appends) append.reject(error);
          return;
        }
        for (const append of appends) this.sendAlone(name, append, options);
      },
    );
  }

  /** One append on its own, within what is left of its budget. */
  private sendAlone(name: string, append: WaitingAppend, options: CallOptions): void {
    const alone =
      options.timeoutMs === undefined
        ? options
        : {
            ...options,
            timeoutMs: Math.max(1, options.timeoutMs - (this.clock.nowMs() - append.startedAtMs)),
          };
    this.send(name, append.payloads, alone).then(append.resolve, append.reject);
  }
}
