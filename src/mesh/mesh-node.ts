import {
  type Address,
  type Clock,
  type Disk,
  formatAddress,
  type Logger,
  type Random,
  StepDurations,
  SystemClock,
  systemRandom,
} from '../lib/index.js';
import { endOfTurn, mainThreadRunQueueWaits, NodeDisk } from '../lib/node/index.js';
import type { LeaderInfo, NodeApplyResult, RaftKvBackend, RaftNode } from '../server/index.js';
import type { EscalationError } from '../supervisor/index.js';
import { nodeAdminSource } from './admin-source.js';
import { registerChainMetrics } from './chain-metrics.js';
import { newChainRequestCounters } from './chain-requests.js';
import { registerClientPortMetrics } from './client-port-metrics.js';
import type { DataDirectoryLock } from './data-directory-lock.js';
import type { Membership } from './membership.js';
import type { NodeMetrics } from './metrics.js';
import { type MeshNodeConfig, validateMeshNodeConfig } from './node-config.js';
import { type NodeParts, part } from './node-parts.js';
import { voterServices } from './node-services.js';
import { registerProximityMetrics } from './proximity-service.js';
import { writeRemovedMark } from './removed-mark.js';
import type { ServiceFaults } from './service-faults.js';
import { registerServiceMetrics } from './service-metrics.js';
import type { ServiceTreeStatus } from './service-status.js';
import { ServiceTree } from './service-tree.js';

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

/** Logged for a step of the node's own work, GC taken out, over the stall bound. */
export const LONG_STEP_MESSAGE = 'a step held the event loop past the stall bound';
/** Logged for a garbage-collection pause whose own time passed the stall bound. */
export const LONG_PAUSE_MESSAGE = 'a garbage collection held the event loop past the stall bound';

/** A time on the clock of `performance.now()` as epoch milliseconds (whole). */
function epochMs(performanceMs: number): number {
  return Math.round(performance.timeOrigin + performanceMs);
}

/**
 * One MeshOS node: its services (data-directory lock, identity, peer transport, Raft with the
 * replicated key-value store, the etcd v3 API, the admin HTTP port) run as a supervision tree
 * (`src/supervisor`): started in dependency order, restarted by policy, stopped in reverse.
 */
export class MeshNode {
  private constructor(
    readonly config: MeshNodeConfig,
    readonly endpoints: MeshNodeEndpoints,
    readonly raft: RaftNode<NodeApplyResult>,
    readonly backend: RaftKvBackend,
    readonly metrics: NodeMetrics,
    private readonly tree: ServiceTree,
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
    const logger = dependencies.logger;
    // A step over the stall bound of the node's own time, GC taken out, is logged with what it
    // did (a Ready stretch's entries, messages and time per phase): what to look at next; so is
    // a long GC pause. Both carry their start (epoch ms) to be set beside the machine's stalls.
    const steps = new StepDurations(
      mainThreadRunQueueWaits(),
      (step) =>
        logger?.warn(
          {
            source: step.source,
            startedAt: epochMs(step.startMs),
            outsideGcMs: Math.round(step.outsideGcMs),
            ownMs: Math.round(step.ownMs),
            wallMs: Math.round(step.wallMs),
            ...(step.mainThreadCpuMs === undefined
              ? {}
              : { mainThreadCpuMs: Math.round(step.mainThreadCpuMs) }),
            ...step.details,
          },
          LONG_STEP_MESSAGE,
        ),
      (pause) =>
        logger?.warn(
          {
            source: pause.source,
            startedAt: epochMs(pause.startMs),
            ownMs: Math.round(pause.ownMs),
            wallMs: Math.round(pause.wallMs),
            ...(pause.mainThreadCpuMs === undefined
              ? {}
              : { mainThreadCpuMs: Math.round(pause.mainThreadCpuMs) }),
          },
          LONG_PAUSE_MESSAGE,
        ),
    );
    const disk =
      dependencies.disk ??
      new NodeDisk({
        inlineWrites: config.walOnThreadPool !== true,
        onStep: steps.observe,
        onStepStart: steps.started,
        // Messages waiting for the end of the turn leave before an fdatasync blocks the loop.
        beforeInlineSync: () => endOfTurn.writeNow(),
      });
    const clock = dependencies.clock ?? new SystemClock();
    const random = dependencies.random ?? systemRandom();
    const parts: NodeParts = {};
    const chainCounters = newChainRequestCounters();
    const services = voterServices({
      chainCounters,
      config,
      parts,
      disk,
      steps,
      clock,
      random,
      ...(dependencies.logger === undefined ? {} : { logger: dependencies.logger }),
      ...(dependencies.dataDirectoryLock === undefined ? {} : { heldLock: dependencies.dataDirectoryLock }),
      adminSource: nodeAdminSource(config, parts, () => tree.status(), dependencies.faults),
      registry: () => part(parts, 'metrics').registry,
    });
    const tree = new ServiceTree(services, {
      clock,
      random,
      ...(dependencies.faults === undefined ? {} : { faults: dependencies.faults }),
    });
    await tree.start();
    const node = new MeshNode(
      config,
      {
        peer: part(parts, 'peerAddress'),
        client: part(parts, 'clientAddress'),
        admin: part(parts, 'adminAddress'),
      },
      part(parts, 'raft'),
      part(parts, 'backend'),
      part(parts, 'metrics'),
      tree,
      disk,
      parts,
    );
    registerServiceMetrics(node.metrics.registry, () => tree.status());
    registerChainMetrics(node.metrics.registry, () => parts.chainHost, chainCounters);
    registerClientPortMetrics(node.metrics.registry, () => parts.clientTlsRefusals);
    registerProximityMetrics(node.metrics.registry, () => parts.proximity?.graph);
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
    return this.tree.status();
  }

  /** The services whose close outlived its shutdown timeout (see `ServiceTree.abandoned`). */
  abandonedServices(): readonly string[] {
    return this.tree.abandoned();
  }

  /** Set once a critical service failed and the node stopped: which service, and why. */
  failure(): EscalationError | undefined {
    return this.tree.failure();
  }

  /**
   * Serves until `signal` aborts, this member is removed from the cluster, or a critical service
   * fails, then stops cleanly (calls in progress are answered first); tells which ended it.
   */
  async run(signal: AbortSignal): Promise<NodeExit> {
    const exit = await new Promise<NodeExit>((resolve) => {
      this.tree.onFailure(() => resolve('failed'));
      if (this.raft.isRemoved) resolve('removed');
      if (signal.aborted) resolve('stopped');
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
    await this.tree.stop('node stop requested');
  }

  /** Its registration in the mesh and its view of every node, while that service runs. */
  get membership(): Membership | undefined {
    return this.parts.membership;
  }

  /** Publishes this node's addresses in the replicated member directory once a leader exists. */
  private announceWhenLeaderKnown(): void {
    const record = {
      id: this.config.id,
      name: this.config.name,
      peerUrls: [`http://${formatAddress(this.endpoints.peer)}`],
      clientUrls: [
        `${this.config.clientTls === undefined ? 'http' : 'https'}://${formatAddress(this.endpoints.client)}`,
      ],
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
