/**
 * One node at a time holds a key under its own lease: it creates the key only if it is absent,
 * keeps the lease alive, and holds the seat until the lease is lost or it stands down. The others
 * wait for the key to disappear (the holder's lease expired or was revoked), then contend again.
 * A holder's writes carry the seat's fence (the key still at the revision it created), so a
 * holder that lost the seat cannot apply a change it decided on while it held it.
 */
import { retryDelayMs } from '../client/index.js';
import {
  absent,
  ControlCompactedError,
  type ControlCompare,
  type ControlPlane,
  ControlPlaneError,
  type ControlWatch,
  encodeRecord,
  type LeaseKeepAlive,
} from '../control/index.js';
import type { Clock, Logger, NodeId, Random } from '../lib/index.js';

/** One holding of the seat. */
export interface SeatTerm {
  readonly leaseId: number;
  /** Compares that hold while this term does: the key still as this holder created it. */
  readonly fence: readonly ControlCompare[];
  /** Resolves when the term ends (lease lost, stood down, or ended by the holder). */
  readonly ended: Promise<void>;
  /** Ends the term (say, a write found the fence broken); the seat then contends again. */
  end(reason: string): void;
}

export interface LeasedSeatOptions {
  readonly plane: ControlPlane;
  readonly key: string;
  readonly self: NodeId;
  readonly leaseTtlSeconds: number;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger?: Logger;
  /** Runs while the seat is held; the term ends when it resolves or the lease is lost. */
  readonly hold: (term: SeatTerm) => Promise<void>;
}

export class LeasedSeat {
  private stopped = false;
  private term: (SeatTerm & { keeper: LeaseKeepAlive }) | undefined;
  private stopWaiting: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  /** Terms this node held so far. */
  terms = 0;

  constructor(private readonly options: LeasedSeatOptions) {}

  get holding(): boolean {
    return this.term !== undefined;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stands down: ends the term (revoking the lease, so another node takes over at once). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopWaiting?.();
    this.term?.end('stopped');
    await this.loop;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        const seat = await this.contend();
        failures = 0;
        if (seat !== undefined) await this.holdTerm(seat.leaseId, seat.createRevision);
      } catch (error) {
        if (this.stopped) return;
        if (!(error instanceof ControlPlaneError) || !error.retryable) {
          this.options.logger?.error({ err: error }, 'seat: stopped contending after a failure');
          this.stopped = true;
          return;
        }
        await this.sleep(retryDelayMs(failures, this.options.random));
        failures += 1;
      }
    }
  }

  /** Takes the key if absent (answers its lease and create revision); else waits until it disappears. */
  private async contend(): Promise<{ leaseId: number; createRevision: number } | undefined> {
    const { plane, key } = this.options;
    const lease = await plane.grantLease(this.options.leaseTtlSeconds);
    const record = encodeRecord(key, { node: this.options.self, sinceMs: this.options.clock.wallMs() });
    const answer = await plane.txn({
      compare: [absent(key)],
      success: [{ type: 'put', key, value: record, lease: lease.id }],
      failure: [{ type: 'get', key }],
    });
    if (answer.succeeded) return { leaseId: lease.id, createRevision: answer.revision };
    await plane.revokeLease(lease.id).catch(() => undefined);
    const holder = answer.results[0]?.type === 'get' ? answer.results[0].entry : undefined;
    // The key was there at the txn's revision: any later deletion shows up from the next one.
    if (holder !== undefined) await this.waitForRemoval(answer.revision + 1);
    return undefined;
  }

  private async waitForRemoval(fromRevision: number): Promise<void> {
    const { plane, key } = this.options;
    let watch: ControlWatch;
    try {
      watch = await plane.watch(key, { fromRevision });
    } catch (error) {
      // Compacted meanwhile: contend again, which looks at the key afresh at a newer revision.
      if (error instanceof ControlCompactedError) return;
      throw error;
    }
    this.stopWaiting = () => watch.cancel();
    try {
      if (this.stopped) return;
      for await (const event of watch) {
        if (event.type === 'delete' && event.key === key) return;
      }
    } catch (error) {
      if (!(error instanceof ControlCompactedError)) throw error;
    } finally {
      this.stopWaiting = undefined;
      watch.cancel();
    }
  }

  private async holdTerm(leaseId: number, createRevision: number): Promise<void> {
    const { plane, key, logger } = this.options;
    let endTerm: (reason: string) => void = () => {};
    const ended = new Promise<string>((resolve) => {
      endTerm = resolve;
    });
    const keeper = plane.keepAlive(leaseId, { onLost: (loss) => endTerm(`lease lost (${loss.reason})`) });
    const fence: ControlCompare[] = [
      { key, target: 'createRevision', operator: '=', operand: createRevision },
    ];
    this.term = { leaseId, fence, ended: ended.then(() => undefined), end: endTerm, keeper };
    this.terms += 1;
    // Asked to stop while the seat was being taken: release it at once.
    if (this.stopped) endTerm('stopped');
    logger?.info({ leaseId }, 'seat: holding');
    const held = this.options.hold(this.term).catch((error: unknown) => {
      logger?.error({ err: error }, 'seat: the holder failed');
    });
    void held.then(() => endTerm('holder finished'));
    const watch = this.watchOwnKey(createRevision, endTerm);
    const reason = await ended;
    this.term = undefined;
    keeper.stop();
    (await watch)?.cancel();
    await held;
    logger?.info({ leaseId, reason }, 'seat: released');
    await plane.revokeLease(leaseId).catch(() => undefined);
  }

  /**
   * Ends the term as soon as the key is deleted or rewritten (say, the lease expired while this
   * node was paused), so the holder learns it without waiting for a write to be fenced.
   */
  private async watchOwnKey(
    createRevision: number,
    endTerm: (reason: string) => void,
  ): Promise<ControlWatch | undefined> {
    const { plane, key } = this.options;
    try {
      const watch = await plane.watch(key, { fromRevision: createRevision + 1 });
      void (async () => {
        try {
          for await (const event of watch) {
            if (event.type === 'delete' ? event.key === key : event.entry.key === key) {
              endTerm('the key was deleted or rewritten');
              return;
            }
          }
        } catch (error) {
          endTerm(`watching the key failed: ${(error as Error).message}`);
        }
      })();
      return watch;
    } catch (error) {
      endTerm(`watching the key failed: ${(error as Error).message}`);
      return undefined;
    }
  }

  private sleep(delayMs: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopped) {
        resolve();
        return;
      }
      const timer = this.options.clock.setTimer(delayMs, resolve);
      this.stopWaiting = () => {
        this.options.clock.clearTimer(timer);
        resolve();
      };
    });
  }
}
