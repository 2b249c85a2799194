/**
 * Keeps this node's row of the RTT matrix in the control plane (`proximity/<node>`), under the
 * node's registration lease so it goes when the node does. It rewrites the row every publish
 * interval (the row's heartbeat: readers judge freshness by it) and sooner when a peer's health
 * flips, but never twice within the minimum interval. One write in flight at a time.
 */
import { type ControlPlane, proximityKey } from '../control/index.js';
import type { Clock, Logger, NodeId, TimerId } from '../lib/index.js';
import type { ProximityGraph } from './proximity-graph.js';
import { PROXIMITY_MIN_PUBLISH_INTERVAL_MS, PROXIMITY_PUBLISH_INTERVAL_MS } from './proximity-limits.js';
import { encodeProximityRow } from './proximity-record.js';

export interface ProximityPublisherOptions {
  readonly plane: ControlPlane;
  readonly self: NodeId;
  readonly graph: ProximityGraph;
  /** The node's registration lease, undefined while it is not registered (nothing is written then). */
  readonly leaseId: () => number | undefined;
  readonly clock: Clock;
  readonly publishIntervalMs?: number;
  readonly minPublishIntervalMs?: number;
  readonly logger?: Logger;
}

export class ProximityPublisher {
  private readonly publishIntervalMs: number;
  private readonly minPublishIntervalMs: number;
  private timer: TimerId | undefined;
  private timerDueMs = Number.POSITIVE_INFINITY;
  private writing: Promise<void> | undefined;
  /** A flip seen while a write was in flight: the next write comes at the minimum interval. */
  private flippedWhileWriting = false;
  private lastWriteStartedAtMs = Number.NEGATIVE_INFINITY;
  private running = false;
  /** Rows written, and the last write's failure if it failed. */
  published = 0;
  lastError: Error | undefined;

  constructor(private readonly options: ProximityPublisherOptions) {
    this.publishIntervalMs = options.publishIntervalMs ?? PROXIMITY_PUBLISH_INTERVAL_MS;
    this.minPublishIntervalMs = options.minPublishIntervalMs ?? PROXIMITY_MIN_PUBLISH_INTERVAL_MS;
    options.graph.onHealthChange(() => this.healthFlipped());
  }

  /** Writes the row now, then every publish interval. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.scheduleAt(this.options.clock.nowMs());
  }

  /** Stops writing; resolves once a write in flight has settled. The row stays until the lease ends. */
  async stop(): Promise<void> {
    this.running = false;
    this.clearTimer();
    await this.writing;
  }

  private healthFlipped(): void {
    if (!this.running) return;
    if (this.writing !== undefined) {
      this.flippedWhileWriting = true;
      return;
    }
    this.scheduleAt(this.lastWriteStartedAtMs + this.minPublishIntervalMs);
  }

  /** Moves the next write to `dueMs` if that is sooner than the one scheduled. */
  private scheduleAt(dueMs: number): void {
    if (!this.running || dueMs >= this.timerDueMs) return;
    this.clearTimer();
    const { clock } = this.options;
    this.timerDueMs = dueMs;
    this.timer = clock.setTimer(Math.max(0, dueMs - clock.nowMs()), () => {
      this.timer = undefined;
      this.timerDueMs = Number.POSITIVE_INFINITY;
      this.write();
    });
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.options.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.timerDueMs = Number.POSITIVE_INFINITY;
  }

  private write(): void {
    if (!this.running) return;
    const { clock, plane, self, graph, leaseId } = this.options;
    const startedAtMs = clock.nowMs();
    this.lastWriteStartedAtMs = startedAtMs;
    this.flippedWhileWriting = false;
    const lease = leaseId();
    if (lease === undefined) {
      // Not registered yet (or re-registering): try again soon.
      this.scheduleAt(startedAtMs + this.minPublishIntervalMs);
      return;
    }
    const row = { node: self, publishedAtMs: clock.wallMs(), peers: graph.row() };
    this.writing = plane
      .put(proximityKey(self), encodeProximityRow(row), { lease })
      .then(
        () => {
          this.published += 1;
          this.lastError = undefined;
        },
        (error: unknown) => {
          this.lastError = error as Error;
          this.options.logger?.debug({ err: error }, 'could not publish the proximity row');
        },
      )
      .finally(() => {
        this.writing = undefined;
        const nextMs =
          this.flippedWhileWriting || this.lastError !== undefined
            ? startedAtMs + this.minPublishIntervalMs
            : startedAtMs + this.publishIntervalMs;
        this.scheduleAt(nextMs);
      });
  }
}
