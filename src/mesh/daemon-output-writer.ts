/**
 * The active member's output writer: appends the outputs of the events its core applied to the
 * daemon's output chain, in inbound order, one batch at a time. A new active first reads where
 * the output chain ends (the inbound offset of its last record) and writes from the next event
 * on, taking the outputs from its core's memory of recent outcomes: a hot standby applied every
 * event and kept their outputs, so the events the old active applied but did not get to write
 * are written now. An append whose outcome is unknown is written again, and a fenced old active
 * may still write a few, so the chain may hold an output twice: every output record carries
 * (inboundOffset, index), and readers drop any record not after the last one they delivered
 * (`dedupOutputs`), so an output stream has each output once, in inbound order.
 */
import type { ChainsBackend } from '../api/index.js';
import type { MemberCore } from '../daemons/member-core.js';
import { decodeOutputRecord, encodeOutputRecord } from '../daemons/record-codec.js';
import { type Clock, type Logger, MeshError } from '../lib/index.js';
import { OffsetWaiters } from './daemon-offset-waiters.js';

/** Most output records one append carries. */
export const MAX_OUTPUT_BATCH_RECORDS = 1_000;
/** Most payload bytes one append carries (at least one event's outputs go regardless). */
export const MAX_OUTPUT_BATCH_BYTES = 1024 * 1024;
/** How long one output append may take before it is tried again. */
export const OUTPUT_APPEND_TIMEOUT_MS = 5_000;
/** Wait before trying again after a failed append or read. */
export const OUTPUT_RETRY_DELAY_MS = 200;
/** Records read per step while looking for the output chain's last record. */
export const OUTPUT_TAIL_WINDOW_RECORDS = 64;
/** Senders waiting at once for their event's outputs to be written; more are answered "not yet". */
export const MAX_OUTPUT_WAITERS = 10_000;
/**
 * When outputs keep coming (the last append ended less than this long ago), how long the writer
 * lets them gather before it appends them, unless someone waits for them (a checkpoint, a move's
 * cutover, a send held by the lag bound) or a batch is full. An output append is a replicated
 * write with a sync on every replica: without the pause a busy writer made one per event or two,
 * as many as the events' own inbound appends, and they cost the events' rate (docs/BENCHMARKS.md
 * "Daemons"). An idle writer appends at once. Outputs reach `outputs --follow` up to this much
 * later; their durability is unchanged (written to the output chain under its acks policy).
 */
export const OUTPUT_LINGER_MS = 20;

export interface OutputWriterOptions {
  readonly daemon: string;
  /** The output chain it appends to (the daemon's, or a replica member's own). */
  readonly chain: string;
  readonly chains: ChainsBackend;
  readonly core: MemberCore;
  /** Whether the member still serves as the active (a fenced one writes nothing). */
  readonly mayWrite: () => boolean;
  readonly clock: Clock;
  /** How long outputs gather before an append nobody waits for (default `OUTPUT_LINGER_MS`). */
  readonly lingerMs?: number;
  readonly logger?: Logger;
}

export class OutputWriter {
  /** Inbound offset below which every event's outputs are on the chain; -1 until known. */
  private writtenThrough = -1;
  private stopped = false;
  private wake: (() => void) | undefined;
  /** When the last append ended (the writer lingers only while outputs keep coming). */
  private lastAppendEndMs = Number.NEGATIVE_INFINITY;
  /** Ends the linger at once: someone waits for outputs, or the writer stops. */
  private endLinger: (() => void) | undefined;
  private readonly waiters: OffsetWaiters<boolean>;

  constructor(private readonly options: OutputWriterOptions) {
    this.waiters = new OffsetWaiters(options.clock, MAX_OUTPUT_WAITERS, false);
  }

  start(): void {
    void this.run();
  }

  notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  stop(): void {
    this.stopped = true;
    this.notify();
    this.flush();
    this.waiters.close();
  }

  /**
   * Resolves true once the outputs of the event at `offset` are written; false on timeout or
   * stop, and at once while the writer is still finding the output chain's end (a new active
   * right after a failover: its sends are not held up by the output chain's own failover).
   */
  waitWritten(offset: number, timeoutMs: number): Promise<boolean> {
    if (offset < this.writtenThrough) return Promise.resolve(true);
    if (this.writtenThrough < 0) return Promise.resolve(false);
    const written = this.waiters.wait(offset, timeoutMs);
    this.flush();
    return written;
  }

  /** Someone waits for outputs: no lingering. */
  private flush(): void {
    const end = this.endLinger;
    this.endLinger = undefined;
    end?.();
  }

  private async run(): Promise<void> {
    const { chains, daemon, chain, core, logger } = this.options;
    while (!this.stopped && this.writtenThrough < 0) {
      try {
        this.writtenThrough = (await lastOutputInboundOffset(chains, chain)) + 1;
      } catch (error) {
        if (isChainGone(error)) return;
        logger?.warn({ err: error, daemon }, 'daemons: reading the output chain tail failed; retrying');
        await this.sleep(OUTPUT_RETRY_DELAY_MS);
      }
    }
    const oldest = core.oldestRemembered;
    if (oldest !== undefined && oldest > this.writtenThrough && core.appliedThrough > this.writtenThrough)
      logger?.error(
        { daemon, from: this.writtenThrough, oldestRemembered: oldest },
        'daemons: outputs of events before the oldest remembered one cannot be written',
      );
    let lingered = false;
    while (!this.stopped) {
      if (!this.options.mayWrite()) {
        await this.sleep(OUTPUT_RETRY_DELAY_MS);
        continue;
      }
      const batch = this.nextBatch();
      if (batch === undefined) {
        this.waiters.settleBelow(core.appliedThrough, () => true);
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        continue;
      }
      // Let more outputs join this append, once, unless someone waits or the batch is full.
      if (!lingered && this.mayLinger(batch)) {
        lingered = true;
        await this.linger();
        continue;
      }
      lingered = false;
      try {
        await chains.append(chain, batch.records, OUTPUT_APPEND_TIMEOUT_MS);
        this.lastAppendEndMs = this.options.clock.nowMs();
        this.writtenThrough = batch.through;
        this.waiters.settleBelow(batch.through, () => true);
      } catch (error) {
        if (isChainGone(error)) return;
        logger?.warn({ err: error, daemon }, 'daemons: appending outputs failed; trying again');
        await this.sleep(OUTPUT_RETRY_DELAY_MS);
      }
    }
  }

  /** The outputs of applied events from `writtenThrough` on, within the batch limits. */
  private nextBatch(): { records: Uint8Array[]; bytes: number; through: number } | undefined {
    const records: Uint8Array[] = [];
    let bytes = 0;
    let through = this.writtenThrough;
    for (const [offset, outcome] of this.options.core.outcomesAfter(this.writtenThrough - 1)) {
      const outputs = outcome.type === 'applied' && !outcome.duplicate ? outcome.outputs : [];
      const size = outputs.reduce((sum, output) => sum + output.length, 0);
      if (
        records.length > 0 &&
        (records.length + outputs.length > MAX_OUTPUT_BATCH_RECORDS || bytes + size > MAX_OUTPUT_BATCH_BYTES)
      )
        break;
      outputs.forEach((payload, index) => {
        records.push(encodeOutputRecord({ inboundOffset: offset, index, payload }));
      });
      bytes += size;
      through = offset + 1;
    }
    if (records.length === 0) {
      // Events without outputs are written by writing nothing.
      this.writtenThrough = Math.max(this.writtenThrough, through);
      return undefined;
    }
    return { records, bytes, through };
  }

  private mayLinger(batch: { readonly records: readonly Uint8Array[]; readonly bytes: number }): boolean {
    const lingerMs = this.options.lingerMs ?? OUTPUT_LINGER_MS;
    return (
      lingerMs > 0 &&
      this.options.clock.nowMs() - this.lastAppendEndMs < lingerMs &&
      this.waiters.size === 0 &&
      batch.records.length < MAX_OUTPUT_BATCH_RECORDS &&
      batch.bytes < MAX_OUTPUT_BATCH_BYTES
    );
  }

  /** Resolves after the linger, or at once when someone waits for outputs or the writer stops. */
  private linger(): Promise<void> {
    const { clock } = this.options;
    return new Promise((resolve) => {
      const done = () => {
        clock.clearTimer(timer);
        this.endLinger = undefined;
        resolve();
      };
      const timer = clock.setTimer(this.options.lingerMs ?? OUTPUT_LINGER_MS, done);
      this.endLinger = done;
    });
  }

  private sleep(delayMs: number): Promise<void> {
    return new Promise((resolve) => this.options.clock.setTimer(delayMs, resolve));
  }
}

function isChainGone(error: unknown): boolean {
  return error instanceof MeshError && error.code === 'CHAIN_NOT_FOUND';
}

/** The inbound offset of the output chain's last record, -1 when it holds none. */
export async function lastOutputInboundOffset(chains: ChainsBackend, chain: string): Promise<number> {
  const { commitOffset, startOffset } = await chains.status(chain);
  let end = commitOffset;
  while (end > startOffset) {
    const from = Math.max(startOffset, end - OUTPUT_TAIL_WINDOW_RECORDS);
    const { records } = await chains.read(chain, from, OUTPUT_TAIL_WINDOW_RECORDS, MAX_OUTPUT_BATCH_BYTES);
    const inWindow = records.filter((record) => record.offset < end);
    const last = inWindow[inWindow.length - 1];
    if (last !== undefined) return decodeOutputRecord(last.payload).inboundOffset;
    end = from;
  }
  return -1;
}
