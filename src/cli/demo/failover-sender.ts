/**
 * The events `meshos demo failover` sends through the failover: one at a time, each with this
 * run's client id and the next sequence, and each sent again (same id and sequence, so the
 * daemon applies it at most once) until it is acknowledged. Every acknowledgement is kept with
 * when it came and which member and epoch answered it, which is what the gap is measured from.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import type { MeshClient } from '../../client/index.js';

/** Pause between two events: at most 50 events a second from one demo. */
const SEND_INTERVAL_MS = 20;
/** Pause before sending a failed event again (the client already retried inside its budget). */
const RESEND_INTERVAL_MS = 20;
/** Budget of one send call, the client's own retries included. */
const SEND_TIMEOUT_MS = 2_000;
/** A bound on one run's events, whatever happens to the deadlines. */
export const MAX_FAILOVER_DEMO_EVENTS = 20_000;

export interface Acknowledgement {
  readonly sequence: number;
  /** `performance.now()` when the answer came. */
  readonly atMs: number;
  readonly epoch: number;
  readonly memberIndex: number;
}

export class FailoverSender {
  readonly acknowledgements: Acknowledgement[] = [];
  /** Events that were sent but never acknowledged before the deadline (0 or 1: one is in flight at a time). */
  unacknowledged = 0;
  /** The last failure's text, for the report when nothing is acknowledged. */
  lastFailure = '';
  private stopping = false;
  private running: Promise<void> = Promise.resolve();
  private readonly changed = new Set<() => void>();

  constructor(
    private readonly client: MeshClient,
    private readonly daemon: string,
    private readonly key: string,
    private readonly clientId: string,
    private readonly deadlineMs: number,
  ) {}

  start(): void {
    this.running = this.run();
  }

  /** Lets the event in flight finish (acknowledged, or its deadline passed), then stops. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
  }

  /** Resolves once `condition` holds over the acknowledgements, or false when the sender ended or `untilMs` passed. */
  async waitFor(
    condition: (acknowledgements: readonly Acknowledgement[]) => boolean,
    untilMs: number,
  ): Promise<boolean> {
    for (;;) {
      if (condition(this.acknowledgements)) return true;
      if (this.stopping || Date.now() >= untilMs) return false;
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          this.changed.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, Math.max(0, untilMs - Date.now()));
        this.changed.add(wake);
      });
    }
  }

  private async run(): Promise<void> {
    for (let sequence = 1; !this.stopping && sequence <= MAX_FAILOVER_DEMO_EVENTS; sequence++) {
      if (!(await this.sendUntilAcknowledged(sequence))) {
        this.unacknowledged += 1;
        break;
      }
      await delay(SEND_INTERVAL_MS);
    }
    this.stopping = true;
    this.notify();
  }

  private async sendUntilAcknowledged(sequence: number): Promise<boolean> {
    for (;;) {
      try {
        const answer = await this.client.daemons.send(this.daemon, '1', {
          key: this.key,
          clientId: this.clientId,
          sequence,
          timeoutMs: SEND_TIMEOUT_MS,
        });
        this.acknowledgements.push({
          sequence,
          atMs: performance.now(),
          epoch: answer.epoch,
          memberIndex: answer.memberIndex,
        });
        this.notify();
        return true;
      } catch (error) {
        this.lastFailure = error instanceof Error ? error.message : String(error);
        if (Date.now() >= this.deadlineMs) return false;
        await delay(RESEND_INTERVAL_MS);
      }
    }
  }

  private notify(): void {
    for (const wake of [...this.changed]) wake();
  }
}
