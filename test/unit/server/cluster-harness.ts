import * as path from 'node:path';
import { type Disk, MemoryDisk, SeededRandom, SystemClock } from '../../../src/lib/index.js';
import { NodeDisk } from '../../../src/lib/node/index.js';
import type { Entry, NodeId } from '../../../src/raft/index.js';
import { type PeerLink, RaftNode, type ReplicatedStateMachine } from '../../../src/server/index.js';

/** Links between in-process nodes; delivery is asynchronous, like a network, and can be cut. */
export class MemoryLinks {
  private readonly handlers = new Map<NodeId, (from: NodeId, payload: Uint8Array) => void>();
  readonly isolated = new Set<NodeId>();
  /** Nodes whose incoming messages are held (in order) until `release`. */
  private readonly holding = new Map<NodeId, Array<() => void>>();
  /** Every payload sent, by sender, for tests that count messages. */
  readonly sent: Array<{ from: NodeId; to: NodeId; payload: Uint8Array }> = [];

  linkFor(self: NodeId): PeerLink {
    return {
      send: (peer, payload) => {
        if (this.isolated.has(self) || this.isolated.has(peer)) return false;
        this.sent.push({ from: self, to: peer, payload });
        const deliver = (): void => {
          if (this.isolated.has(self) || this.isolated.has(peer)) return;
          this.handlers.get(peer)?.(self, payload);
        };
        setImmediate(() => {
          const held = this.holding.get(peer);
          if (held === undefined) deliver();
          else held.push(deliver);
        });
        return true;
      },
      onMessage: (handler) => {
        this.handlers.set(self, handler);
      },
      onUnreachable: () => {},
    };
  }

  /** Holds what is sent to `node` from now on (a slow link into it) until `release`. */
  hold(node: NodeId): void {
    if (!this.holding.has(node)) this.holding.set(node, []);
  }

  /** Delivers what was held for `node`, in order, and stops holding. */
  release(node: NodeId): void {
    const held = this.holding.get(node) ?? [];
    this.holding.delete(node);
    for (const deliver of held) deliver();
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

export interface TestNode<Machine extends ReplicatedStateMachine<Result>, Result> {
  readonly id: NodeId;
  readonly disk: Disk;
  readonly dataDirectory: string;
  machine: Machine;
  node: RaftNode<Result>;
}

/** Timing of a test cluster's nodes; by default a fast tick, so tests elect leaders quickly. */
export interface TestNodeTiming {
  readonly tickIntervalMs: number;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly logEntriesKeptAfterSnapshot: number;
  /**
   * Nodes keep their data under this real directory (Node's disk) instead of on memory disks,
   * whose fdatasync copies the whole file: tests that write much data need real files.
   */
  readonly dataRoot?: string;
  /**
   * Memory disks that write and sync within the call (`MemoryDisk`'s `writesNow`), as a quick
   * device does with inline writes: a node's log write is then durable in the Ready that
   * started it.
   */
  readonly writesNow?: boolean;
}

// Short ticks keep the tests quick; an election timeout of 25 ticks (50 ms; reads time out after
// 100 ms) leaves room for a test process that shares two cores with other work.
const FAST_TIMING: TestNodeTiming = {
  tickIntervalMs: 2,
  electionTicks: 25,
  heartbeatTicks: 3,
  logEntriesKeptAfterSnapshot: 5,
};

/** In-process nodes on memory disks and memory links, with real timers at a fast tick. */
export class GenericTestCluster<Machine extends ReplicatedStateMachine<Result>, Result> {
  readonly links = new MemoryLinks();
  readonly clock = new SystemClock();
  readonly nodes = new Map<NodeId, TestNode<Machine, Result>>();

  constructor(
    readonly voters: readonly NodeId[],
    private readonly createMachine: () => Machine,
    private readonly snapshotEveryEntries = 1_000_000,
    private readonly timing = FAST_TIMING,
  ) {}

  async start(): Promise<void> {
    for (const id of this.voters) await this.addNode(id, this.voters);
  }

  /** Starts one more node; `initialVoters` empty makes it a joining learner. */
  async addNode(id: NodeId, initialVoters: readonly NodeId[]): Promise<TestNode<Machine, Result>> {
    const dataRoot = this.timing.dataRoot;
    const disk =
      dataRoot === undefined ? new MemoryDisk({ writesNow: this.timing.writesNow === true }) : new NodeDisk();
    const dataDirectory = dataRoot === undefined ? '/data/raft' : path.join(dataRoot, `n${id}`);
    await disk.makeDirectory(path.dirname(dataDirectory));
    const machine = this.createMachine();
    const node = await this.startNode(id, disk, dataDirectory, machine, initialVoters);
    const entry = { id, disk, dataDirectory, machine, node };
    this.nodes.set(id, entry);
    return entry;
  }

  private startNode(
    id: NodeId,
    disk: Disk,
    dataDirectory: string,
    machine: Machine,
    initialVoters: readonly NodeId[],
  ): Promise<RaftNode<Result>> {
    const { tickIntervalMs, electionTicks, heartbeatTicks, logEntriesKeptAfterSnapshot } = this.timing;
    return RaftNode.start({
      id,
      dataDirectory,
      initialVoters,
      disk,
      clock: this.clock,
      random: new SeededRandom(id),
      link: this.links.linkFor(id),
      stateMachine: machine,
      tickIntervalMs,
      electionTicks,
      heartbeatTicks,
      logEntriesKeptAfterSnapshot,
      snapshotEveryEntries: this.snapshotEveryEntries,
    });
  }

  get(id: NodeId): TestNode<Machine, Result> {
    const found = this.nodes.get(id);
    if (found === undefined) throw new Error(`no node ${id}`);
    return found;
  }

  /** Waits (bounded) until some running node leads and every running node knows it. */
  async waitForLeader(timeoutMs = 5_000): Promise<TestNode<Machine, Result>> {
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
    if (!(entry.disk instanceof MemoryDisk)) throw new Error('only a memory disk can crash');
    entry.disk.crash();
    entry.machine = this.createMachine();
    entry.node = await this.startNode(id, entry.disk, entry.dataDirectory, entry.machine, this.voters);
  }

  async stop(): Promise<void> {
    for (const entry of this.nodes.values()) await entry.node.stop();
  }
}

export class TestCluster extends GenericTestCluster<ListStateMachine, number> {
  /** `writesNow`: see `TestNodeTiming.writesNow`. */
  constructor(voters: readonly NodeId[], snapshotEveryEntries = 1_000_000, writesNow = false) {
    super(voters, () => new ListStateMachine(), snapshotEveryEntries, { ...FAST_TIMING, writesNow });
  }
}
