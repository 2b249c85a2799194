/**
 * `MeshClient`: the TypeScript client of a MeshOS cluster over etcd's v3 gRPC API.
 *
 * Every call goes to the endpoint believed to be the leader (found with Maintenance.Status and, if
 * the leader is not among the given endpoints, Cluster.MemberList). A call that fails in a way
 * another attempt may not (endpoint unreachable, "not leader", "leader changed", ...) is retried
 * with jittered exponential backoff on the next endpoint, within a bounded number of attempts and
 * the call's time budget. Writes carry the client session (see session.ts) so a retried write is
 * applied once.
 */
import * as grpc from '@grpc/grpc-js';
import { type Clock, type Random, SystemClock, systemRandom, ValidationError } from '../lib/index.js';
import type {
  PbDeleteRangeResponse,
  PbLeaseGrantResponse,
  PbLeaseTimeToLiveResponse,
  PbMember,
  PbPutResponse,
  PbRangeResponse,
  PbResponseHeader,
  PbStatusResponse,
  PbTxnResponse,
} from '../protocol/index.js';
import { AuthClient } from './auth.js';
import { AuthTokenHolder } from './auth-token.js';
import { retryDelayMs } from './backoff.js';
import { BlobsClient } from './blobs.js';
import { rangeEndFor, toBytes } from './bytes.js';
import { ChainsClient } from './chains.js';
import {
  compareToPb,
  deleteRequestToPb,
  deleteResultFromPb,
  headerFromPb,
  memberFromPb,
  putRequestToPb,
  putResultFromPb,
  rangeEndField,
  rangeRequestToPb,
  rangeResultFromPb,
  requestOpToPb,
  statusFromPb,
  toNumber,
  txnResultFromPb,
} from './convert.js';
import { DaemonsClient } from './daemons.js';
import { chooseLeader } from './discovery.js';
import { channelCredentials, type EndpointConnection, normalizeEndpoint } from './endpoint.js';
import { EndpointPool } from './endpoint-pool.js';
import {
  ClientClosedError,
  errorFromGrpc,
  LeaseNotFoundError,
  MeshClientError,
  TimeoutError,
  UnavailableError,
} from './errors.js';
import {
  DEFAULT_CALL_TIMEOUT_MS,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_SNAPSHOT_TIMEOUT_MS,
  DISCOVERY_TIMEOUT_MS,
} from './limits.js';
import { effectiveTls, type MeshClientOptions, validateClientOptions } from './options.js';
import type { ServiceTransport } from './service-transport.js';
import { ClientSession, randomClientId } from './session.js';
import { createWatch, keepAliveOnce, type SnapshotSink, streamSnapshot } from './stream-calls.js';
import { TxnIf } from './txn-builder.js';
import type {
  Bytes,
  CallOptions,
  CompareOperator,
  CompareTarget,
  DeleteOptions,
  DeleteResult,
  EndpointStatus,
  KeyValue,
  LeaseGrantResult,
  LeaseTimeToLiveResult,
  Member,
  MemberAddResult,
  PutOptions,
  PutResult,
  RangeOptions,
  RangeResult,
  ResponseHeader,
  SnapshotOptions,
  TxnRequest,
  TxnResult,
  WatchOptions,
} from './types.js';
import { Watch, type WatchOpener } from './watch.js';

/** How a discovery round ended: 'timed out' when no endpoint answered and some ran out of time. */
type DiscoveryRound = 'done' | 'timed out';

function isDeadlineExceeded(reason: unknown): boolean {
  return (reason as { code?: unknown } | undefined)?.code === grpc.status.DEADLINE_EXCEEDED;
}

type Attempt<T> = (connection: EndpointConnection, deadline: Date) => Promise<T>;

/** Status of one endpoint, or why it did not answer. */
export type EndpointStatusResult =
  | { readonly endpoint: string; readonly status: EndpointStatus; readonly error?: undefined }
  | { readonly endpoint: string; readonly status?: undefined; readonly error: MeshClientError };

export class MeshClient {
  readonly clientId: string;
  private readonly session: ClientSession;
  private readonly pool: EndpointPool;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly discoverLeader: boolean;
  private readonly random: Random;
  /** Sleeps and timers only; gRPC deadlines are wall-clock dates by nature. */
  private readonly clock: Clock = new SystemClock();
  private readonly watches = new Set<Watch>();
  private discovery: Promise<DiscoveryRound> | undefined;
  private closed = false;
  /** The auth token, when the client was given credentials. */
  private readonly tokens: AuthTokenHolder | undefined;
  /** Replicated chains (`meshos.v1.Chains`): create, append, read, subscribe, status, list, delete. */
  readonly chains: ChainsClient;
  /** Daemons on the cluster (`meshos.v1.Daemons`): deploy, list, status, send, state, outputs, move, remove. */
  readonly daemons: DaemonsClient;
  /** Content-addressed blobs (`meshos.v1.Blobs`): put, get, status, list, delete. */
  readonly blobs: BlobsClient;
  /** etcd's auth (auth on and off, users, roles and their permissions), as etcdctl's auth/user/role. */
  readonly auth: AuthClient;

  private constructor(options: MeshClientOptions) {
    this.random = options.random ?? systemRandom();
    this.clientId = options.clientId ?? randomClientId(this.random);
    this.session = new ClientSession(this.clientId);
    const credentials = options.credentials;
    this.tokens =
      credentials === undefined
        ? undefined
        : new AuthTokenHolder(() => this.authenticate(credentials.user, credentials.password), this.clock);
    this.pool = new EndpointPool(
      options.endpoints.map(normalizeEndpoint),
      [...(options.interceptors ?? []), ...(this.tokens === undefined ? [] : [this.tokens.interceptor()])],
      channelCredentials(effectiveTls(options)),
    );
    this.timeoutMs = options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    this.discoverLeader = options.discoverLeader ?? true;
    const transport: ServiceTransport = {
      call: (label, callOptions, attempt) => this.call(label, callOptions, attempt),
      pick: () => this.pool.connection(this.pool.pick()),
      failed: (address) => this.pool.failed(address),
      checkOpen: () => this.checkOpen(),
      clock: this.clock,
      random: this.random,
      maxAttempts: this.maxAttempts,
    };
    this.chains = new ChainsClient(transport);
    this.daemons = new DaemonsClient(transport);
    this.blobs = new BlobsClient(transport);
    this.auth = new AuthClient(transport);
  }

  /** Validates the options, then finds the leader (best effort: an unreachable cluster fails later calls, not this one). */
  static async connect(options: MeshClientOptions): Promise<MeshClient> {
    const problems = validateClientOptions(options);
    if (problems.length > 0) throw new ValidationError('client options', problems);
    const client = new MeshClient(options);
    if (client.discoverLeader) await client.discoverAtConnect(client.clock.nowMs() + client.timeoutMs);
    await client.tokens?.renew();
    return client;
  }

  /** A token for `user` (etcd's Authenticate), or undefined when the cluster's auth is off. */
  private async authenticate(user: string, password: string): Promise<string | undefined> {
    try {
      const answer = await this.call('authenticate', {}, (connection, deadline) =>
        connection.unary<{ token: string }>(
          'auth',
          'Authenticate',
          { name: user, password },
          new grpc.Metadata(),
          deadline,
        ),
      );
      return answer.token;
    } catch (error) {
      if (error instanceof MeshClientError && error.code === 'AUTH_NOT_ENABLED') return undefined;
      throw error;
    }
  }

  /** Endpoints known (given and learned), and the one believed to lead. */
  get endpoints(): { readonly all: readonly string[]; readonly leader: string | undefined } {
    return { all: [...this.pool.addresses], leader: this.pool.leader };
  }

  /** Writes begun so far (each takes one sequence number on its session lane). */
  get writeCount(): number {
    return this.session.sequence;
  }

  // ---- KV ----

  async range(key: Bytes, options: RangeOptions & CallOptions = {}): Promise<RangeResult> {
    const request = rangeRequestToPb(key, options);
    const pb = await this.call('range', options, (connection, deadline) =>
      connection.unary<PbRangeResponse>('kv', 'Range', request, new grpc.Metadata(), deadline),
    );
    return rangeResultFromPb(pb);
  }

  /** The key's current (or `revision`'s) entry, undefined when absent. */
  async get(
    key: Bytes,
    options: Pick<RangeOptions, 'revision' | 'serializable'> & CallOptions = {},
  ): Promise<KeyValue | undefined> {
    return (await this.range(key, options)).kvs[0];
  }

  /** Every entry whose key starts with `prefix`, in key order. */
  async getPrefix(
    prefix: Bytes,
    options: Omit<RangeOptions, 'prefix' | 'rangeEnd'> & CallOptions = {},
  ): Promise<readonly KeyValue[]> {
    return (await this.range(prefix, { ...options, prefix: true })).kvs;
  }

  async put(key: Bytes, value: Bytes, options: PutOptions & CallOptions = {}): Promise<PutResult> {
    const request = putRequestToPb(key, value, options);
    const pb = await this.write('put', options, (connection, deadline, metadata) =>
      connection.unary<PbPutResponse>('kv', 'Put', request, metadata, deadline),
    );
    return putResultFromPb(pb);
  }

  /** Deletes a key, or a range with `prefix` / `rangeEnd`. */
  async delete(key: Bytes, options: DeleteOptions & CallOptions = {}): Promise<DeleteResult> {
    const request = deleteRequestToPb(key, options);
    const pb = await this.write('delete', options, (connection, deadline, metadata) =>
      connection.unary<PbDeleteRangeResponse>('kv', 'DeleteRange', request, metadata, deadline),
    );
    return deleteResultFromPb(pb);
  }

  async txn(request: TxnRequest, options: CallOptions = {}): Promise<TxnResult> {
    const pbRequest = {
      compare: request.compare.map(compareToPb),
      success: request.success.map(requestOpToPb),
      failure: request.failure.map(requestOpToPb),
    };
    const pb = await this.write('txn', options, (connection, deadline, metadata) =>
      connection.unary<PbTxnResponse>('kv', 'Txn', pbRequest, metadata, deadline),
    );
    return txnResultFromPb(pb);
  }

  /** Starts a fluent transaction: `if(...).and(...).then(ops...).else(ops...)`. */
  if(key: Bytes, target: CompareTarget, operator: CompareOperator, operand: Bytes | number): TxnIf {
    return new TxnIf((request) => this.txn(request), { key, target, operator, operand });
  }

  /** Drops history before `revision`; reads and watches of older revisions then fail with KV_COMPACTED. */
  async compact(
    revision: number,
    options: { physical?: boolean } & CallOptions = {},
  ): Promise<ResponseHeader> {
    const request = { revision, physical: options.physical ?? false };
    const pb = await this.write('compact', options, (connection, deadline, metadata) =>
      connection.unary<{ header: PbResponseHeader }>('kv', 'Compact', request, metadata, deadline),
    );
    return headerFromPb(pb.header);
  }

  // ---- Leases ----

  /** Grants a lease of `ttlSeconds`; `id` asks for a specific id (0 or unset: the node picks). */
  async leaseGrant(
    ttlSeconds: number,
    options: { id?: number } & CallOptions = {},
  ): Promise<LeaseGrantResult> {
    const request = { TTL: ttlSeconds, ID: options.id ?? 0 };
    const pb = await this.write('leaseGrant', options, (connection, deadline, metadata) =>
      connection.unary<PbLeaseGrantResponse>('lease', 'LeaseGrant', request, metadata, deadline),
    );
    if (pb.error !== '') throw errorFromGrpc({ code: grpc.status.UNKNOWN, details: pb.error }, 'leaseGrant');
    return { header: headerFromPb(pb.header), id: toNumber(pb.ID), ttlSeconds: toNumber(pb.TTL) };
  }

  async leaseRevoke(id: number, options: CallOptions = {}): Promise<ResponseHeader> {
    const pb = await this.withLeaseId(id, () =>
      this.write('leaseRevoke', options, (connection, deadline, metadata) =>
        connection.unary<{ header: PbResponseHeader }>(
          'lease',
          'LeaseRevoke',
          { ID: id },
          metadata,
          deadline,
        ),
      ),
    );
    return headerFromPb(pb.header);
  }

  /** Refreshes a lease once and answers its new TTL; KV_LEASE_NOT_FOUND when it is gone. */
  async leaseKeepAliveOnce(id: number, options: CallOptions = {}): Promise<LeaseGrantResult> {
    const pb = await this.call('leaseKeepAlive', options, (connection, deadline) =>
      keepAliveOnce(connection, id, deadline),
    );
    const ttlSeconds = toNumber(pb.TTL);
    if (ttlSeconds <= 0) throw new LeaseNotFoundError(id);
    return { header: headerFromPb(pb.header), id, ttlSeconds };
  }

  async leaseTimeToLive(
    id: number,
    options: { keys?: boolean } & CallOptions = {},
  ): Promise<LeaseTimeToLiveResult> {
    const request = { ID: id, keys: options.keys ?? false };
    const pb = await this.call('leaseTimeToLive', options, (connection, deadline) =>
      connection.unary<PbLeaseTimeToLiveResponse>(
        'lease',
        'LeaseTimeToLive',
        request,
        new grpc.Metadata(),
        deadline,
      ),
    );
    return {
      header: headerFromPb(pb.header),
      id: toNumber(pb.ID),
      ttlSeconds: toNumber(pb.TTL),
      grantedTtlSeconds: toNumber(pb.grantedTTL),
      keys: [...pb.keys],
    };
  }

  /** Ids of every live lease. */
  async leases(options: CallOptions = {}): Promise<readonly number[]> {
    const pb = await this.call('leaseLeases', options, (connection, deadline) =>
      connection.unary<{ leases: { ID: string }[] }>(
        'lease',
        'LeaseLeases',
        {},
        new grpc.Metadata(),
        deadline,
      ),
    );
    return pb.leases.map((lease) => toNumber(lease.ID));
  }

  // ---- Watch ----

  /**
   * Watches a key (or a prefix / range). Resolves once the node has created the watch, so changes
   * made after this resolves are reported. Iterate with `for await`; `break` cancels the watch.
   */
  async watch(key: Bytes, options: WatchOptions & CallOptions = {}): Promise<Watch> {
    this.checkOpen();
    const start = toBytes(key);
    const allKeys = options.prefix === true && start.length === 0;
    const filters: string[] = [];
    if (options.noPut === true) filters.push('Noput');
    if (options.noDelete === true) filters.push('Nodelete');
    const createRequest = (startRevision: number) => ({
      key: allKeys ? new Uint8Array([0]) : start,
      ...rangeEndField(allKeys ? new Uint8Array([0]) : rangeEndFor(start, options)),
      start_revision: startRevision,
      progress_notify: false,
      filters,
      prev_kv: options.prevKv ?? false,
      watch_id: 0,
      fragment: false,
    });
    const watch = new Watch(
      {
        open: this.watchOpener(createRequest, options),
        clock: this.clock,
        random: this.random,
        maxAttempts: this.maxAttempts,
        onClose: (closed) => this.watches.delete(closed),
      },
      options.startRevision ?? 0,
    );
    this.watches.add(watch);
    try {
      await watch.start();
    } catch (error) {
      watch.close();
      throw error;
    }
    return watch;
  }

  // ---- Cluster ----

  async members(options: CallOptions = {}): Promise<readonly Member[]> {
    const pb = await this.call('memberList', options, (connection, deadline) =>
      connection.unary<{ members: PbMember[] }>(
        'cluster',
        'MemberList',
        { linearizable: true },
        new grpc.Metadata(),
        deadline,
      ),
    );
    return pb.members.map(memberFromPb);
  }

  async memberAdd(
    peerUrls: string | readonly string[],
    options: { learner?: boolean } & CallOptions = {},
  ): Promise<MemberAddResult> {
    const request = {
      peerURLs: typeof peerUrls === 'string' ? [peerUrls] : [...peerUrls],
      isLearner: options.learner ?? false,
    };
    const pb = await this.call('memberAdd', options, (connection, deadline) =>
      connection.unary<{ member: PbMember; members: PbMember[] }>(
        'cluster',
        'MemberAdd',
        request,
        new grpc.Metadata(),
        deadline,
      ),
    );
    return { member: memberFromPb(pb.member), members: pb.members.map(memberFromPb) };
  }

  async memberRemove(id: bigint | number, options: CallOptions = {}): Promise<readonly Member[]> {
    return this.memberChange('MemberRemove', id, options);
  }

  async memberPromote(id: bigint | number, options: CallOptions = {}): Promise<readonly Member[]> {
    return this.memberChange('MemberPromote', id, options);
  }

  /** New peer URLs for member `id`; answers the members after the change. */
  async memberUpdate(
    id: bigint | number,
    peerUrls: readonly string[],
    options: CallOptions = {},
  ): Promise<readonly Member[]> {
    return this.memberChange('MemberUpdate', id, options, { peerURLs: [...peerUrls] });
  }

  // ---- Maintenance ----

  /** Status of `endpoint` (one attempt, no failover), or of the leader (with retries) when unset. */
  async status(endpoint?: string, options: CallOptions = {}): Promise<EndpointStatus> {
    this.checkOpen();
    if (endpoint === undefined) {
      return this.call('status', options, (connection, deadline) => this.statusOf(connection, deadline));
    }
    const address = normalizeEndpoint(endpoint);
    const deadline = new Date(Date.now() + (options.timeoutMs ?? this.timeoutMs));
    try {
      return await this.statusOf(this.pool.connection(address), deadline);
    } catch (error) {
      throw errorFromGrpc(error, address);
    }
  }

  /** Status of every known endpoint, in order; endpoints that fail are reported with their error. */
  async statusAll(options: CallOptions = {}): Promise<readonly EndpointStatusResult[]> {
    const addresses = [...this.pool.addresses];
    return Promise.all(
      addresses.map(async (endpoint): Promise<EndpointStatusResult> => {
        try {
          return { endpoint, status: await this.status(endpoint, options) };
        } catch (error) {
          return { endpoint, error: errorFromGrpc(error, endpoint) };
        }
      }),
    );
  }

  /**
   * The node's whole state as its snapshot stream delivers it: the data, zero-padded to a multiple
   * of 512 bytes, followed by its 32-byte SHA-256, which is checked before the bytes are returned
   * (SNAPSHOT_CORRUPT otherwise); what `snapshot save` writes (src/protocol/snapshot-file.ts).
   */
  async snapshot(options: SnapshotOptions = {}): Promise<Uint8Array> {
    let chunks: Uint8Array[] = [];
    const length = await this.snapshotTo(
      {
        restart: async () => {
          chunks = [];
        },
        write: async (chunk) => {
          chunks.push(chunk);
        },
      },
      options,
    );
    const whole = new Uint8Array(length);
    let offset = 0;
    for (const chunk of chunks) {
      whole.set(chunk, offset);
      offset += chunk.length;
    }
    return whole;
  }

  /**
   * `snapshot`, handed to `sink` a chunk at a time as it arrives (a file written as it downloads,
   * never held whole); resolves with its length once its SHA-256 checked out. A failed attempt is
   * started over (`sink.restart()`) on the next try.
   */
  async snapshotTo(sink: SnapshotSink, options: SnapshotOptions = {}): Promise<number> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_SNAPSHOT_TIMEOUT_MS;
    return this.call('snapshot', { timeoutMs }, async (connection, deadline) => {
      await sink.restart();
      return streamSnapshot(connection, deadline, sink, options.onProgress);
    });
  }

  /** Ends every watch and closes every connection; later calls fail with CLIENT_CLOSED. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const watch of [...this.watches]) watch.close();
    this.chains.close();
    this.pool.closeAll();
  }

  // ---- internals ----

  private checkOpen(): void {
    if (this.closed) throw new ClientClosedError();
  }

  private async memberChange(
    method: 'MemberRemove' | 'MemberPromote' | 'MemberUpdate',
    id: bigint | number,
    options: CallOptions,
    fields: Record<string, unknown> = {},
  ): Promise<readonly Member[]> {
    const request = { ID: BigInt(id).toString(), ...fields };
    const pb = await this.call(method, options, (connection, deadline) =>
      connection.unary<{ members: PbMember[] }>('cluster', method, request, new grpc.Metadata(), deadline),
    );
    return pb.members.map(memberFromPb);
  }

  private async statusOf(connection: EndpointConnection, deadline: Date): Promise<EndpointStatus> {
    const pb = await connection.unary<PbStatusResponse>(
      'maintenance',
      'Status',
      {},
      new grpc.Metadata(),
      deadline,
    );
    return statusFromPb(connection.address, pb);
  }

  /** Fills in a lease id that the wire error could not carry. */
  private async withLeaseId<T>(id: number, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof LeaseNotFoundError) throw new LeaseNotFoundError(id, error.grpcCode);
      throw error;
    }
  }

  /** A write: one session lane and sequence for the logical request, the same pair on every attempt. */
  private async write<T>(
    label: string,
    options: CallOptions,
    attempt: (connection: EndpointConnection, deadline: Date, metadata: grpc.Metadata) => Promise<T>,
  ): Promise<T> {
    this.checkOpen();
    const ticket = await this.session.begin();
    try {
      return await this.call(label, options, (connection, deadline) =>
        attempt(connection, deadline, ticket.metadata()),
      );
    } finally {
      ticket.release();
    }
  }

  /** Runs `attempt` against the preferred endpoint, failing over and backing off on retryable errors. */
  private async call<T>(label: string, options: CallOptions, attempt: Attempt<T>): Promise<T> {
    this.checkOpen();
    const budgetMs = options.timeoutMs ?? this.timeoutMs;
    const deadlineMs = this.clock.nowMs() + budgetMs;
    let lastError: MeshClientError | undefined;
    let renewedToken = false;
    let outOfTime = false;
    for (let attemptIndex = 0; attemptIndex < this.maxAttempts; attemptIndex++) {
      if (attemptIndex > 0) {
        const backoffMs = retryDelayMs(attemptIndex - 1, this.random);
        const budgetLeftMs = deadlineMs - this.clock.nowMs();
        // A backoff that reaches the deadline ends the call there, decided before the wait: Node
        // cuts a timer's delay to whole milliseconds, so the wait may end a fraction of one early,
        // and an attempt sent in that fraction could only expire (for a change, a certain refusal
        // would become "may have been written").
        const lastWait = backoffMs >= budgetLeftMs;
        const waitMs = Math.min(backoffMs, budgetLeftMs);
        if (waitMs > 0) await this.sleep(waitMs);
        this.checkOpen();
        if (lastWait) {
          outOfTime = true;
          break;
        }
        if (this.discoverLeader && this.pool.leader === undefined) await this.discover(deadlineMs);
      }
      const remainingMs = deadlineMs - this.clock.nowMs();
      if (remainingMs <= 0) {
        outOfTime = true;
        break;
      }
      const address = this.pool.pick();
      try {
        return await attempt(this.pool.connection(address), new Date(Date.now() + remainingMs));
      } catch (error) {
        if (this.closed) throw new ClientClosedError();
        const typed = errorFromGrpc(error, address);
        // An expired or voided token, or none yet because auth was off when the client
        // authenticated and is on now: authenticate again, once per call, and retry.
        if (
          (typed.code === 'AUTH_INVALID_TOKEN' || typed.code === 'AUTH_USER_EMPTY') &&
          this.tokens !== undefined &&
          !renewedToken
        ) {
          renewedToken = true;
          await this.tokens.renew();
          continue;
        }
        if (!typed.retryable) throw typed;
        lastError = typed;
        this.pool.failed(address);
      }
    }
    if (outOfTime || this.clock.nowMs() >= deadlineMs) {
      throw new TimeoutError(`${label}: no answer within ${budgetMs} ms`, {
        ...(lastError === undefined ? {} : { cause: lastError }),
      });
    }
    throw lastError ?? new UnavailableError(`${label}: no endpoint answered`);
  }

  private sleep(delayMs: number): Promise<void> {
    return new Promise((resolve) => {
      this.clock.setTimer(delayMs, resolve);
    });
  }

  /** One discovery round at a time; callers share it. */
  private discover(deadlineMs: number): Promise<DiscoveryRound> {
    this.discovery ??= this.discoverOnce(deadlineMs).finally(() => {
      this.discovery = undefined;
    });
    return this.discovery;
  }

  /**
   * Discovery at connect: a round in which no endpoint answered and some only ran out of time
   * (a slow machine, a first call paying for its connection) goes again while the connect's
   * deadline allows, as a dial timeout would wait; refusals end it at once.
   */
  private async discoverAtConnect(deadlineMs: number): Promise<void> {
    // Each round that timed out spent its budget waiting: no pause is needed between rounds.
    for (;;) {
      const round = await this.discover(deadlineMs);
      if (round !== 'timed out' || this.clock.nowMs() >= deadlineMs) return;
    }
  }

  private async discoverOnce(deadlineMs: number): Promise<DiscoveryRound> {
    const budgetMs = Math.min(DISCOVERY_TIMEOUT_MS, deadlineMs - this.clock.nowMs());
    if (budgetMs <= 0 || this.closed) return 'done';
    const deadline = new Date(Date.now() + budgetMs);
    const answers = await Promise.allSettled(
      this.pool.addresses.map((address) => this.statusOf(this.pool.connection(address), deadline)),
    );
    if (this.closed) return 'done';
    const statuses: EndpointStatus[] = [];
    for (const answer of answers) if (answer.status === 'fulfilled') statuses.push(answer.value);
    const choice = chooseLeader(statuses);
    if (choice.kind !== 'ask-members') {
      this.pool.setLeader(choice.kind === 'endpoint' ? choice.endpoint : undefined);
      const timedOut = answers.some(
        (answer) => answer.status === 'rejected' && isDeadlineExceeded(answer.reason),
      );
      return statuses.length === 0 && timedOut ? 'timed out' : 'done';
    }
    try {
      const pb = await this.pool
        .connection(choice.askEndpoint)
        .unary<{ members: PbMember[] }>('cluster', 'MemberList', {}, new grpc.Metadata(), deadline);
      let leaderAddress: string | undefined;
      for (const member of pb.members.map(memberFromPb)) {
        const first = member.clientUrls[0];
        if (first === undefined) continue;
        const address = normalizeEndpoint(first);
        this.pool.add(address);
        if (member.id === choice.leaderId) leaderAddress = address;
      }
      this.pool.setLeader(leaderAddress);
    } catch {
      // Discovery is advisory: without it calls rotate through the endpoints.
      this.pool.setLeader(undefined);
    }
    return 'done';
  }

  private watchOpener(
    createRequest: (startRevision: number) => Record<string, unknown>,
    options: CallOptions,
  ): WatchOpener {
    return (startRevision) =>
      this.call('watch', options, (connection, deadline) =>
        createWatch(connection, createRequest(startRevision), deadline, this.clock),
      );
  }
}
