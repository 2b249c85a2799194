/**
 * Turns the reconcile service's event feed (every executor event with its action and the term
 * it happened in) into audit records: one recorder per term of the reconciler seat, the action's
 * wire record appended as `emitted` before its first event (queued, duplicate or refused).
 */
import type { ControlPlane } from '../control/index.js';
import type { Clock, Logger, NodeId, Random, TimerId } from '../lib/index.js';
import { type ExecutorEvent, type PendingAction, toWireRecord } from '../reconcile/index.js';
import { AUDIT_CLOSE_TIMEOUT_MS } from './audit-limits.js';
import { AuditRecorder, type AuditRecorderStatus } from './audit-recorder.js';

/** One executor event as the reconcile service reports it. */
export interface AuditedEvent {
  readonly event: ExecutorEvent;
  readonly action: PendingAction;
  /** The seat's holder and the term's epoch (the seat key's create revision). */
  readonly term: { readonly holder: NodeId; readonly epoch: number };
}

export interface AuditFeedOptions {
  readonly plane: ControlPlane;
  /** The reconciler's seat key: a term's writes hold only while it is as the term created it. */
  readonly seatKey: string;
  /** The executor's clock. */
  readonly clock: Clock;
  readonly random: Random;
  readonly logger?: Logger;
}

const SUBMIT_OUTCOMES: ReadonlySet<ExecutorEvent['type']> = new Set(['queued', 'duplicate', 'refused']);

export class AuditFeed {
  private current: { readonly epoch: number; readonly recorder: AuditRecorder } | undefined;

  constructor(private readonly options: AuditFeedOptions) {}

  record({ event, action, term }: AuditedEvent): void {
    const recorder = this.recorderOf(term);
    if (SUBMIT_OUTCOMES.has(event.type)) {
      const { clock } = this.options;
      recorder.emitted([
        toWireRecord(action, term.holder, { monotonicMs: clock.nowMs(), wallMs: clock.wallMs() }),
      ]);
    }
    recorder.record(event);
  }

  /** The current term's recorder, if this node held the seat. */
  status(): AuditRecorderStatus | undefined {
    return this.current?.recorder.status();
  }

  /**
   * Writes what the current term buffered (waiting at most AUDIT_CLOSE_TIMEOUT_MS: a node
   * shutting down does not wait on an unreachable control plane), then stops. Call it before the
   * reconciler gives up its seat: once the seat is gone, the term's writes are refused.
   */
  async close(): Promise<void> {
    const recorder = this.current?.recorder;
    if (recorder === undefined) return;
    const { clock } = this.options;
    let timer: TimerId | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = clock.setTimer(AUDIT_CLOSE_TIMEOUT_MS, resolve);
    });
    await Promise.race([recorder.flushed(), timeout]);
    if (timer !== undefined) clock.clearTimer(timer);
    recorder.stop();
  }

  /** Stops at once (what is buffered is not written). */
  stop(): void {
    this.current?.recorder.stop();
  }

  private recorderOf(term: AuditedEvent['term']): AuditRecorder {
    if (this.current?.epoch === term.epoch) return this.current.recorder;
    // A new term: the previous one's seat is gone, so whatever it still buffers would be refused.
    this.current?.recorder.stop();
    const { plane, seatKey, clock, random, logger } = this.options;
    const recorder = new AuditRecorder({
      plane,
      term: {
        node: term.holder,
        epoch: term.epoch,
        fence: [{ key: seatKey, target: 'createRevision', operator: '=', operand: term.epoch }],
      },
      clock,
      random,
      ...(logger === undefined ? {} : { logger }),
    });
    this.current = { epoch: term.epoch, recorder };
    return recorder;
  }
}
