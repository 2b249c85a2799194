/**
 * Test double: a single-process `KvBackend`, for unit tests of the API layer that need a manual
 * clock (lease expiry, progress notify) or a backend they can inspect. commands are encoded (as they would be for the Raft log) and applied
 * straight to a `KvStateMachine` at a monotonic index. A `WatchHub` is fed by every apply, and a
 * `Lessor` driven by the injected clock revokes expired leases by applying revoke commands. The
 * member list is metadata only (there is no replication to change).
 */
import {
  type AnswerTo,
  answerOf,
  type BackendStatus,
  BadLeaderTransfereeError,
  type ClusterMember,
  checkPeerUrls,
  describeAlarm,
  type KvBackend,
  type LeaseTimeToLiveAnswer,
  type MemberChange,
  MemberNotFoundError,
  MemberNotLearnerError,
  PeerUrlExistsError,
  type RequestOptions,
  SERVED_ETCD_API_VERSION,
} from '../../src/api/index.js';
import {
  type AuthCommand,
  AuthRefusals,
  type AuthStateView,
  AuthStore,
  kvCommandRefusal,
  watchRefusal,
} from '../../src/auth/index.js';
import {
  type AlarmMember,
  type ApplyOutcome,
  DEFAULT_QUOTA_BACKEND_BYTES,
  encodeKvCommand,
  exceedsQuota,
  type KvCommand,
  type KvHash,
  KvStateMachine,
  type LeaseStatus,
  Lessor,
  NoSpaceError,
  type RangeRequest,
  type RangeResponse,
  validateKvCommand,
  type Watcher,
  WatchHub,
  type WatchRequest,
} from '../../src/kv/index.js';
import {
  assert,
  type Clock,
  isMeshError,
  isNodeId,
  type NodeId,
  runToEnd,
  type TimerId,
} from '../../src/lib/index.js';

/** How often lease deadlines are checked. */
export const LEASE_EXPIRY_CHECK_INTERVAL_MS = 250;

/** The single-process backend never changes leader, so its term is fixed. */
const LOCAL_RAFT_TERM = 1;

export interface LocalKvBackendOptions {
  readonly clock: Clock;
  readonly clusterId?: bigint;
  /** Must fit a safe integer: member ids are numbers in `ClusterMember`. */
  readonly memberId?: NodeId;
  readonly name?: string;
  readonly peerUrls?: readonly string[];
  readonly clientUrls?: readonly string[];
  readonly minLeaseTtlSeconds?: number;
  readonly version?: string;
  /** Events a watcher may hold undelivered before it is cancelled as slow (the hub's default if unset). */
  readonly watchBufferEvents?: number;
  /** Space quota; `DEFAULT_QUOTA_BACKEND_BYTES` if unset. */
  readonly quotaBackendBytes?: number;
}

export class LocalKvBackend implements KvBackend {
  readonly clusterId: bigint;
  readonly memberId: NodeId;
  private readonly clock: Clock;
  private readonly machine: KvStateMachine;
  private readonly hub: WatchHub;
  private readonly lessor = new Lessor();
  private readonly memberList: ClusterMember[];
  private readonly version: string;
  private readonly quotaBackendBytes: number;
  private applyIndex = 0;
  private nextMemberId: number;
  private timer: TimerId | undefined;
  private closed = false;

  constructor(options: LocalKvBackendOptions) {
    this.clock = options.clock;
    this.clusterId = options.clusterId ?? 0x6d_65_73_68_6f_73n;
    this.memberId = options.memberId ?? 0x1_0000_0001;
    const localId = this.memberId;
    assert(isNodeId(localId), 'memberId must be a node id');
    this.machine = new KvStateMachine(
      options.minLeaseTtlSeconds === undefined ? {} : { minLeaseTtlSeconds: options.minLeaseTtlSeconds },
    );
    this.hub = new WatchHub(
      this.machine,
      options.watchBufferEvents === undefined ? {} : { bufferEvents: options.watchBufferEvents },
    );
    this.lessor.promote(this.clock.nowMs(), 0);
    this.version = options.version ?? SERVED_ETCD_API_VERSION;
    this.quotaBackendBytes = options.quotaBackendBytes ?? DEFAULT_QUOTA_BACKEND_BYTES;
    this.memberList = [
      {
        id: localId,
        name: options.name ?? 'local',
        peerUrls: options.peerUrls ?? [],
        clientUrls: options.clientUrls ?? [],
        isLearner: false,
      },
    ];
    this.nextMemberId = localId + 1;
    this.scheduleExpiryCheck();
  }

  /** Stops the lease timer; the state stays readable. */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  raftTerm(): number {
    return LOCAL_RAFT_TERM;
  }

  currentRevision(): number {
    return this.machine.revision;
  }

  /** The watch hub, for tests that inspect watcher counts. */
  get watchHub(): WatchHub {
    return this.hub;
  }

  /** Auth as the Raft backend keeps it, changed in place (no log) and checked before each apply. */
  readonly authStore = new AuthStore();
  readonly authRefusals = new AuthRefusals();

  get auth(): AuthStateView {
    return this.authStore;
  }

  async currentAuth(): Promise<AuthStateView> {
    return this.authStore;
  }

  async changeAuth(command: AuthCommand): Promise<void> {
    this.authStore.apply(command);
  }

  private checkUser(user: string | undefined, command: KvCommand): void {
    if (user === undefined || !this.authStore.enabled) return;
    const refusal = kvCommandRefusal(this.authStore, user, command, (id) =>
      this.machine.hasLease(id) ? this.machine.leaseTimeToLive(id, true).keys : [],
    );
    if (refusal === undefined) return;
    this.authRefusals.record(refusal, command.type);
    throw refusal;
  }

  async execute<Command extends KvCommand>(
    command: Command,
    _session?: unknown,
    options: RequestOptions = {},
  ): Promise<AnswerTo<Command>> {
    this.checkUser(options.user, command);
    if (exceedsQuota(this.machine.storedBytes, command, this.quotaBackendBytes)) {
      const memberId = Number(this.memberId);
      this.apply({ type: 'alarm', action: 'activate', memberId, alarm: 'NOSPACE' });
      throw new NoSpaceError();
    }
    return answerOf(command, this.apply(command).result);
  }

  async alarms(): Promise<readonly AlarmMember[]> {
    return this.machine.alarms;
  }

  async range(request: RangeRequest, options: RequestOptions = {}): Promise<RangeResponse> {
    this.checkUser(options.user, request);
    return this.machine.range(request);
  }

  async leaseKeepAlive(id: number): Promise<number> {
    return this.lessor.keepAlive(id, this.clock.nowMs());
  }

  async leaseTimeToLive(id: number, withKeys: boolean): Promise<LeaseTimeToLiveAnswer> {
    if (!this.machine.hasLease(id)) return { id, ttlSeconds: -1, grantedTtlSeconds: 0, keys: [] };
    const lease = this.machine.leaseTimeToLive(id, withKeys);
    return {
      id,
      ttlSeconds: this.lessor.remainingSeconds(id, this.clock.nowMs()),
      grantedTtlSeconds: lease.grantedTtlSeconds,
      keys: lease.keys,
    };
  }

  async leaseList(): Promise<readonly LeaseStatus[]> {
    return this.machine.leaseList();
  }

  watch(request: WatchRequest, user?: string): Watcher {
    const refusal =
      user === undefined || !this.authStore.enabled ? undefined : watchRefusal(this.authStore, user, request);
    if (refusal !== undefined) throw refusal;
    return this.hub.watch(request);
  }

  requestWatchProgress(): void {
    this.hub.progress();
  }

  async members(): Promise<readonly ClusterMember[]> {
    return [...this.memberList];
  }

  async addMember(peerUrls: readonly string[], isLearner: boolean): Promise<MemberChange> {
    checkPeerUrls(peerUrls);
    this.checkUrlsFree(peerUrls, 0);
    const member: ClusterMember = { id: this.nextMemberId++, name: '', peerUrls, clientUrls: [], isLearner };
    this.memberList.push(member);
    return { member, members: [...this.memberList] };
  }

  async removeMember(id: number): Promise<MemberChange> {
    this.memberList.splice(this.position(id), 1);
    return { members: [...this.memberList] };
  }

  async promoteMember(id: number): Promise<MemberChange> {
    const position = this.position(id);
    const member = this.memberList[position]!;
    if (!member.isLearner) throw new MemberNotLearnerError(id);
    this.memberList[position] = { ...member, isLearner: false };
    return { members: [...this.memberList] };
  }

  async updateMember(id: number, peerUrls: readonly string[]): Promise<MemberChange> {
    checkPeerUrls(peerUrls);
    const position = this.position(id);
    this.checkUrlsFree(peerUrls, id);
    this.memberList[position] = { ...this.memberList[position]!, peerUrls };
    return { members: [...this.memberList] };
  }

  /** One voter, which leads already: only it is a valid target. */
  async moveLeader(target: number): Promise<void> {
    if (target !== Number(this.memberId)) throw new BadLeaderTransfereeError(target);
  }

  private position(id: number): number {
    const position = this.memberList.findIndex((member) => member.id === id);
    if (position < 0) throw new MemberNotFoundError(id);
    return position;
  }

  private checkUrlsFree(peerUrls: readonly string[], owner: number): void {
    for (const url of peerUrls) {
      if (this.memberList.some((member) => member.id !== owner && member.peerUrls.includes(url)))
        throw new PeerUrlExistsError(url);
    }
  }

  async status(): Promise<BackendStatus> {
    return {
      version: this.version,
      leaderId: Number(this.memberId),
      raftIndex: this.applyIndex,
      raftAppliedIndex: this.machine.appliedIndex,
      raftTerm: LOCAL_RAFT_TERM,
      revision: this.machine.revision,
      dbSizeBytes: this.machine.storedBytes,
      isLearner: false,
      errors: this.machine.alarms.map(describeAlarm),
    };
  }

  async hashKv(revision: number): Promise<KvHash> {
    return runToEnd(this.machine.startHashKv(revision));
  }

  async snapshot(): Promise<Uint8Array> {
    return this.machine.snapshot();
  }

  /** Applies one command as the next log entry and fans its effects out. */
  private apply(command: KvCommand): ApplyOutcome {
    // As a node's backend: refused with its typed error before it is encoded for the log.
    validateKvCommand(command);
    this.applyIndex += 1;
    const outcome = this.machine.apply(this.applyIndex, encodeKvCommand(command));
    this.lessor.observe(outcome.leases, this.clock.nowMs());
    this.hub.publish(outcome.events, outcome.revision);
    return outcome;
  }

  private scheduleExpiryCheck(): void {
    if (this.closed) return;
    this.timer = this.clock.setTimer(LEASE_EXPIRY_CHECK_INTERVAL_MS, () => {
      this.timer = undefined;
      this.revokeExpired();
      this.scheduleExpiryCheck();
    });
  }

  private revokeExpired(): void {
    for (const id of this.lessor.expired(this.clock.nowMs())) {
      try {
        this.apply({ type: 'leaseRevoke', id });
      } catch (error) {
        // A revoke that fails to encode is a bug; anything typed was already turned into a result.
        if (!isMeshError(error)) throw error;
      }
    }
  }
}
