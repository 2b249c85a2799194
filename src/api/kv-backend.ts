/**
 * What the etcd API layer needs from a node, and the one error contract every backend keeps:
 * a method resolves with its answer or rejects with a typed `MeshError` (which `error-map.ts`
 * turns into etcd's gRPC status). No error travels as a value across this interface.
 */
import type { AuthCommand, AuthRefusals, AuthStateView } from '../auth/index.js';
import type {
  AlarmMember,
  KvCommand,
  KvHash,
  KvResult,
  LeaseStatus,
  RangeRequest,
  RangeResponse,
  Watcher,
  WatchRequest,
} from '../kv/index.js';
import { assert, type NodeId } from '../lib/index.js';

/** What the client said about a request besides the request itself. */
export interface RequestOptions {
  /**
   * Milliseconds from now until the client gives up (its gRPC deadline), when it set one: a
   * request that meets no leader waits for one until shortly before then.
   */
  readonly timeoutMs?: number;
  /**
   * The authenticated user the request acts as, set by the API layer when auth is on; the
   * backend checks its permissions (reads after the read barrier, writes as they apply). Unset
   * for the node's own calls, which reach the backend in-process and act as the node itself.
   */
  readonly user?: string;
}

/** A client's identity and request number, for exactly-once retries. */
export interface ClientSession {
  readonly clientId: string;
  readonly sequence: number;
}

/** One member of the cluster as clients see it. */
export interface ClusterMember {
  readonly id: NodeId;
  readonly name: string;
  readonly peerUrls: readonly string[];
  readonly clientUrls: readonly string[];
  readonly isLearner: boolean;
}

/** What a membership call answers: the member it added (MemberAdd) and the members after it. */
export interface MemberChange {
  readonly member?: ClusterMember;
  readonly members: readonly ClusterMember[];
}

export interface BackendStatus {
  readonly version: string;
  /** 0 while no leader is known. */
  readonly leaderId: NodeId | 0;
  readonly raftIndex: number;
  readonly raftAppliedIndex: number;
  readonly raftTerm: number;
  readonly revision: number;
  /** What the stored data counts for the space quota. */
  readonly dbSizeBytes: number;
  readonly isLearner: boolean;
  /** One line per raised alarm, `memberID:<id> alarm:<type>` as etcd's status reports them. */
  readonly errors: readonly string[];
}

/** How etcd's status lists a raised alarm. */
export function describeAlarm(member: AlarmMember): string {
  return `memberID:${member.memberId} alarm:${member.alarm}`;
}

export interface LeaseTimeToLiveAnswer {
  readonly id: number;
  /** Seconds left; -1 when the lease does not exist (expired or never granted). */
  readonly ttlSeconds: number;
  readonly grantedTtlSeconds: number;
  readonly keys: readonly Uint8Array[];
}

/** A command's successful answer: never the state machine's `{type: 'error'}` result. */
export type KvAnswer = Exclude<KvResult, { type: 'error' }>;

/** The answer a command of a given kind gets: a put gets a `PutResponse`, and so on. */
export type AnswerTo<Command extends KvCommand> = Extract<KvAnswer, { type: Command['type'] }>;

/**
 * Turns an applied command's result into the contract's form: its answer, or a rejection
 * with the typed error the state machine refused it with.
 */
export function answerOf<Command extends KvCommand>(command: Command, result: KvResult): AnswerTo<Command> {
  if (result.type === 'error') throw result.error;
  assert(result.type === command.type, () => `a ${command.type} command was answered with ${result.type}`);
  return result as AnswerTo<Command>;
}

/**
 * What a client API (the etcd v3 gRPC service, the CLI) needs from a node; the Raft-backed
 * node implements it. Every method either answers or rejects with a typed `MeshError`
 * (`NOT_LEADER`, `KV_*`, `TIMEOUT`, ...).
 */
export interface KvBackend {
  /** The cluster's id, an unsigned 64-bit value in response headers. */
  readonly clusterId: bigint;
  /** This member's node id; response headers carry it as an unsigned 64-bit decimal. */
  readonly memberId: NodeId;
  raftTerm(): number;
  /** The revision this node has applied; for headers of answers that do not carry one. */
  currentRevision(): number;
  /**
   * Writes go through consensus (alarm raises and clears too); a range is linearizable unless `serializable` is set. A
   * command carrying the client's session (id, sequence) is applied at most once however
   * often it is retried. A command the state machine refuses rejects with its `KvError`.
   */
  execute<Command extends KvCommand>(
    command: Command,
    session?: ClientSession,
    options?: RequestOptions,
  ): Promise<AnswerTo<Command>>;
  range(request: RangeRequest, options?: RequestOptions): Promise<RangeResponse>;
  /** The raised alarms (linearizable), ordered by member id. */
  alarms(): Promise<readonly AlarmMember[]>;
  /** Refreshes a lease and answers its TTL; rejects with KV_LEASE_NOT_FOUND. */
  leaseKeepAlive(id: number): Promise<number>;
  leaseTimeToLive(id: number, withKeys: boolean): Promise<LeaseTimeToLiveAnswer>;
  leaseList(): Promise<readonly LeaseStatus[]>;
  /** Starts a watch (refused with PermissionDenied when `user` may not read its range); the watcher yields responses until cancelled. */
  watch(request: WatchRequest, user?: string): Watcher;
  /** Asks every watcher to report progress at the current revision. */
  requestWatchProgress(): void;
  members(): Promise<readonly ClusterMember[]>;
  /**
   * Membership changes, served through any member (the Raft-backed node forwards them to its
   * leader); each answers the members after the change as the node that made it saw them.
   */
  addMember(peerUrls: readonly string[], isLearner: boolean): Promise<MemberChange>;
  removeMember(id: NodeId): Promise<MemberChange>;
  promoteMember(id: NodeId): Promise<MemberChange>;
  /** New peer URLs for a member (MEMBER_NOT_FOUND, MEMBER_BAD_URLS, PEER_URL_EXISTS). */
  updateMember(id: NodeId, peerUrls: readonly string[]): Promise<MemberChange>;
  /** Hands leadership to voter `target` and resolves once it leads (BAD_LEADER_TRANSFEREE). */
  moveLeader(target: NodeId): Promise<void>;
  status(): Promise<BackendStatus>;
  /** The whole state as a snapshot stream, for `meshos snapshot save` and Maintenance.Snapshot. */
  snapshot(): Promise<Uint8Array>;
  /**
   * This member's hash of its key-value history up to `revision` (0: its current revision), as
   * Maintenance.HashKV answers it (src/kv/hash.ts); KV_COMPACTED or KV_FUTURE_REVISION as etcd.
   */
  hashKv(revision: number): Promise<KvHash>;
  /** The auth store as this member has applied it (users, roles, permissions, enabled). */
  readonly auth: AuthStateView;
  /** This node's auth refusals, for /metrics and the log. */
  readonly authRefusals: AuthRefusals;
  /** The auth store after a linearizable barrier: every change acknowledged before is in it. */
  currentAuth(options?: RequestOptions): Promise<AuthStateView>;
  /** An auth-store change through consensus; rejects with the `AuthError` it was refused with. */
  changeAuth(command: AuthCommand, options?: RequestOptions): Promise<void>;
}
