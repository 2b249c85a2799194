import { collectDefaultMetrics, Registry } from 'prom-client';
import type { ControlPlane } from '../control/index.js';
import {
  type Address,
  type Clock,
  type Disk,
  type Logger,
  type NodeId,
  type Random,
  SystemClock,
  systemRandom,
} from '../lib/index.js';
import { NodeDisk } from '../lib/node/index.js';
import type { EscalationError } from '../supervisor/index.js';
import { workerAdminSource } from './admin-source.js';
import { registerAuthRefusalMetrics } from './auth-metrics.js';
import { registerChainMetrics } from './chain-metrics.js';
import { newChainRequestCounters } from './chain-requests.js';
import { registerClientPortMetrics } from './client-port-metrics.js';
import { type Membership, registerMembershipMetrics } from './membership.js';
import { validateWorkerNodeConfig, type WorkerNodeConfig } from './membership-config.js';
import { MembershipChangeRelay } from './membership-relay.js';
import type { MembershipChange } from './membership-view.js';
import { type NodeParts, part } from './node-parts.js';
import { registerProximityMetrics } from './proximity-service.js';
import type { ServiceFaults } from './service-faults.js';
import { registerServiceMetrics } from './service-metrics.js';
import type { ServiceTreeStatus } from './service-status.js';
import { ServiceTree } from './service-tree.js';
import { controlPlaneClient, etcdControlPlane, workerName, workerServices } from './worker-services.js';

export interface WorkerNodeDependencies {
  /** The control plane to use instead of opening one on `config.controlPlaneEndpoints`. */
  readonly controlPlane?: ControlPlane;
  readonly disk?: Disk;
  readonly clock?: Clock;
  readonly random?: Random;
  readonly logger?: Logger;
  /** Tests only: lets the test crash the worker's services (and the admin port serve crashes). */
  readonly faults?: ServiceFaults;
}

/** The addresses a running worker listens on (port 0 resolved). */
export interface WorkerNodeEndpoints {
  readonly peer: Address;
  /** MeshOS's gRPC services for clients (`meshos.v1.Chains`). */
  readonly client: Address;
  readonly admin: Address;
}

/** Why `WorkerNode.run` returned: asked to stop, or a critical service failed (`failure()`). */
export type WorkerExit = 'stopped' | 'failed';

/**
 * A worker: no Raft. Its services (data-directory lock, identity and certificate, peer
 * transport, a client of the control plane — MeshOS voters or an etcd cluster —, the admin
 * HTTP port, and membership: its registration under a lease and its view of the mesh) run as a
 * supervision tree, like a voter's (docs/SUPERVISION.md).
 */
export class WorkerNode {
  private constructor(
    readonly id: NodeId,
    readonly name: string,
    readonly endpoints: WorkerNodeEndpoints,
    private readonly tree: ServiceTree,
    private readonly parts: NodeParts,
    private readonly firstMembership: Membership,
    private readonly changes: MembershipChangeRelay,
  ) {}

  /**
   * Starts every service in dependency order; when one cannot start, those already started are
   * stopped in reverse order (the lock and the ports are free again) and the start rejects with
   * that service's typed error (`NodeStartError` naming it when it had none).
   */
  static async start(
    config: WorkerNodeConfig,
    dependencies: WorkerNodeDependencies = {},
  ): Promise<WorkerNode> {
    validateWorkerNodeConfig(config);
    const disk = dependencies.disk ?? new NodeDisk();
    const clock = dependencies.clock ?? new SystemClock();
    const random = dependencies.random ?? systemRandom();
    const given = dependencies.controlPlane;
    const parts: NodeParts = {};
    const changes = new MembershipChangeRelay();
    const registry = new Registry();
    const chainCounters = newChainRequestCounters();
    collectDefaultMetrics({ register: registry, prefix: 'meshos_process_' });
    const services = workerServices({
      chainCounters,
      config,
      parts,
      disk,
      clock,
      random,
      ...(dependencies.logger === undefined ? {} : { logger: dependencies.logger }),
      adminSource: workerAdminSource(config, parts, () => tree.status(), dependencies.faults),
      registry: () => registry,
      membershipOpened: (membership) => changes.follow(membership.view),
      // A given control plane is the caller's: lent to the services, never closed by them.
      connect:
        given === undefined
          ? etcdControlPlane(config, clock, random)
          : () => Promise.resolve({ plane: given, close: () => Promise.resolve() }),
      ...(given === undefined ? { controlPlaneClient: controlPlaneClient(config, random) } : {}),
    });
    const tree = new ServiceTree(services, {
      clock,
      random,
      ...(dependencies.faults === undefined ? {} : { faults: dependencies.faults }),
    });
    await tree.start();
    registerServiceMetrics(registry, () => tree.status());
    registerMembershipMetrics(registry, () => parts.membership);
    registerChainMetrics(registry, () => parts.chainHost, chainCounters);
    registerClientPortMetrics(registry, () => parts.clientTlsRefusals);
    registerAuthRefusalMetrics(registry, () => parts.callerRefusals);
    registerProximityMetrics(registry, () => parts.proximity?.graph);
    const id = part(parts, 'identity').id;
    return new WorkerNode(
      id,
      workerName(config, id),
      {
        peer: part(parts, 'peerAddress'),
        client: part(parts, 'clientAddress'),
        admin: part(parts, 'adminAddress'),
      },
      tree,
      parts,
      part(parts, 'membership'),
      changes,
    );
  }

  /**
   * Its registration in the mesh and its view of every node: the running membership service's,
   * or while that restarts the one before.
   */
  get membership(): Membership {
    return this.parts.membership ?? this.firstMembership;
  }

  /**
   * Calls `listener` on the joins, updates and leaves the worker sees, across restarts of its
   * membership service (a node is not reported joining twice); returns an unsubscribe.
   */
  onMembershipChange(listener: (change: MembershipChange) => void): () => void {
    return this.changes.onChange(listener);
  }

  /** Each service's phase and restart count, as `/status` shows them. */
  serviceStatus(): ServiceTreeStatus {
    return this.tree.status();
  }

  /** The services whose close outlived its shutdown timeout (see `ServiceTree.abandoned`). */
  abandonedServices(): readonly string[] {
    return this.tree.abandoned();
  }

  /** Set once a critical service failed and the worker stopped: which service, and why. */
  failure(): EscalationError | undefined {
    return this.tree.failure();
  }

  /**
   * Serves until `signal` aborts or a critical service fails, then stops cleanly (the lease is
   * revoked: the mesh sees it leave); tells which ended it.
   */
  async run(signal: AbortSignal): Promise<WorkerExit> {
    const exit = await this.tree.whenEnded(signal);
    await this.stop();
    return exit;
  }

  /** Leaves the mesh (its lease revoked), then stops every service in reverse start order. */
  async stop(): Promise<void> {
    await this.parts.membership?.leave();
    await this.tree.stop('worker stop requested');
  }
}
