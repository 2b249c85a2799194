import { SeededRandom } from '../../../src/lib/index.js';
import {
  type ClusterConfig,
  type Entry,
  type LeaseReadConfig,
  MemoryRaftStorage,
  type Message,
  type NodeId,
  Raft,
  type ReadState,
  type Ready,
  snapshotChunkOf,
  snapshotInfo,
} from '../../../src/raft/index.js';

export interface NetworkOptions {
  readonly voters: readonly NodeId[];
  readonly learners?: readonly NodeId[];
  /** Extra nodes that start with an empty configuration (to be added later). */
  readonly spare?: readonly NodeId[];
  readonly electionTicks?: number;
  readonly heartbeatTicks?: number;
  readonly preVote?: boolean;
  readonly checkQuorum?: boolean;
  readonly leaseRead?: LeaseReadConfig;
  readonly maxInflightMessages?: number;
  readonly maxAppendBytes?: number;
  readonly unsafeCommitByCountingOlderTerms?: boolean;
  readonly deferCommitOnlyAppends?: boolean;
  readonly seed?: number;
  /** Pre-filled logs: node id -> the term of each entry from index 1 on. */
  readonly logs?: Readonly<Record<number, readonly number[]>>;
  /** Stored current term per node (defaults to the last log term). */
  readonly terms?: Readonly<Record<number, number>>;
}

export interface SimulatedNode {
  raft: Raft;
  readonly storage: MemoryRaftStorage;
  /** The bytes of `storage.snapshot()`, which the host keeps (as a node keeps its snapshot file). */
  snapshotData: Uint8Array;
  /** The chunks written so far of a snapshot being received (`Ready.snapshotWrites`). */
  receiving: Uint8Array[];
  /** Data of applied normal entries, decoded as text, in apply order. */
  applied: string[];
  appliedEntries: Entry[];
  /** How many committed entries each Ready handed out, in order (0 for a Ready without any). */
  committedPerReady: number[];
  readStates: ReadState[];
  droppedReads: string[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/**
 * A cluster of Raft cores wired together synchronously: messages wait in `queue` until
 * delivered; every Ready is persisted into MemoryRaftStorage and applied at once.
 */
export class Network {
  readonly nodes = new Map<NodeId, SimulatedNode>();
  queue: Message[] = [];
  /** Return false to drop a message in flight. */
  filter: (message: Message) => boolean = () => true;
  /** Rewrites a message in flight (after `filter`); return undefined to drop it. */
  rewrite: (message: Message) => Message | undefined = (message) => message;
  private readonly cutLinks = new Set<string>();
  readonly options: NetworkOptions;

  constructor(options: NetworkOptions) {
    this.options = options;
    const config: ClusterConfig = {
      voters: options.voters,
      learners: options.learners ?? [],
      outgoingVoters: [],
    };
    const all = [...options.voters, ...(options.learners ?? []), ...(options.spare ?? [])];
    for (const id of all) {
      const isSpare = options.spare?.includes(id) === true;
      const log = options.logs?.[id];
      // Prefilled logs keep the paper's indexes: the configuration lives in a snapshot at 0.
      const storage = isSpare
        ? new MemoryRaftStorage()
        : options.logs === undefined
          ? new MemoryRaftStorage(config)
          : MemoryRaftStorage.fromSnapshot(
              snapshotInfo({ metadata: { index: 0, term: 0, config }, data: bytes('[]') }),
            );
      if (log !== undefined) {
        storage.append(
          log.map((term, position) => ({
            term,
            index: position + 1,
            kind: 'normal',
            data: bytes(`t${term}`),
          })),
        );
        storage.setHardState({ term: options.terms?.[id] ?? log.at(-1) ?? 0, vote: 0, commit: 0 });
      }
      this.nodes.set(id, this.makeNode(id, storage, bytes('[]')));
    }
  }

  private makeNode(
    id: NodeId,
    storage: MemoryRaftStorage,
    snapshotData: Uint8Array,
    applied = 0,
  ): SimulatedNode {
    const options = this.options;
    const raft = new Raft({
      id,
      electionTicks: options.electionTicks ?? 10,
      heartbeatTicks: options.heartbeatTicks ?? 1,
      preVote: options.preVote ?? false,
      checkQuorum: options.checkQuorum ?? false,
      maxInflightMessages: options.maxInflightMessages ?? 256,
      maxInflightBytes: 1024 * 1024 * 1024,
      maxAppendBytes: options.maxAppendBytes ?? 1024 * 1024,
      random: new SeededRandom((options.seed ?? 1) * 1000 + id),
      storage,
      applied,
      unsafeCommitByCountingOlderTerms: options.unsafeCommitByCountingOlderTerms ?? false,
      deferCommitOnlyAppends: options.deferCommitOnlyAppends ?? false,
      ...(options.leaseRead === undefined ? {} : { leaseRead: options.leaseRead }),
    });
    return {
      raft,
      storage,
      snapshotData,
      receiving: [],
      applied: [],
      appliedEntries: [],
      committedPerReady: [],
      readStates: [],
      droppedReads: [],
    };
  }

  node(id: NodeId): SimulatedNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  raft(id: NodeId): Raft {
    return this.node(id).raft;
  }

  /** Restarts a node from its storage, as after a crash (unsaved state is lost). */
  restart(id: NodeId): void {
    const old = this.node(id);
    const fresh = this.makeNode(id, old.storage, old.snapshotData, 0);
    this.nodes.set(id, fresh);
  }

  /**
   * Node `id` crashes in the middle of a Ready: the messages that may go out before persisting
   * are sent, nothing is persisted, and the node restarts from its storage.
   */
  crashBeforePersist(id: NodeId): void {
    const node = this.node(id);
    if (node.raft.hasReady()) this.queue.push(...this.sentAtOnce(node, node.raft.ready()));
    this.restart(id);
  }

  cut(a: NodeId, b: NodeId): void {
    this.cutLinks.add(`${a}-${b}`);
    this.cutLinks.add(`${b}-${a}`);
  }

  isolate(id: NodeId): void {
    for (const other of this.nodes.keys()) if (other !== id) this.cut(id, other);
  }

  isCut(from: NodeId, to: NodeId): boolean {
    return this.cutLinks.has(`${from}-${to}`);
  }

  heal(): void {
    this.cutLinks.clear();
  }

  /** Handles at most one Ready of node `id`; its messages join the queue. */
  processReady(id: NodeId): boolean {
    const node = this.node(id);
    if (!node.raft.hasReady()) return false;
    const ready = node.raft.ready();
    for (const chunk of ready.snapshotWrites) {
      if (chunk.offset === 0) node.receiving = [];
      node.receiving.push(chunk.data);
    }
    if (ready.snapshot !== undefined) {
      const data = new Uint8Array(ready.snapshot.byteLength);
      let offset = 0;
      for (const part of node.receiving) {
        data.set(part, offset);
        offset += part.byteLength;
      }
      if (offset !== ready.snapshot.byteLength)
        throw new Error(`node ${id} wrote ${offset} of ${ready.snapshot.byteLength} snapshot bytes`);
      node.receiving = [];
      node.storage.applySnapshot(ready.snapshot);
      node.snapshotData = data;
      node.applied = JSON.parse(decoder.decode(data)) as string[];
    }
    node.storage.append(ready.entries);
    if (ready.hardState !== undefined) node.storage.setHardState(ready.hardState);
    this.queue.push(...this.sentAtOnce(node, ready), ...ready.messagesAfterPersist);
    node.committedPerReady.push(ready.committedEntries.length);
    for (const entry of ready.committedEntries) {
      node.appliedEntries.push(entry);
      if (entry.kind === 'normal') node.applied.push(decoder.decode(entry.data));
    }
    node.readStates.push(...ready.readStates);
    node.droppedReads.push(...ready.droppedReads);
    node.raft.advance();
    return true;
  }

  /**
   * A Ready's messages that may leave at once, with the snapshot chunks it asks for read. Only
   * the latest snapshot's bytes are kept: a chunk of an older one fails the transfer, as a
   * node's does when that snapshot's file is gone.
   */
  private sentAtOnce(node: SimulatedNode, ready: Ready): Message[] {
    const chunks: Message[] = [];
    for (const read of ready.snapshotReads) {
      if (read.metadata.index === node.storage.snapshot().metadata.index) {
        chunks.push(
          snapshotChunkOf(read, node.snapshotData.subarray(read.offset, read.offset + read.length)),
        );
      } else {
        node.raft.reportSnapshot(read.to, 'failure');
      }
    }
    return [...ready.messages, ...chunks];
  }

  /** Processes every node's Ready until none has one; returns the queued messages. */
  collect(): Message[] {
    for (let round = 0; round < 100; round++) {
      let any = false;
      for (const id of this.nodes.keys()) if (this.processReady(id)) any = true;
      if (!any) break;
    }
    return this.queue;
  }

  deliver(message: Message): void {
    if (this.cutLinks.has(`${message.from}-${message.to}`) || !this.filter(message)) return;
    const delivered = this.rewrite(message);
    if (delivered !== undefined) this.nodes.get(message.to)?.raft.step(delivered);
  }

  /** Delivers every message (and those they cause) until the cluster is quiet. */
  stabilize(maxRounds = 10_000): void {
    for (let round = 0; round < maxRounds; round++) {
      this.collect();
      if (this.queue.length === 0) return;
      const batch = this.queue;
      this.queue = [];
      for (const message of batch) this.deliver(message);
    }
    throw new Error('network did not stabilize');
  }

  tick(id: NodeId, count = 1): void {
    for (let index = 0; index < count; index++) this.raft(id).tick();
  }

  tickAll(count = 1): void {
    for (let index = 0; index < count; index++) {
      for (const node of this.nodes.values()) node.raft.tick();
      this.stabilize();
    }
  }

  elect(id: NodeId): void {
    this.raft(id).campaign();
    this.stabilize();
  }

  propose(id: NodeId, text: string): number {
    const index = this.raft(id).propose(bytes(text));
    this.stabilize();
    return index;
  }

  leaders(): NodeId[] {
    return [...this.nodes].filter(([, node]) => node.raft.role === 'leader').map(([id]) => id);
  }

  /** Takes a snapshot of node `id`'s applied state at its applied index and compacts its log. */
  snapshotAndCompact(id: NodeId): void {
    const node = this.node(id);
    const index = node.raft.status().applied;
    node.snapshotData = bytes(JSON.stringify(node.applied));
    node.storage.createSnapshot(index, node.raft.configAt(index), node.snapshotData.byteLength);
    node.storage.compact(index);
  }
}
