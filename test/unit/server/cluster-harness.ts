import { MemoryDisk, SeededRandom, SystemClock } from '../../../src/lib/index.js';
import type { Entry, NodeId } from '../../../src/raft/index.js';
import { type PeerLink, RaftNode, type ReplicatedStateMachine } from '../../../src/server/index.js';

/** Links between in-process nodes; delivery is asynchronous, like a network, and can be cut. */
export class MemoryLinks {
  private readonly handlers = new Map<NodeId, (from: NodeId, payload: Uint8Array) => void>();
  readonly isolated = new Set<NodeId>();

  linkFor(self: NodeId): PeerLink {
    return {
      send: (peer, payload) => {
        if (this.isolated.has(self) || this.isolated.has(peer)) return false;
        setImmediate(() => {
          if (this.isolated.has(self) || this.isolated.has(peer)) return;
          this.handlers.get(peer)?.(self, payload);
        });
        return true;
      },
      onMessage: (handler) => {
        this.handlers.set(self, handler);
      },
      onUnreachable: () => {},
    };
  }
}

/** Applies normal entries as strings appended to a list; the snapshot is the list. */
export class ListStateMachine implements ReplicatedStateMachine<number> {
  items: string[] = [];

  apply(entry: Entry): number {
    if (entry.kind === 'normal') this.items.push(new TextDecoder().decode(entry.data));
    return this.items.length;
  }

  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(this.items));
  }

  restore(data: Uint8Array): void {
    this.items = JSON.parse(new TextDecoder().decode(data)) as string[];
  }
}

export interface TestNode {
  readonly id: NodeId;
  readonly disk: MemoryDisk;
  machine: ListStateMachine;
  node: RaftNode<number>;
}

export class TestCluster {
  readonly links = new MemoryLinks();
  readonly clock = new SystemClock();
  readonly nodes = new Map<NodeId, TestNode>();

  constructor(
    readonly voters: readonly NodeId[],
    private readonly snapshotEveryEntries = 1_000_000,
  ) {}

  async start(): Promise<void> {
    for (const id of this.voters) {
      const disk = new MemoryDisk();
      await disk.makeDirectory('/data');
      const machine = new ListStateMachine();
      const node = await this.startNode(id, disk, machine);
      this.nodes.set(id, { id, disk, machine, node });
    }
  }

  private startNode(id: NodeId, disk: MemoryDisk, machine: ListStateMachine): Promise<RaftNode<number>> {
    return RaftNode.start({
      id,
      dataDirectory: '/data/raft',
      initialVoters: this.voters,
      disk,
      clock: this.clock,
      random: new SeededRandom(id),
      link: this.links.linkFor(id),
      stateMachine: machine,
      tickIntervalMs: 2,
      electionTicks: 10,
      heartbeatTicks: 2,
      snapshotEveryEntries: this.snapshotEveryEntries,
      logEntriesKeptAfterSnapshot: 5,
    });
  }

  get(id: NodeId): TestNode {
    const found = this.nodes.get(id);
    if (found === undefined) throw new Error(`no node ${id}`);
    return found;
  }

  /** Waits (bounded) until some running node leads and every running node knows it. */
  async waitForLeader(timeoutMs = 5_000): Promise<TestNode> {
    const deadline = this.clock.nowMs() + timeoutMs;
    for (;;) {
      const running = [...this.nodes.values()].filter((entry) => !this.links.isolated.has(entry.id));
      const leaders = running.filter((entry) => entry.node.isLeader());
      if (
        leaders.length === 1 &&
        running.every((entry) => entry.node.leaderInfo().leaderId === leaders[0]!.id)
      ) {
        return leaders[0]!;
      }
      if (this.clock.nowMs() > deadline) throw new Error(`no leader within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** Waits (bounded) until `predicate` holds, polling on the event loop. */
  async until(predicate: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
    const deadline = this.clock.nowMs() + timeoutMs;
    while (!predicate()) {
      if (this.clock.nowMs() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** Crashes a node (unsynced writes lost) and starts it again from its disk. */
  async crashAndRestart(id: NodeId): Promise<void> {
    const entry = this.get(id);
    await entry.node.stop();
    entry.disk.crash();
    entry.machine = new ListStateMachine();
    entry.node = await this.startNode(id, entry.disk, entry.machine);
  }

  async stop(): Promise<void> {
    for (const entry of this.nodes.values()) await entry.node.stop();
  }
}
