/**
 * Appends what the reconciler does to the audit chain in the control plane. The executor's events
 * and the emitted actions are buffered (never blocking the executor: past AUDIT_BUFFER_RECORDS an
 * entry is dropped and counted, and the count goes into the chain as a gap record) and written in
 * batches, one transaction per batch, one write in flight at a time. Each write links to the head
 * it read and moves the head with a compare-and-swap under the reconciler's seat fence, so a new
 * reconciler continues the chain from its head and a stale one cannot fork it: its write fails,
 * and the recorder stops and says so. A write also trims the oldest records past
 * AUDIT_RETAINED_RECORDS and moves the anchor to the last one trimmed.
 */
import { retryDelayMs } from '../client/index.js';
import {
  AUDIT_ANCHOR_KEY,
  AUDIT_HEAD_KEY,
  absent,
  auditKey,
  type ControlCompare,
  type ControlEntry,
  type ControlPlane,
  ControlPlaneError,
  type ControlTxnOp,
  encodeRecord,
  unchangedSince,
} from '../control/index.js';
import { assert, type Clock, type Logger, type Random, type TimerId } from '../lib/index.js';
import type { ExecutorEvent, WireActionRecord } from '../reconcile/index.js';
import {
  AUDIT_BATCH_RECORDS,
  AUDIT_BUFFER_RECORDS,
  AUDIT_RETAINED_RECORDS,
  MAX_AUDIT_REASON_CHARACTERS,
  MAX_AUDIT_RECORD_BYTES,
  MIN_AUDIT_RETAINED_RECORDS,
} from './audit-limits.js';
import {
  AUDIT_EMPTY_ANCHOR,
  type AuditAnchor,
  type AuditEntry,
  type AuditHead,
  type AuditRecord,
  type AuditWriter,
  decodeAuditAnchor,
  decodeAuditHead,
  decodedOrUndefined,
  sealAuditRecord,
} from './audit-record.js';
import { planAuditTrim } from './audit-trim.js';

/** The reconciler's term of the seat, as the records name it and its writes are fenced by. */
export interface AuditTerm extends Omit<AuditWriter, 'leaseId'> {
  /**
   * Compares that hold while the term does (the seat's fence); the first names the seat key,
   * created at revision `epoch`.
   */
  readonly fence: readonly ControlCompare[];
  /** The seat's lease; unset, it is read from the seat key before the first write. */
  readonly leaseId?: number;
}

export interface AuditRecorderOptions {
  readonly plane: ControlPlane;
  readonly term: AuditTerm;
  /** The executor's clock: event times are its monotonic ms, recorded as wall-clock ms. */
  readonly clock: Clock;
  readonly random: Random;
  readonly logger?: Logger;
  /** Records kept before the oldest are trimmed (AUDIT_RETAINED_RECORDS unless set; tests set fewer). */
  readonly retainedRecords?: number;
  /**
   * The recorder stopped by itself: `fenced` when another writer moved the head or the term's
   * fence broke (the term is over: end it), otherwise after a failure it cannot get past.
   */
  readonly onStopped?: (stop: { readonly reason: string; readonly fenced: boolean }) => void;
}

export interface AuditRecorderStatus {
  /** Entries waiting for their write, the batch in flight included. */
  readonly buffered: number;
  readonly recordsWritten: number;
  readonly batchesWritten: number;
  /** Entries dropped because the buffer was full (each drop run becomes a gap record). */
  readonly dropped: number;
  /** Writes that failed and were retried. */
  readonly writeRetries: number;
  /** The last seq this recorder knows is stored (0 before its first write). */
  readonly headSeq: number;
  readonly stopped: boolean;
}

interface BufferedEntry {
  readonly entry: AuditEntry;
  readonly atWallMs: number;
}

interface Batch {
  readonly entries: readonly BufferedEntry[];
  /** How many of `entries` are the oldest buffered ones (the rest is a gap record before them). */
  readonly fromBuffer: number;
}

interface KnownHead extends AuditHead {
  /** The head key's mod revision (0: absent), for the compare-and-swap. */
  readonly modRevision: number;
}

/** Another writer owns the chain now. */
class AuditFencedError extends Error {}

function cutReason(reason: string): string {
  return reason.length <= MAX_AUDIT_REASON_CHARACTERS
    ? reason
    : `${reason.slice(0, MAX_AUDIT_REASON_CHARACTERS)}…`;
}

export class AuditRecorder {
  private readonly buffer: BufferedEntry[] = [];
  private drops: { count: number; firstAtWallMs: number; lastAtWallMs: number } | undefined;
  private head: KnownHead | undefined;
  /** The batch being written (retried as it is until it is written). */
  private batch: Batch | undefined;
  private anchor: AuditAnchor = AUDIT_EMPTY_ANCHOR;
  private writing: Promise<void> | undefined;
  private stopped = false;
  private retryTimer: { id: TimerId; wake: () => void } | undefined;
  private readonly idleWaiters: Array<() => void> = [];
  private readonly counts = { recordsWritten: 0, batchesWritten: 0, dropped: 0, writeRetries: 0 };

  private readonly retainedRecords: number;
  private leaseId: number | undefined;
  /**
   * Read once per term, so the times of one term's events differ exactly as the executor's do
   * (queue latencies stay whole milliseconds), whatever the wall clock does meanwhile.
   */
  private readonly wallMinusMonotonicMs: number;

  constructor(private readonly options: AuditRecorderOptions) {
    this.wallMinusMonotonicMs = Math.round(options.clock.wallMs() - options.clock.nowMs());
    this.retainedRecords = options.retainedRecords ?? AUDIT_RETAINED_RECORDS;
    this.leaseId = options.term.leaseId;
    assert(
      Number.isSafeInteger(this.retainedRecords) && this.retainedRecords > MIN_AUDIT_RETAINED_RECORDS,
      `an audit chain keeps more than ${MIN_AUDIT_RETAINED_RECORDS} records`,
    );
    this.add({ type: 'term' }, options.clock.wallMs());
  }

  /** Actions reconcile emitted (their wall-clock form), before they are submitted. */
  emitted(actions: readonly WireActionRecord[]): void {
    for (const action of actions) this.add({ type: 'emitted', action }, action.emittedAtWallMs);
  }

  /** One executor event; its time is the executor's monotonic ms. */
  record(event: ExecutorEvent): void {
    const atWallMs = event.atMs + this.wallMinusMonotonicMs;
    const entry: AuditEntry =
      event.type === 'deferred' || event.type === 'gated' || event.type === 'failed'
        ? { type: event.type, id: event.id, reason: cutReason(event.reason) }
        : { type: event.type, id: event.id };
    this.add(entry, atWallMs);
  }

  /** Resolves once everything recorded so far is written, or the recorder stopped. */
  flushed(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Writes what is buffered (however long the control plane takes), then stops. */
  async close(): Promise<void> {
    await this.flushed();
    this.stop();
  }

  /** Stops at once; what is buffered is not written. */
  stop(): void {
    this.stopped = true;
    if (this.retryTimer !== undefined) {
      this.options.clock.clearTimer(this.retryTimer.id);
      this.retryTimer.wake();
    }
    this.wakeIdleWaiters();
  }

  status(): AuditRecorderStatus {
    return {
      buffered: this.buffer.length,
      ...this.counts,
      headSeq: this.head?.seq ?? 0,
      stopped: this.stopped,
    };
  }

  private add(entry: AuditEntry, exactWallMs: number): void {
    if (this.stopped) return;
    const atWallMs = Math.round(exactWallMs);
    if (this.buffer.length >= AUDIT_BUFFER_RECORDS) {
      this.counts.dropped += 1;
      if (this.drops === undefined)
        this.drops = { count: 1, firstAtWallMs: atWallMs, lastAtWallMs: atWallMs };
      else {
        this.drops.count += 1;
        this.drops.lastAtWallMs = atWallMs;
      }
      return;
    }
    this.buffer.push({ entry, atWallMs });
    this.startWriting();
  }

  private hasWork(): boolean {
    return this.buffer.length > 0 || this.drops !== undefined || this.batch !== undefined;
  }

  private idle(): boolean {
    return this.stopped || (!this.hasWork() && this.writing === undefined);
  }

  private wakeIdleWaiters(): void {
    for (const wake of this.idleWaiters.splice(0)) wake();
  }

  /** Starts the write loop unless it runs; a microtask later, so one executor pass is one batch. */
  private startWriting(): void {
    if (this.writing !== undefined || this.stopped) return;
    this.writing = Promise.resolve()
      .then(() => this.writeUntilEmpty())
      .finally(() => {
        this.writing = undefined;
        if (!this.stopped && this.hasWork()) this.startWriting();
        else this.wakeIdleWaiters();
      });
  }

  private async writeUntilEmpty(): Promise<void> {
    let failures = 0;
    while (!this.stopped && this.hasWork()) {
      try {
        this.head ??= await this.readHead();
        this.batch ??= this.nextBatch();
        await this.writeBatch(this.head, this.batch);
        failures = 0;
      } catch (error) {
        if (this.stopped) return;
        if (error instanceof AuditFencedError) return this.stopBecause(error.message, true);
        if (!(error instanceof ControlPlaneError) || !error.retryable) {
          return this.stopBecause(`audit write failed: ${(error as Error).message}`, false);
        }
        this.counts.writeRetries += 1;
        this.options.logger?.warn({ err: error }, 'audit: write failed; retrying');
        await this.sleep(retryDelayMs(failures, this.options.random));
        failures += 1;
      }
    }
  }

  private stopBecause(reason: string, fenced: boolean): void {
    this.options.logger?.warn({ reason }, 'audit: recorder stopped');
    this.stop();
    this.options.onStopped?.({ reason, fenced });
  }

  /** The head and anchor as stored now (one revision); an empty chain starts at the genesis. */
  private async readHead(): Promise<KnownHead> {
    const seatKey = this.options.term.fence[0]?.key;
    const answer = await this.options.plane.txn({
      compare: [],
      success: [
        { type: 'get', key: AUDIT_HEAD_KEY },
        { type: 'get', key: AUDIT_ANCHOR_KEY },
        ...(seatKey === undefined ? [] : [{ type: 'get', key: seatKey } as const]),
      ],
    });
    const [headEntry, anchorEntry, seatEntry] = answer.results.map((result) =>
      result.type === 'get' ? result.entry : undefined,
    );
    // A seat key of another term: this term is over, and its first write will be refused.
    this.leaseId ??= seatEntry?.createRevision === this.options.term.epoch ? seatEntry.lease : 0;
    this.anchor =
      anchorEntry === undefined ? AUDIT_EMPTY_ANCHOR : decodeAuditAnchor(AUDIT_ANCHOR_KEY, anchorEntry.value);
    if (headEntry === undefined) return { ...this.anchor, ...this.writer(), modRevision: 0 };
    return { ...decodeAuditHead(AUDIT_HEAD_KEY, headEntry.value), modRevision: headEntry.modRevision };
  }

  /**
   * The next batch: a gap record first when entries were dropped, then the oldest buffered ones.
   * It stays as it is until written, so a retry writes the same records (and a retry after a lost
   * answer finds exactly the head it would have written).
   */
  private nextBatch(): Batch {
    const entries: BufferedEntry[] = [];
    if (this.drops !== undefined) {
      const { count, firstAtWallMs, lastAtWallMs } = this.drops;
      this.drops = undefined;
      entries.push({
        entry: {
          type: 'gap',
          dropped: count,
          firstDroppedAtWallMs: firstAtWallMs,
          lastDroppedAtWallMs: lastAtWallMs,
        },
        atWallMs: lastAtWallMs,
      });
    }
    const fromBuffer = Math.min(this.buffer.length, AUDIT_BATCH_RECORDS - entries.length);
    entries.push(...this.buffer.slice(0, fromBuffer));
    return { entries, fromBuffer };
  }

  /** This term as its records name it (the lease is known once the head was read). */
  private writer(): AuditWriter {
    const { node, epoch } = this.options.term;
    return { node, epoch, leaseId: this.leaseId ?? 0 };
  }

  private seal(head: AuditHead, entries: readonly BufferedEntry[]): AuditRecord[] {
    const writer = this.writer();
    const records: AuditRecord[] = [];
    let prev = head.hash;
    for (const [index, { entry, atWallMs }] of entries.entries()) {
      const record = sealAuditRecord({ seq: head.seq + index + 1, prev, atWallMs, ...writer, entry });
      records.push(record);
      prev = record.hash;
    }
    return records;
  }

  private async writeBatch(head: KnownHead, batch: Batch): Promise<void> {
    const records = this.seal(head, batch.entries);
    const last = records[records.length - 1];
    assert(last !== undefined, 'an audit batch holds at least one record');
    const newHead: AuditHead = { seq: last.seq, hash: last.hash, ...this.writer() };
    const trim = await planAuditTrim(this.options.plane, this.anchor, last.seq, this.retainedRecords);
    const puts: ControlTxnOp[] = records.map((record) => {
      const key = auditKey(record.seq);
      const value = encodeRecord(key, record);
      assert(
        value.length <= MAX_AUDIT_RECORD_BYTES,
        () => `audit record ${record.seq} is ${value.length} bytes`,
      );
      return { type: 'put', key, value };
    });
    const answer = await this.options.plane.txn({
      compare: [
        ...this.options.term.fence,
        unchangedSince(AUDIT_HEAD_KEY, head.modRevision),
        ...records.map((record) => absent(auditKey(record.seq))),
        ...trim.compare,
      ],
      success: [
        ...puts,
        { type: 'put', key: AUDIT_HEAD_KEY, value: encodeRecord(AUDIT_HEAD_KEY, newHead) },
        ...trim.ops,
      ],
      failure: [{ type: 'get', key: AUDIT_HEAD_KEY }],
    });
    let modRevision = answer.revision;
    if (!answer.succeeded) {
      const stored = answer.results[0]?.type === 'get' ? answer.results[0].entry : undefined;
      modRevision = this.appliedEarlier(stored, newHead);
    }
    this.head = { ...newHead, modRevision };
    if (trim.anchor !== undefined) this.anchor = trim.anchor;
    this.buffer.splice(0, batch.fromBuffer);
    this.batch = undefined;
    this.counts.recordsWritten += records.length;
    this.counts.batchesWritten += 1;
  }

  /**
   * The write's compares failed. If the head is the one it would have written, an earlier attempt
   * whose answer was lost applied it: answer the head's mod revision. Otherwise the chain is
   * another writer's now (or the seat's fence broke).
   */
  private appliedEarlier(stored: ControlEntry | undefined, wanted: AuditHead): number {
    const head =
      stored === undefined
        ? undefined
        : decodedOrUndefined(() => decodeAuditHead(AUDIT_HEAD_KEY, stored.value));
    if (
      head !== undefined &&
      head.hash === wanted.hash &&
      head.seq === wanted.seq &&
      head.epoch === wanted.epoch
    )
      return stored?.modRevision ?? 0;
    if (head !== undefined && head.seq !== this.head?.seq) {
      throw new AuditFencedError(
        `the audit head moved to ${head.seq} (node ${head.node}, epoch ${head.epoch}): another reconciler writes the chain`,
      );
    }
    throw new AuditFencedError('the audit write was fenced: the reconciler seat is no longer this term');
  }

  private sleep(delayMs: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        this.retryTimer = undefined;
        resolve();
      };
      this.retryTimer = { id: this.options.clock.setTimer(delayMs, wake), wake };
    });
  }
}
