/**
 * `MaintenanceClient`: what `meshos node drain|maintenance` does, for programs: ask a node into
 * or out of maintenance, read its state with what it still holds, and wait for a drain to end.
 * It talks to the control plane (the voters' client ports, or the mesh's etcd) directly, as a
 * worker node does; the nodes' maintenance agents carry the requests out.
 */
import { ChainDirectory } from '../chains/index.js';
import type { ClientTlsOptions } from '../client/index.js';
import { type ControlPlane, openControlPlane } from '../control/index.js';
import { DaemonDirectory } from '../daemons/directory.js';
import { type Clock, type NodeId, SystemClock } from '../lib/index.js';
import { DEFAULT_DRAIN_DEADLINE_MS, isDraining, type MaintenanceState } from '../reconcile/index.js';
import { BlobCatalog } from './blob-catalog.js';
import {
  type BlobHolders,
  holdingsOf,
  isEmpty,
  type NodeHoldings,
  neededBlobCopies,
} from './maintenance-holdings.js';
import type { MaintenanceRecord, StoredMaintenanceRequest } from './maintenance-record.js';
import { allChains } from './maintenance-service.js';
import { type EnterOptions, type ExitOptions, MaintenanceStore } from './maintenance-store.js';

/** How often `drain` reads the node's state while it waits. */
export const DRAIN_POLL_INTERVAL_MS = 250;
/** How long `drain` waits past the drain deadline for the node's agent to commit the outcome. */
export const DRAIN_OUTCOME_MARGIN_MS = 10_000;

/** The control plane an operator's client reaches through `endpoints` (voters' client ports, or etcd). */
export async function openOperatorPlane(
  options: MaintenanceClientOptions,
): Promise<{ plane: ControlPlane; clock: Clock }> {
  const clock = options.clock ?? new SystemClock();
  const plane = await openControlPlane({
    kind: 'etcd',
    endpoints: options.endpoints,
    clock,
    ...(options.root === undefined ? {} : { root: options.root }),
    ...(options.tls === undefined ? {} : { tls: options.tls }),
  });
  return { plane, clock };
}

/** `meshos node maintenance status --json` prints exactly this. */
export interface MaintenanceStatus {
  readonly node: NodeId;
  readonly state: MaintenanceState;
  readonly changedAtWallMs: number;
  readonly request?: StoredMaintenanceRequest;
  /** What the node still holds (daemon members, chain replicas, blob copies still needed); empty once drained. */
  readonly holdings: NodeHoldings;
  readonly empty: boolean;
}

export interface MaintenanceClientOptions {
  /** host:port of the control plane's members (MeshOS voters' client ports, or etcd). */
  readonly endpoints: readonly string[];
  /** The plane's root prefix (default `/meshos/v1/`). */
  readonly root?: string;
  readonly clock?: Clock;
  /** TLS to the endpoints (`--cacert/--cert/--key`); plaintext without it. */
  readonly tls?: ClientTlsOptions;
}

export class MaintenanceClient {
  private readonly store: MaintenanceStore;

  constructor(
    private readonly plane: ControlPlane,
    private readonly clock: Clock = new SystemClock(),
    private readonly ownsPlane = false,
  ) {
    this.store = new MaintenanceStore(plane, clock);
  }

  static async connect(options: MaintenanceClientOptions): Promise<MaintenanceClient> {
    const { plane, clock } = await openOperatorPlane(options);
    return new MaintenanceClient(plane, clock, true);
  }

  /** Asks `node` into maintenance (its drain starts); answers its status. */
  async enter(node: NodeId, options: EnterOptions = {}): Promise<MaintenanceStatus> {
    await this.store.enter(node, options);
    return this.status(node);
  }

  /** Asks `node` back into service (through Recovery); answers its status. */
  async exit(node: NodeId, options: ExitOptions = {}): Promise<MaintenanceStatus> {
    await this.store.exit(node, options);
    return this.status(node);
  }

  /** The node's committed state, its last request and what it still holds. */
  async status(node: NodeId): Promise<MaintenanceStatus> {
    const [record, daemons, chains, blobs] = await Promise.all([
      this.store.require(node),
      new DaemonDirectory(this.plane).list(),
      allChains(new ChainDirectory(this.plane, { clock: this.clock })),
      new BlobCatalog(this.plane).list(),
    ]);
    const holdings = holdingsOf(
      node,
      daemons.map((stored) => stored.definition),
      chains,
      neededBlobCopies(node, blobs, await this.keepingCopies(node, blobs)),
    );
    return statusOf(record, holdings);
  }

  /**
   * Which other holders of `node`'s blobs keep copies as far as the control plane tells: known
   * (registered or with a record) and not draining.
   */
  private async keepingCopies(
    node: NodeId,
    blobs: readonly BlobHolders[],
  ): Promise<(holder: NodeId) => boolean> {
    const holders = new Set(
      blobs.filter((blob) => blob.holders.includes(node)).flatMap((blob) => blob.holders),
    );
    holders.delete(node);
    const keeping = new Set<NodeId>();
    for (const holder of holders) {
      const record = await this.store.require(holder).catch(() => undefined);
      if (record !== undefined && !isDraining(record.state)) keeping.add(holder);
    }
    return (holder) => keeping.has(holder);
  }

  /**
   * Asks `node` into maintenance and waits until its drain ended: Maintenance (done) or
   * DrainFailed (with its reason), or the node was asked out meanwhile. `onProgress` sees each
   * status that differs from the one before.
   */
  async drain(
    node: NodeId,
    options: EnterOptions & { readonly onProgress?: (status: MaintenanceStatus) => void } = {},
  ): Promise<MaintenanceStatus> {
    let status = await this.enter(node, options);
    let shown = '';
    for (;;) {
      const text = JSON.stringify([status.state, status.holdings]);
      if (text !== shown) {
        shown = text;
        options.onProgress?.(status);
      }
      const { state, request } = status;
      const starting = state.phase === 'Active' && request?.target === 'maintenance';
      if (state.phase !== 'EnteringMaintenance' && !starting) return status;
      // A node whose agent does not answer (down) leaves the drain as it is: waiting ends.
      const deadlineWallMs =
        state.phase === 'EnteringMaintenance'
          ? state.deadlineWallMs
          : (request?.deadlineWallMs ?? (request?.requestedAtWallMs ?? 0) + DEFAULT_DRAIN_DEADLINE_MS);
      if (this.clock.wallMs() > deadlineWallMs + DRAIN_OUTCOME_MARGIN_MS) return status;
      await new Promise<void>((resolve) => this.clock.setTimer(DRAIN_POLL_INTERVAL_MS, resolve));
      status = await this.status(node);
    }
  }

  async close(): Promise<void> {
    if (this.ownsPlane) await this.plane.close();
  }
}

function statusOf(record: MaintenanceRecord, holdings: NodeHoldings): MaintenanceStatus {
  return {
    node: record.node,
    state: record.state,
    changedAtWallMs: record.changedAtWallMs,
    ...(record.request === undefined ? {} : { request: record.request }),
    holdings,
    empty: isEmpty(holdings),
  };
}
