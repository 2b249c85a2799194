/** Data types shared by the Raft core, its host and its transport. */

import type { NodeId } from '../lib/index.js';

export type { NodeId };

export type EntryKind = 'normal' | 'config' | 'noop';

/** One log entry. A config entry's `data` is an encoded `ConfigChange`. */
export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly kind: EntryKind;
  readonly data: Uint8Array;
}

/** What must be durable before the node answers votes or appends. */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId | 0;
  readonly commit: number;
}

/** Members of the cluster. `outgoingVoters` is non-empty only during joint consensus. */
export interface ClusterConfig {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
  readonly outgoingVoters: readonly NodeId[];
}

export interface SnapshotMetadata {
  readonly index: number;
  readonly term: number;
  readonly config: ClusterConfig;
}

export interface Snapshot {
  readonly metadata: SnapshotMetadata;
  readonly data: Uint8Array;
}

/**
 * What storage records of a snapshot: its metadata and size. The bytes stay with the host (in
 * its snapshot file), which reads them a chunk at a time when the core asks (`SnapshotChunkRead`).
 */
export interface SnapshotInfo {
  readonly metadata: SnapshotMetadata;
  readonly byteLength: number;
}

export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader' | 'learner';

export interface SoftState {
  readonly leaderId: NodeId | 0;
  readonly role: Role;
}

export interface ReadState {
  readonly requestId: string;
  /** The read may be answered once the state machine has applied this index. */
  readonly index: number;
}

interface MessageHeader {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
}

/** A (pre-)candidate asks for a vote. `transfer` marks a campaign started by leadership transfer. */
export interface VoteRequest extends MessageHeader {
  readonly type: 'vote' | 'preVote';
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
  readonly transfer: boolean;
}

export interface VoteResponse extends MessageHeader {
  readonly type: 'voteResponse' | 'preVoteResponse';
  readonly granted: boolean;
}

export interface AppendRequest extends MessageHeader {
  readonly type: 'append';
  readonly prevIndex: number;
  readonly prevTerm: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
  /**
   * The follower answers only if it refuses: set on an append that only carries a new commit
   * index to a follower known to match, whose success would tell the leader nothing.
   */
  readonly answerOnlyIfRefused?: boolean;
}

/**
 * On success `index` is the last index the follower now matches. On rejection `index` is the
 * rejected `prevIndex`, and the hint says where to retry: `conflictTerm` is the follower's term at
 * that index with `conflictIndex` the first index of that term, or `conflictTerm` 0 with
 * `conflictIndex` one past the follower's last index when its log is too short.
 */
export interface AppendResponse extends MessageHeader {
  readonly type: 'appendResponse';
  readonly success: boolean;
  readonly index: number;
  readonly conflictTerm: number;
  readonly conflictIndex: number;
}

/** `context` carries a read request id ('' when none); `sentTick` feeds the leader's lease. */
export interface Heartbeat extends MessageHeader {
  readonly type: 'heartbeat';
  readonly commit: number;
  readonly context: string;
  readonly sentTick: number;
}

export interface HeartbeatResponse extends MessageHeader {
  readonly type: 'heartbeatResponse';
  readonly context: string;
  readonly sentTick: number;
}

/** One chunk of a snapshot; chunks are sent in order, each after the previous one is acknowledged. */
export interface SnapshotChunk extends MessageHeader {
  readonly type: 'snapshot';
  readonly metadata: SnapshotMetadata;
  readonly offset: number;
  readonly totalBytes: number;
  readonly data: Uint8Array;
}

/**
 * The core asks the host to send `to` bytes [offset, offset + length) of the snapshot at
 * `metadata.index` (a chunk; `snapshotChunkOf` makes the message). The core reads no snapshot
 * bytes itself, so the host can serve them from a file without keeping them in memory.
 */
export interface SnapshotChunkRead extends MessageHeader {
  readonly metadata: SnapshotMetadata;
  readonly offset: number;
  readonly length: number;
  readonly totalBytes: number;
}

/** The follower holds `nextOffset` bytes of the snapshot at `index` and wants the rest. */
export interface SnapshotResponse extends MessageHeader {
  readonly type: 'snapshotResponse';
  readonly index: number;
  readonly nextOffset: number;
}

/** The leader tells a caught-up follower to start an election at once. */
export interface TimeoutNow extends MessageHeader {
  readonly type: 'timeoutNow';
}

/** A follower forwards a linearizable read to the leader. */
export interface ReadIndexRequest extends MessageHeader {
  readonly type: 'readIndex';
  readonly requestId: string;
}

export interface ReadIndexResponse extends MessageHeader {
  readonly type: 'readIndexResponse';
  readonly requestId: string;
  readonly index: number;
  readonly success: boolean;
}

export type Message =
  | VoteRequest
  | VoteResponse
  | AppendRequest
  | AppendResponse
  | Heartbeat
  | HeartbeatResponse
  | SnapshotChunk
  | SnapshotResponse
  | TimeoutNow
  | ReadIndexRequest
  | ReadIndexResponse;

export type MessageType = Message['type'];

/** How the host takes a Ready. */
export interface ReadyOptions {
  /** The host is still writing an earlier Ready: leave everything that needs a write for later. */
  readonly deferWrites?: boolean;
}

/**
 * What the host must do, in order: persist `snapshot`, `entries` and `hardState`; send
 * `messages` (at once, even before persisting) and `messagesAfterPersist` (only once persisted);
 * apply `committedEntries`; answer `readStates` once applied reaches their index and fail
 * `droppedReads`; then call `advance()`. Every field is always present (undefined when there is
 * nothing), so every Ready has one shape and the host's code that reads it stays specialised to
 * it whatever the load.
 */
export interface Ready {
  readonly softState: SoftState | undefined;
  readonly hardState: HardState | undefined;
  readonly entries: readonly Entry[];
  /**
   * A snapshot received from the leader, to install: its bytes are the `snapshotWrites` of this
   * Ready and earlier ones since the chunk at offset 0.
   */
  readonly snapshot: SnapshotInfo | undefined;
  readonly messages: readonly Message[];
  readonly messagesAfterPersist: readonly Message[];
  /** Snapshot chunks to read and send, like `messages` (at once). */
  readonly snapshotReads: readonly SnapshotChunkRead[];
  /**
   * Chunks of a snapshot the leader is sending, in order, to write like `entries` (before
   * `messagesAfterPersist`, which acknowledge them); a chunk at offset 0 starts a new snapshot.
   * The host keeps the bytes (a file), the core only the offset.
   */
  readonly snapshotWrites: readonly SnapshotChunk[];
  readonly committedEntries: readonly Entry[];
  readonly readStates: readonly ReadState[];
  /** Read request ids this node will never answer (it lost leadership, or the leader refused). */
  readonly droppedReads: readonly string[];
}

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export interface ProgressStatus {
  readonly match: number;
  readonly next: number;
  readonly state: ProgressState;
  readonly isLearner: boolean;
  readonly recentActive: boolean;
  readonly inflightMessages: number;
}

export interface RaftStatus {
  readonly id: NodeId;
  readonly role: Role;
  readonly term: number;
  readonly vote: NodeId | 0;
  readonly leaderId: NodeId | 0;
  readonly commit: number;
  readonly applied: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly config: ClusterConfig;
  readonly leadTransferee: NodeId | 0;
  /** Present only on the leader. */
  readonly progress?: ReadonlyMap<NodeId, ProgressStatus>;
}
