/**
 * Concurrent appends to one chain share one request: the appends made in one turn of the event
 * loop under the same key (the client: chain and timeout; a node forwarding to a leader: chain
 * and leader) go out as one batch of consecutive records, and each caller gets its own offsets
 * from the answer. The batch's outcome is every caller's: not written, acknowledged, or unknown.
 * A batch refused for its contents (a record too large for the chain, say) was not written, so
 * each append is then sent alone and fails or succeeds on its own. Used by `client.chains` and
 * by a node's chain requests.
 */
import { type Clock, MeshError } from '../lib/index.js';

/** Most records one shared request carries (a larger append goes alone). */
export const MAX_SHARED_APPEND_RECORDS = 1_000;
/** Most payload bytes one shared request carries (a larger append goes alone). */
export const MAX_SHARED_APPEND_BYTES = 1024 * 1024;

/** Refusals caused by what the batch holds: nothing was written, each append may fare differently alone. */
const CONTENT_REFUSALS: ReadonlySet<string> = new Set(['CHAIN_RECORD_TOO_LARGE', 'VALIDATION_FAILED']);

export interface SharedAppendResult {
  readonly epoch: number;
  readonly firstOffset: number;
  readonly lastOffset: number;
}

/** Sends one request; `timeoutMs` undefined means the sender's default. */
export type SendAppend<Target> = (
  target: Target,
  payloads: readonly Uint8Array[],
  timeoutMs: number | undefined,
) => Promise<SharedAppendResult>;

interface WaitingAppend {
  readonly payloads: readonly Uint8Array[];
  /** When its budget ends on the clock, or undefined for the sender's default. */
  readonly deadlineMs: number | undefined;
  readonly resolve: (result: SharedAppendResult) => void;
  readonly reject: (error: unknown) => void;
}

interface OpenBatch<Target> {
  readonly target: Target;
  readonly appends: WaitingAppend[];
  records: number;
  bytes: number;
}

/** Payload bytes of a batch of records. */
export function payloadBytes(payloads: readonly Uint8Array[]): number {
  let bytes = 0;
  for (const payload of payloads) bytes += payload.byteLength;
  return bytes;
}

export class SharedAppends<Target> {
  /** The batch still taking appends, per key. */
  private readonly open = new Map<string, OpenBatch<Target>>();

  /**
   * `atEndOfTurn` runs a batch once the turn's appends joined it: `setImmediate` by default, so
   * every I/O callback of the turn (not just the current one) joins.
   */
  constructor(
    private readonly send: SendAppend<Target>,
    private readonly clock: Clock,
    private readonly atEndOfTurn: (action: () => void) => void = setImmediate,
  ) {}

  /** Appends `payloads` to `target` together with the other appends of this turn under `key`. */
  append(
    key: string,
    target: Target,
    payloads: readonly Uint8Array[],
    timeoutMs: number | undefined,
  ): Promise<SharedAppendResult> {
    const bytes = payloadBytes(payloads);
    // An empty append goes alone too: in a batch it would be answered with offsets, not refused.
    if (
      payloads.length === 0 ||
      payloads.length >= MAX_SHARED_APPEND_RECORDS ||
      bytes >= MAX_SHARED_APPEND_BYTES
    ) {
      return this.send(target, payloads, timeoutMs);
    }
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
      const opened: OpenBatch<Target> = { target, appends: [], records: 0, bytes: 0 };
      this.open.set(key, opened);
      this.atEndOfTurn(() => this.dispatch(key, opened));
      batch = opened;
    }
    batch.records += payloads.length;
    batch.bytes += bytes;
    const joined = batch;
    const deadlineMs = timeoutMs === undefined ? undefined : this.clock.nowMs() + timeoutMs;
    return new Promise((resolve, reject) => {
      joined.appends.push({ payloads, deadlineMs, resolve, reject });
    });
  }

  private dispatch(key: string, batch: OpenBatch<Target>): void {
    if (this.open.get(key) !== batch) return;
    this.open.delete(key);
    const { target, appends } = batch;
    if (appends.length === 1) {
      this.sendAlone(target, appends[0] as WaitingAppend);
      return;
    }
    this.send(
      target,
      appends.flatMap((append) => append.payloads),
      this.remainingMs(appends),
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
        if (!(error instanceof MeshError && CONTENT_REFUSALS.has(error.code))) {
          for (const append of appends) append.reject(error);
          return;
        }
        for (const append of appends) this.sendAlone(target, append);
      },
    );
  }

  /** One append on its own, within what is left of its budget. */
  private sendAlone(target: Target, append: WaitingAppend): void {
    this.send(target, append.payloads, this.remainingMs([append])).then(append.resolve, append.reject);
  }

  /** The longest budget left among `appends` (at least 1 ms), or undefined when one has the default. */
  private remainingMs(appends: readonly WaitingAppend[]): number | undefined {
    let latest = Number.NEGATIVE_INFINITY;
    for (const append of appends) {
      if (append.deadlineMs === undefined) return undefined;
      latest = Math.max(latest, append.deadlineMs);
    }
    return Math.max(1, Math.floor(latest - this.clock.nowMs()));
  }
}
