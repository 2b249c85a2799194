import type { NodeId } from '../../../src/raft/index.js';
import {
  ForwardError,
  type NodeApplyResult,
  NodeStateMachine,
  RaftKvBackend,
  type RaftKvBackendOptions,
} from '../../../src/server/index.js';
import { GenericTestCluster, type TestNode } from './cluster-harness.js';

export interface KvClusterOptions {
  /** Followers hand writes to the leader over the memory links, as PeerChannels do. */
  readonly forwarding?: boolean;
  /** Passed to every node's backend (quota, auto-compaction, ...). */
  readonly backend?: Partial<RaftKvBackendOptions>;
  readonly snapshotEveryEntries?: number;
}

/** In-process nodes with the real node state machine, and a `RaftKvBackend` per node on demand. */
export class KvCluster extends GenericTestCluster<NodeStateMachine, NodeApplyResult> {
  readonly backends = new Map<NodeId, RaftKvBackend>();

  constructor(
    voters: readonly NodeId[],
    private readonly options: KvClusterOptions = {},
  ) {
    super(voters, () => new NodeStateMachine(), options.snapshotEveryEntries);
  }

  backend(entry: TestNode<NodeStateMachine, NodeApplyResult>): RaftKvBackend {
    let backend = this.backends.get(entry.id);
    if (backend === undefined) {
      backend = new RaftKvBackend(entry.node, entry.machine, {
        clusterId: 7n,
        clock: this.clock,
        electionTimeoutMs: 20,
        ...(this.options.forwarding === true
          ? { forward: (leader, body) => this.forward(entry.id, leader, body) }
          : {}),
        ...this.options.backend,
      });
      this.backends.set(entry.id, backend);
    }
    return backend;
  }

  /** Crashes a node and starts it again, with a new backend. */
  async restart(id: NodeId): Promise<RaftKvBackend> {
    this.backends.get(id)?.close();
    this.backends.delete(id);
    await this.crashAndRestart(id);
    return this.backend(this.get(id));
  }

  private forward(from: NodeId, leader: NodeId, body: Uint8Array): Promise<Uint8Array> {
    const target = this.backends.get(leader);
    if (target === undefined || this.links.isolated.has(from) || this.links.isolated.has(leader))
      return Promise.reject(new ForwardError('LEADER_UNREACHABLE', `cannot reach node ${leader}`));
    return target.handleForwarded(body);
  }

  override async stop(): Promise<void> {
    for (const backend of this.backends.values()) backend.close();
    await super.stop();
  }
}
