import {
  type Address,
  type Clock,
  type Disk,
  formatAddress,
  isMeshError,
  type Logger,
  MeshError,
  type Random,
  StepDurations,
  SystemClock,
  systemRandom,
} from '../lib/index.js';
import { NodeDisk } from '../lib/node/index.js';
import type { LeaderInfo, NodeApplyResult, RaftKvBackend, RaftNode } from '../server/index.js';
import { BootFailedError, ChildStartError, type EscalationError, Supervisor } from '../supervisor/index.js';
import { nodeAdminSource } from './admin-source.js';
import type { DataDirectoryLock } from './data-directory-lock.js';
import type { Membership } from './membership.js';
import type { NodeMetrics } from './metrics.js';
import { type MeshNodeConfig, validateMeshNodeConfig } from './node-config.js';
import { type NodeService, serviceChild } from './node-service.js';
import { type NodeParts, part, voterServices } from './node-services.js';
import { writeRemovedMark } from './removed-mark.js';
import type { ServiceFaults } from './service-faults.js';
import { registerServiceMetrics } from './service-metrics.js';
import { type ServiceTreeStatus, serviceTreeStatus } from './service-status.js';

export interface MeshNodeDependencies {
  /**
   * The lock on `config.dataDirectory` when the caller took it already (`meshos join` takes it
   * before it asks the cluster for an id); otherwise the node takes it. The node releases it
   * when it stops.
   */
  readonly dataDirectoryLock?: DataDirectoryLock;
  readonly disk?: Disk;
  readonly clock?: Clock;
  readonly random?: Random;
  readonly logger?: Logger;
  /** Tests only: lets the test crash the node's services (and the admin port serve crashes). */
  readonly faults?: ServiceFaults;
}

/** `MeshNode.start` could not bring a service up (and stopped the ones that were). */
export class NodeStartError extends MeshError {
  constructor(service: string, cause: unknown) {
    super(
      'NODE_START_FAILED',
      `node service '${service}' failed to start: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause, details: { service } },
    );
  }
}

/**
 * Why `MeshNode.run` returned: asked to stop, removed from the cluster by a member change, or a
 * critical service failed (`node.failure()` says which and why).
 */
export type NodeExit = 'stopped' | 'removed' | 'failed';

/** The addresses a running node actually listens on (port 0 resolved). */
export interface MeshNodeEndpoints {
  readonly peer: Address;
  readonly client: Address;
  readonly admin: Address;
}

/**
 * One MeshOS node: its services (data-directory lock, identity, peer transport, Raft with the
 * replicated key-value store, the etcd v3 API, the admin HTTP port) run as a supervision tree
 * (`src/supervisor`): started in dependency order, restarted by policy, stopped in reverse.
 */
export class MeshNode {
  private failureError: EscalationError | undefined;
  private readonly failureListeners = new Set<(error: EscalationError) => void>();

  private constructor(
    readonly config: MeshNodeConfig,
    readonly endpoints: MeshNodeEndpoints,
    readonly raft: RaftNode<NodeApplyResult>,
    readonly backend: RaftKvBackend,
    readonly metrics: NodeMetrics,
    private readonly supervisor: Supervisor,
    private readonly services: readonly NodeService[],
    private readonly disk: Disk,
    private readonly parts: NodeParts,
  ) {}

  /**
   * Starts every service in dependency order. When one cannot start, those already started are
   * stopped in reverse order (ports and the data-directory lock are free again) and the start
   * rejects with that service's typed error (`NodeStartError` naming it when it had none).
   */
  static async start(config: MeshNodeConfig, dependencies: MeshNodeDependencies = {}): Promise<MeshNode> {
    validateMeshNodeConfig(config);
    const steps = new StepDurations();
    const disk =
      dependencies.disk ??
      new NodeDisk({ inlineWrites: config.walOnThreadPool !== true, onStep: steps.observe });
    const clock = dependencies.clock ?? new SystemClock();
    const random = dependencies.random ?? systemRandom();
    const parts: NodeParts = {};
    let node: MeshNode | undefined;
    let earlyFailure: EscalationError | undefined;
    const services = voterServices({
      config,
      parts,
      disk,
      steps,
      clock,
      random,
      ...(dependencies.logger === undefined ? {} : { logger: dependencies.logger }),
      ...(dependencies.dataDirectoryLock === undefined ? {} : { heldLock: dependencies.dataDirectoryLock }),
      adminSource: nodeAdminSource(
        config,
        parts,
        () => serviceTreeStatus(supervisor, services),
        dependencies.faults,
      ),
    });
    const supervisor = new Supervisor(
      {
        name: 'node',
        strategy: 'one-for-one',
        children: services.map((service) => serviceChild(service, dependencies.faults)),
      },
      {
        clock,
        random: random.fork('supervisor'),
        onNodeStop: (error) => {
          if (node === undefined) earlyFailure = error;
          else node.failed(error);
        },
      },
    );
    try {
      await supervisor.start();
    } catch (error) {
      throw startFailure(error);
    }
    node = new MeshNode(
      config,
      {
        peer: part(parts, 'peerAddress'),
        client: part(parts, 'clientAddress'),
        admin: part(parts, 'adminAddress'),
      },
      part(parts, 'raft'),
      part(parts, 'backend'),
      part(parts, 'metrics'),
      supervisor,
      services,
      disk,
      parts,
    );
    registerServiceMetrics(node.metrics.registry, () => serviceTreeStatus(supervisor, services));
    if (earlyFailure !== undefined) node.failed(earlyFailure);
    node.announceWhenLeaderKnown();
    return node;
  }

  leaderInfo(): LeaderInfo {
    return this.raft.leaderInfo();
  }

  isLeader(): boolean {
    return this.raft.isLeader();
  }

  /** Resolves once a leader is known and this node has applied what was committed. */
  waitReady(timeoutMs: number): Promise<void> {
    return this.raft.waitReady(timeoutMs);
  }

  /** Calls `listener` with (leader id, term) on every leader change; returns an unsubscribe. */
  onLeaderChange(listener: (info: LeaderInfo) => void): () => void {
    return this.raft.onLeaderChange(listener);
  }

  /** Each service's phase and restart count, as `/status` shows them. */
  serviceStatus(): ServiceTreeStatus {
    return serviceTreeStatus(this.supervisor, this.services);
  }

  /** Set once a critical service failed and the node stopped: which service, and why. */
  failure(): EscalationError | undefined {
    return this.failureError;
  }

  /**
   * Serves until `signal` aborts, this member is removed from the cluster, or a critical service
   * fails, then stops cleanly (calls in progress are answered first); tells which ended it.
   */
  async run(signal: AbortSignal): Promise<NodeExit> {
    const exit = await new Promise<NodeExit>((resolve) => {
      if (this.failureError !== undefined) resolve('failed');
      if (this.raft.isRemoved) resolve('removed');
      if (signal.aborted) resolve('stopped');
      this.failureListeners.add(() => resolve('failed'));
      this.raft.onRemoved(() => resolve('removed'));
      signal.addEventListener('abort', () => resolve('stopped'), { once: true });
    });
    // Under the directory lock, before the answers in progress are awaited.
    if (exit === 'removed') await writeRemovedMark(this.disk, this.config.dataDirectory, this.config.id);
    await this.stop();
    return exit;
  }

  /**
   * Leaves the mesh, then stops every service in reverse start order: the admin port and the client API first, then
   * Raft (a leader hands off leadership), the transport, and last the data-directory lock.
   */
  async stop(): Promise<void> {
    // Leaves the mesh first (its lease revoked while Raft still runs), so others see it at once.
    await this.parts.membership?.leave();
    await this.supervisor.stop('node stop requested');
  }

  /** Its registration in the mesh and its view of every node, while that service runs. */
  get membership(): Membership | undefined {
    return this.parts.membership;
  }

  private failed(error: EscalationError): void {
    if (this.failureError !== undefined) return;
    this.failureError = error;
    for (const listener of [...this.failureListeners]) listener(error);
  }

  /** Publishes this node's addresses in the replicated member directory once a leader exists. */
  private announceWhenLeaderKnown(): void {
    const record = {
      id: this.config.id,
      name: this.config.name,
      peerUrls: [`http://${formatAddress(this.endpoints.peer)}`],
      clientUrls: [`http://${formatAddress(this.endpoints.client)}`],
    };
    const attempt = (): void => {
      this.backend.announce(record).catch(() => {
        // No leader yet, or it changed; the next leader change tries again.
      });
    };
    this.raft.onLeaderChange((info) => {
      if (info.leaderId !== 0) attempt();
    });
    if (this.raft.leaderInfo().leaderId !== 0) attempt();
  }
}

/** The typed error of the service that failed the boot, or `NodeStartError` naming it. */
function startFailure(error: unknown): unknown {
  if (!(error instanceof BootFailedError)) return error;
  let cause: unknown = error.cause;
  while (cause instanceof ChildStartError && cause.cause !== undefined) cause = cause.cause;
  return isMeshError(cause) && !(cause instanceof ChildStartError)
    ? cause
    : new NodeStartError(error.child, cause);
}

/** Builds and starts a node: `await new NodeBuilder(config).start()`, then `node.run(signal)`. */
export class NodeBuilder {
  constructor(
    private readonly config: MeshNodeConfig,
    private readonly dependencies: MeshNodeDependencies = {},
  ) {}

  start(): Promise<MeshNode> {
    return MeshNode.start(this.config, this.dependencies);
  }
}
