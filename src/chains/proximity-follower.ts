/**
 * Follows every node's row under `proximity/` and answers the mesh's RTT matrix. A row is fresh
 * while it was rewritten within the last PROXIMITY_STALE_AFTER_PUBLISH_INTERVALS publish
 * intervals, by this follower's own clock (publishers' clocks are never compared), so a node that
 * stopped publishing (paused, cut off from the control plane) goes stale before its lease ends.
 */
import {
  type ControlEntry,
  type ControlEvent,
  type ControlPlane,
  KEYSPACE_PREFIXES,
  PrefixFollower,
} from '../control/index.js';
import type { Clock, Logger, NodeId, Random } from '../lib/index.js';
import {
  PROXIMITY_PUBLISH_INTERVAL_MS,
  PROXIMITY_STALE_AFTER_PUBLISH_INTERVALS,
} from './proximity-limits.js';
import type { ProximityMatrix, ProximityMatrixRow, ProximityRow } from './proximity-matrix.js';
import { decodeProximityRow } from './proximity-record.js';

export interface ProximityFollowerOptions {
  readonly plane: ControlPlane;
  readonly clock: Clock;
  readonly random?: Random;
  /** How long after its last write a row is stale. */
  readonly staleAfterMs?: number;
  readonly logger?: Logger;
}

interface HeldRow {
  readonly row: ProximityRow;
  /** This follower's clock when the row's latest version arrived. */
  readonly seenAtMs: number;
}

export class ProximityFollower {
  private readonly rows = new Map<string, HeldRow>();
  private readonly follower: PrefixFollower;
  private readonly staleAfterMs: number;
  private loaded = false;
  private readonly loadedWaiters: (() => void)[] = [];
  /** Rows skipped because they did not decode. */
  badRows = 0;

  constructor(private readonly options: ProximityFollowerOptions) {
    this.staleAfterMs =
      options.staleAfterMs ?? PROXIMITY_STALE_AFTER_PUBLISH_INTERVALS * PROXIMITY_PUBLISH_INTERVAL_MS;
    this.follower = new PrefixFollower(
      options.plane,
      KEYSPACE_PREFIXES.proximity,
      {
        onReset: (entries) => this.reset(entries),
        onEvent: (event) => this.apply(event),
        onError: (error) => options.logger?.warn({ err: error }, 'stopped following proximity rows'),
      },
      { clock: options.clock, ...(options.random === undefined ? {} : { random: options.random }) },
    );
  }

  /** Resolves once the first listing arrived. */
  whenLoaded(): Promise<void> {
    if (this.loaded) return Promise.resolve();
    return new Promise((resolve) => this.loadedWaiters.push(resolve));
  }

  /** Every row now, each marked fresh or stale. */
  matrix(): ProximityMatrix {
    const nowMs = this.options.clock.nowMs();
    const rows = new Map<NodeId, ProximityMatrixRow>();
    for (const { row, seenAtMs } of this.rows.values()) {
      rows.set(row.node, { ...row, fresh: nowMs - seenAtMs <= this.staleAfterMs });
    }
    return { rows };
  }

  async stop(): Promise<void> {
    this.follower.stop();
    await this.follower.done;
  }

  private reset(entries: ReadonlyMap<string, ControlEntry>): void {
    this.rows.clear();
    for (const entry of entries.values()) this.hold(entry);
    this.loaded = true;
    for (const resolve of this.loadedWaiters.splice(0)) resolve();
  }

  private apply(event: ControlEvent): void {
    if (event.type === 'put') this.hold(event.entry);
    else this.rows.delete(event.key);
  }

  private hold(entry: ControlEntry): void {
    try {
      const row = decodeProximityRow(entry.key, entry.value);
      this.rows.set(entry.key, { row, seenAtMs: this.options.clock.nowMs() });
    } catch (error) {
      this.badRows += 1;
      this.rows.delete(entry.key);
      this.options.logger?.debug(
        { err: error, key: entry.key },
        'skipped a proximity row that does not decode',
      );
    }
  }
}
