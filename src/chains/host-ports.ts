/**
 * What a node's chain host runs on, as the host sees it: the replicas it opens (the replication
 * protocol over a chain log), their messages' codec, the followed chain definitions, and the
 * failover proposer. The mesh wires the real parts in; tests give fakes.
 */
import type { NodeId } from '../lib/index.js';
import type { ChainDirectory } from './directory.js';
import type { ChainDefinition, ChainEntry } from './types.js';

/** One replica message, decoded: it names the chain it belongs to. */
export interface ChainMessage {
  readonly chain: string;
}

export interface ReplicaMessageCodec<M extends ChainMessage> {
  encode(message: M): Uint8Array;
  /** Throws a typed error when the bytes are not a replica message. */
  decode(bytes: Uint8Array): M;
}

/** One replica (or learner) as the leader sees it. */
export interface ReplicaProgress {
  readonly node: NodeId;
  /** Its end offset as last reported to the leader. */
  readonly offset: number;
  /** Records behind the leader's end offset. */
  readonly lag: number;
  readonly healthy: boolean;
}

/** What a replica reports about itself (JSON: it crosses the wire for `status`). */
export interface HostedReplicaStatus {
  readonly leading: boolean;
  readonly epoch: number;
  readonly startOffset: number;
  readonly endOffset: number;
  readonly commitOffset: number;
  /** The leader's epoch-start marker, while it leads (see `ChainReplicaStatus`). */
  readonly epochStartOffset?: number;
  /** The leader's view of each replica and learner; absent on a follower. */
  readonly replicas?: readonly ReplicaProgress[];
  readonly learners?: readonly ReplicaProgress[];
}

/** Where an accepted batch went: consecutive offsets in the leader's epoch. */
export interface HostedAppend {
  readonly epoch: number;
  readonly firstOffset: number;
  readonly lastOffset: number;
}

/** One chain's replica on this node, as the host drives it. */
export interface HostedReplica<M extends ChainMessage> {
  receive(from: NodeId, message: M): void;
  peerLost(peer: NodeId): void;
  updateDefinition(definition: ChainDefinition): void;
  /**
   * Appends as leader; resolves with the batch's offsets once the acks policy is met. Rejects
   * with `CHAIN_NOT_LEADER` before writing anything when this replica does not lead.
   */
  append(payloads: readonly Uint8Array[]): Promise<HostedAppend>;
  /** Committed records from `fromOffset` (none yet: empty). */
  read(fromOffset: number, maxRecords: number, maxBytes: number): Promise<readonly ChainEntry[]>;
  /** The offset below which records are committed. */
  readonly commitOffset: number;
  /** Calls `listener` each time the commit offset grows; returns an unsubscribe. */
  onCommit(listener: (commitOffset: number) => void): () => void;
  /**
   * Calls `listener` when this replica suspects `leader` of `epoch` is gone (or, named leader
   * itself, cannot lead it).
   */
  onLeaderSuspected(listener: (leader: NodeId, epoch: number) => void): void;
  status(): HostedReplicaStatus;
  close(): Promise<void>;
}

/** Opens a replica (its log under `directory`) for `definition`; its messages go to `send`. */
export type ReplicaOpener<M extends ChainMessage> = (options: {
  readonly definition: ChainDefinition;
  readonly directory: string;
  readonly send: (peer: NodeId, message: M) => boolean;
}) => Promise<HostedReplica<M>>;

/** A stream of the chain definitions in the control plane: the whole set, then each change. */
export interface DefinitionFeed {
  follow(handlers: {
    readonly onReset: (definitions: ReadonlyMap<string, ChainDefinition>) => void;
    readonly onChange: (name: string, definition: ChainDefinition | undefined) => void;
    /** Following stopped on a failure it cannot get past. */
    readonly onError?: (error: Error) => void;
  }): { stop(): void };
}

/** The feed of a `ChainDirectory`'s follower. */
export function directoryFeed(directory: Pick<ChainDirectory, 'follow'>): DefinitionFeed {
  return {
    follow: (handlers) =>
      directory.follow({
        onReset: (chains) =>
          handlers.onReset(new Map([...chains].map(([name, chain]) => [name, chain.definition]))),
        onChange: (change) => {
          if (change.type === 'put') handlers.onChange(change.chain.definition.name, change.chain.definition);
          else handlers.onChange(change.name, undefined);
        },
        ...(handlers.onError === undefined ? {} : { onError: handlers.onError }),
      }),
  };
}

/** Proposes the next epoch of `definition`'s chain, its leader `suspected` to be gone. */
export type FailoverProposer = (definition: ChainDefinition, suspected: NodeId) => Promise<void>;
