/**
 * Fakes for chain-host tests: an in-memory chains channel between nodes, a replica that keeps
 * its records in memory (the leader commits at once), a JSON codec and a definition feed the
 * test drives.
 */
import { ChainHost, type ChainHostOptions } from '../../../src/chains/chain-host.js';
import type {
  ChainMessage,
  DefinitionFeed,
  HostedAppend,
  HostedReplica,
  HostedReplicaStatus,
} from '../../../src/chains/host-ports.js';
import { ChainNotLeaderError } from '../../../src/chains/index.js';
import type { ChainDefinition, ChainEntry, ChainPeerLink } from '../../../src/chains/types.js';
import type { Clock, NodeId } from '../../../src/lib/index.js';

export interface FakeMessage extends ChainMessage {
  readonly text: string;
}

export const fakeCodec = {
  encode: (message: FakeMessage): Uint8Array => new TextEncoder().encode(JSON.stringify(message)),
  decode: (bytes: Uint8Array): FakeMessage => JSON.parse(new TextDecoder().decode(bytes)) as FakeMessage,
};

/** Links between nodes; delivery on a later microtask, dropped to nodes cut off or unknown. */
export class FakeNetwork {
  private readonly handlers = new Map<NodeId, (from: NodeId, payload: Uint8Array) => void>();
  private readonly lostHandlers = new Map<NodeId, (peer: NodeId) => void>();
  readonly down = new Set<NodeId>();
  /** Messages to these nodes are sent but never arrive. */
  readonly blackholed = new Set<NodeId>();
  /** Nodes whose connection every link reports lost (its requests are refused unsent). */
  readonly lostConnections = new Set<NodeId>();

  link(self: NodeId): ChainPeerLink {
    return {
      connectionLost: (peer) => this.lostConnections.has(peer),
      send: (peer, payload) => {
        if (this.down.has(peer) || !this.handlers.has(peer)) return false;
        const copy = payload.slice();
        queueMicrotask(() => {
          if (!this.down.has(peer) && !this.blackholed.has(peer)) this.handlers.get(peer)?.(self, copy);
        });
        return true;
      },
      onMessage: (handler) => {
        this.handlers.set(self, handler);
      },
      onPeerLost: (handler) => {
        this.lostHandlers.set(self, handler);
      },
    };
  }

  /** `node` dies: every other node's connection to it closes. */
  kill(node: NodeId): void {
    this.down.add(node);
    for (const [self, handler] of this.lostHandlers) if (self !== node) handler(node);
  }
}

export class FakeReplica implements HostedReplica<FakeMessage> {
  readonly received: { from: NodeId; message: FakeMessage }[] = [];
  readonly lostPeers: NodeId[] = [];
  readonly definitions: ChainDefinition[] = [];
  readonly entries: ChainEntry[] = [];
  closed = false;
  commitOffset = 0;
  /** When set, appends stay pending (a leader that cannot reach its quorum). */
  stall = false;
  private readonly commitListeners = new Set<(offset: number) => void>();
  private suspectedListener: (leader: NodeId, epoch: number) => void = () => {};

  constructor(
    readonly self: NodeId,
    public definition: ChainDefinition,
    readonly directory: string,
    readonly send: (peer: NodeId, message: FakeMessage) => boolean,
    /** False while a named leader has not claimed its epoch: it reports no leader's view yet. */
    public claimed = true,
  ) {}

  receive(from: NodeId, message: FakeMessage): void {
    this.received.push({ from, message });
  }

  peerLost(peer: NodeId): void {
    this.lostPeers.push(peer);
  }

  updateDefinition(definition: ChainDefinition): void {
    this.definition = definition;
    this.definitions.push(definition);
  }

  async append(payloads: readonly Uint8Array[]): Promise<HostedAppend> {
    if (this.definition.leader !== this.self)
      throw new ChainNotLeaderError(this.definition.name, this.definition.epoch, this.definition.leader);
    if (this.stall) return new Promise<HostedAppend>(() => {});
    const firstOffset = this.entries.length;
    for (const payload of payloads)
      this.entries.push({
        offset: this.entries.length,
        epoch: this.definition.epoch,
        kind: 'data',
        appendedAtMs: 0,
        payload,
      });
    this.commit(this.entries.length);
    return { epoch: this.definition.epoch, firstOffset, lastOffset: this.entries.length - 1 };
  }

  /** Commits up to `offset` (a follower hearing the leader's commit offset). */
  commit(offset: number): void {
    this.commitOffset = offset;
    for (const listener of [...this.commitListeners]) listener(offset);
  }

  async read(fromOffset: number, maxRecords: number): Promise<readonly ChainEntry[]> {
    return this.entries.slice(fromOffset, Math.min(this.commitOffset, fromOffset + maxRecords));
  }

  onCommit(listener: (commitOffset: number) => void): () => void {
    this.commitListeners.add(listener);
    return () => this.commitListeners.delete(listener);
  }

  onLeaderSuspected(listener: (leader: NodeId, epoch: number) => void): void {
    this.suspectedListener = listener;
  }

  suspectLeader(): void {
    this.suspectedListener(this.definition.leader ?? 0, this.definition.epoch);
  }

  status(): HostedReplicaStatus {
    const leading = this.definition.leader === this.self && this.claimed;
    return {
      leading,
      epoch: this.definition.epoch,
      startOffset: 0,
      endOffset: this.entries.length,
      commitOffset: this.commitOffset,
      ...(leading
        ? {
            replicas: this.definition.replicas.map((node) => ({
              node,
              offset: this.entries.length,
              lag: 0,
              healthy: true,
            })),
          }
        : {}),
    };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** The definitions in the control plane, pushed to every follower by the test. */
export class FakeDefinitions {
  readonly byName = new Map<string, ChainDefinition>();
  private readonly followers = new Set<Parameters<DefinitionFeed['follow']>[0]>();

  feed(): DefinitionFeed {
    return {
      follow: (handlers) => {
        this.followers.add(handlers);
        handlers.onReset(new Map(this.byName));
        return { stop: () => this.followers.delete(handlers) };
      },
    };
  }

  put(definition: ChainDefinition): void {
    this.byName.set(definition.name, definition);
    for (const follower of this.followers) follower.onChange(definition.name, definition);
  }

  remove(name: string): void {
    this.byName.delete(name);
    for (const follower of this.followers) follower.onChange(name, undefined);
  }
}

export function definitionOf(name: string, replicas: NodeId[], leader: NodeId, epoch = 1): ChainDefinition {
  return {
    name,
    replicas,
    acks: 'quorum',
    sync: { mode: 'batch' },
    retention: {},
    epoch,
    leader,
    createdAtMs: 0,
  };
}

export interface TestHost {
  readonly host: ChainHost<FakeMessage>;
  /** Every replica this node opened, by chain, latest last. */
  readonly opened: Map<string, FakeReplica[]>;
  readonly removed: string[];
  readonly proposals: { chain: string; epoch: number; suspected: NodeId }[];
}

export function startHost(
  self: NodeId,
  network: FakeNetwork,
  definitions: FakeDefinitions,
  clock: Clock,
  overrides: Partial<ChainHostOptions<FakeMessage>> = {},
  replicas: { readonly claimPending?: boolean } = {},
): TestHost {
  const opened = new Map<string, FakeReplica[]>();
  const removed: string[] = [];
  const proposals: TestHost['proposals'] = [];
  const host = new ChainHost<FakeMessage>({
    self,
    chainsDirectory: `/data/${self}/chains`,
    link: network.link(self),
    codec: fakeCodec,
    openReplica: async ({ definition, directory, send }) => {
      const replica = new FakeReplica(self, definition, directory, send, replicas.claimPending !== true);
      opened.set(definition.name, [...(opened.get(definition.name) ?? []), replica]);
      return replica;
    },
    removeDirectory: async (directory) => {
      removed.push(directory);
    },
    definitions: definitions.feed(),
    proposeFailover: async (definition, suspected) => {
      proposals.push({ chain: definition.name, epoch: definition.epoch, suspected });
    },
    clock,
    ...overrides,
  });
  host.start();
  return { host, opened, removed, proposals };
}

/** Lets queued microtasks and promise chains run. */
export async function settle(turns = 20): Promise<void> {
  for (let turn = 0; turn < turns; turn++) await Promise.resolve();
}
