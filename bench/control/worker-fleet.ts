import { performance } from 'node:perf_hooks';
import {
  type ControlPlane,
  type ControlWatch,
  encodeRecord,
  KEYSPACE_PREFIXES,
  LEASE_RENEWALS_PER_TTL,
  nodeKey,
  openControlPlane,
} from '../../src/control/index.js';
import { isMeshError, type NodeId } from '../../src/lib/index.js';
import { ErrorCounts } from './error-counts.js';
import { LeaveTracker } from './leave-tracker.js';

/**
 * Simulated worker nodes: light in-process clients doing what a worker's membership does
 * through the control plane's etcd backend (`openControlPlane({ kind: 'etcd' })`). Each
 * registers its node record under its own lease, renews the lease LEASE_RENEWALS_PER_TTL times
 * per TTL (each renewal one timed `renewLease`), and watches the membership prefix. The workers
 * share a few control planes, so a few gRPC connections.
 */
export interface WorkerFleetOptions {
  readonly endpoints: readonly string[];
  readonly workers: number;
  /** Control planes (one client each, with its own connections) the workers share. */
  readonly planes: number;
  readonly ttlSeconds: number;
  /** Node id of worker 0; worker i is `firstNodeId + i`. */
  readonly firstNodeId: NodeId;
}

/** Registrations and watch creations in flight at once while the fleet starts. */
const START_CONCURRENCY = 32;
/** Attempts at a worker's registration or watch creation before the bench counts it failed. */
const START_ATTEMPTS = 3;
/** Keep-alive round trips kept for the percentiles; later ones are counted, not kept. */
const MAX_KEEPALIVE_SAMPLES = 1_000_000;

interface SimulatedWorker {
  readonly index: number;
  readonly nodeId: NodeId;
  /** Its registration key, relative to the plane's root (`nodes/<id>`). */
  readonly key: string;
  readonly plane: ControlPlane;
  leaseId: number;
  watch: ControlWatch | undefined;
  renewTimer: NodeJS.Timeout | undefined;
  /** The renewal in flight, if any. */
  renewal: Promise<void> | undefined;
  /** performance.now() of the last renewal the store acknowledged. */
  lastRenewedAtMs: number;
}

/** The record a worker registers, in the shape of the mesh's node registration. */
function nodeRecord(nodeId: NodeId): object {
  const host = `10.0.${nodeId >> 8}.${nodeId & 0xff}`;
  return {
    id: nodeId,
    name: `worker-${nodeId}`,
    role: 'worker',
    addresses: { peer: `${host}:7400`, admin: `${host}:7401` },
    zone: `zone-${nodeId % 3}`,
    capacity: { cpus: 8, memoryBytes: 32 * 2 ** 30 },
    version: '0.1.0',
    startedAt: Date.now(),
  };
}

async function inBatches<T>(
  items: readonly T[],
  concurrency: number,
  action: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await action(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
}

export class WorkerFleet {
  readonly errors = new ErrorCounts();
  readonly leaves = new LeaveTracker();
  private readonly keepAliveMs: number[] = [];
  private keepAlivesNotKept = 0;
  /** Workers whose watch is open, by index. */
  private readonly watching = new Set<number>();
  /** Renewals run from each worker's registration until `close()`. */
  private renewing = true;

  private constructor(
    private readonly options: WorkerFleetOptions,
    private readonly planes: readonly ControlPlane[],
    private readonly workers: readonly SimulatedWorker[],
  ) {}

  /** Connects, registers every worker under its lease, then opens every worker's watch. */
  static async start(options: WorkerFleetOptions): Promise<WorkerFleet> {
    const planes: ControlPlane[] = [];
    for (let plane = 0; plane < options.planes; plane++) {
      planes.push(await openControlPlane({ kind: 'etcd', endpoints: options.endpoints }));
    }
    const workers = Array.from({ length: options.workers }, (_, index): SimulatedWorker => {
      const nodeId = options.firstNodeId + index;
      return {
        index,
        nodeId,
        key: nodeKey(nodeId),
        plane: planes[index % planes.length]!,
        leaseId: 0,
        watch: undefined,
        renewTimer: undefined,
        renewal: undefined,
        lastRenewedAtMs: 0,
      };
    });
    const fleet = new WorkerFleet(options, planes, workers);
    // Registered first, watching second: the setup's joins fan out to nobody, so what the
    // steady phase measures is keep-alives, and each leave's fan-out to every watcher. Each
    // worker renews from the moment it registered, as a real one would.
    await inBatches(workers, START_CONCURRENCY, (worker) =>
      fleet.attempt('register', () => fleet.register(worker)),
    );
    await inBatches(workers, START_CONCURRENCY, (worker) =>
      fleet.attempt('watch', () => fleet.openWatch(worker)),
    );
    return fleet;
  }

  get size(): number {
    return this.workers.length;
  }

  /** Keep-alive round trips so far (ms), and how many were measured but not kept. */
  keepAliveSamples(): { readonly kept: readonly number[]; readonly notKept: number } {
    return { kept: this.keepAliveMs, notKept: this.keepAlivesNotKept };
  }

  /** Worker `index` leaves by revoking its lease; answers ms until every other watcher saw it. */
  async revoke(index: number): Promise<number> {
    const worker = this.leave(index);
    const [elapsedMs] = await Promise.all([
      this.leaves.expect(worker.key, this.watching),
      worker.plane.revokeLease(worker.leaseId),
    ]);
    return elapsedMs;
  }

  /**
   * Worker `index` stops renewing (a crashed node); answers ms from the moment its lease's TTL
   * ran out (its last acknowledged renewal + TTL) until every other watcher saw its delete.
   */
  async expire(index: number): Promise<number> {
    const worker = this.leave(index);
    // A renewal still in flight restarts the TTL when it lands: wait for it.
    await worker.renewal;
    const ranOutAtMs = worker.lastRenewedAtMs + this.options.ttlSeconds * 1000;
    return this.leaves.expect(worker.key, this.watching, ranOutAtMs);
  }

  async close(): Promise<void> {
    this.renewing = false;
    for (const worker of this.workers) {
      clearTimeout(worker.renewTimer);
      worker.watch?.cancel();
    }
    await Promise.all(this.planes.map((plane) => plane.close()));
  }

  private leave(index: number): SimulatedWorker {
    const worker = this.workers[index];
    if (worker === undefined) throw new Error(`no worker ${index}`);
    clearTimeout(worker.renewTimer);
    worker.renewTimer = undefined;
    // A departing node stops watching first; the others are the ones to reach.
    if (worker.watch !== undefined) {
      worker.watch.cancel();
      worker.watch = undefined;
      this.watching.delete(worker.index);
      this.leaves.watcherClosed(worker.index);
    }
    return worker;
  }

  /** Runs a start step up to START_ATTEMPTS times; a step that never succeeds is counted, and the fleet goes on without it. */
  private async attempt(step: string, action: () => Promise<void>): Promise<void> {
    for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
      try {
        await action();
        return;
      } catch (error) {
        this.errors.add(attempt < START_ATTEMPTS ? `${step} (retried)` : `${step} (given up)`, error);
      }
    }
  }

  private async register(worker: SimulatedWorker): Promise<void> {
    if (worker.leaseId !== 0) await worker.plane.revokeLease(worker.leaseId).catch(() => undefined);
    clearTimeout(worker.renewTimer);
    const lease = await worker.plane.grantLease(this.options.ttlSeconds);
    worker.leaseId = lease.id;
    worker.lastRenewedAtMs = performance.now();
    const intervalMs = (this.options.ttlSeconds * 1000) / LEASE_RENEWALS_PER_TTL;
    worker.renewTimer = setTimeout(() => this.renewLoop(worker, intervalMs), intervalMs);
    const record = encodeRecord(worker.key, nodeRecord(worker.nodeId));
    await worker.plane.put(worker.key, record, { lease: lease.id });
  }

  private async openWatch(worker: SimulatedWorker): Promise<void> {
    const watch = await worker.plane.watch(KEYSPACE_PREFIXES.nodes);
    worker.watch = watch;
    this.watching.add(worker.index);
    void this.consume(worker, watch);
  }

  private async consume(worker: SimulatedWorker, watch: ControlWatch): Promise<void> {
    try {
      for await (const event of watch) {
        if (event.type === 'delete') this.leaves.sawDelete(event.key, worker.index);
      }
    } catch (error) {
      if (worker.watch === watch) this.errors.add('watch', error);
    }
  }

  private renewLoop(worker: SimulatedWorker, intervalMs: number): void {
    if (!this.renewing || worker.renewTimer === undefined) return;
    const sentAtMs = performance.now();
    worker.renewTimer = setTimeout(() => this.renewLoop(worker, intervalMs), intervalMs);
    worker.renewal = worker.plane.renewLease(worker.leaseId).then(
      () => {
        const doneAtMs = performance.now();
        worker.lastRenewedAtMs = doneAtMs;
        worker.renewal = undefined;
        if (this.keepAliveMs.length < MAX_KEEPALIVE_SAMPLES) this.keepAliveMs.push(doneAtMs - sentAtMs);
        else this.keepAlivesNotKept += 1;
      },
      (error: unknown) => {
        worker.renewal = undefined;
        if (!this.renewing) return;
        if (!isMeshError(error, 'CONTROL_LEASE_NOT_FOUND')) {
          this.errors.add('keep-alive', error);
          return;
        }
        // The lease expired before a renewal reached it: the node is gone; it stops renewing.
        this.errors.add('lease lost (expired while renewing)', error);
        clearTimeout(worker.renewTimer);
        worker.renewTimer = undefined;
      },
    );
  }
}
