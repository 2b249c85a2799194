/**
 * Chain requests from any node (docs/CHAINS.md "On a running node"): create places the replicas
 * and commits epoch 1 with its leader; append runs on the chain's leader (here, or forwarded over
 * the chains channel with the caller's deadline); read and subscribe use this node's replica
 * when it holds one, else the leader's; status is the leader's view. An append is retried on a
 * new leader only while it is known not to have been written; otherwise its outcome is reported
 * unknown, never guessed. The client port serves it as `meshos.v1.Chains`.
 */
import {
  type ChainAppendResult,
  type ChainCreateInput,
  type ChainReadResult,
  type ChainRecord,
  type ChainRecordStream,
  type ChainReplicaStatus,
  type ChainStatus,
  type ChainSummary,
  type ChainsBackend,
  chainRecordStream,
} from '../api/index.js';
import {
  ChainAppendOutcomeUnknownError,
  type ChainDefinition,
  type ChainDirectory,
  type ChainEntry,
  type ChainHost,
  type ChainMessage,
  ChainNotFoundError,
  ChainUnavailableError,
  type HostAnswer,
  type HostedReplica,
  type HostedReplicaStatus,
  type HostRequest,
  majorityOf,
  SharedAppends,
  validateChainCreate,
} from '../chains/index.js';
import { type Clock, isMeshError, MeshError, type NodeId, PeerRequestError } from '../lib/index.js';

/** Longest wait between two looks at a chain with no usable leader, within the deadline. */
export const LEADER_RETRY_WAIT_MS = 200;
/** A forwarded append whose callers gave no budget (never on the gRPC path, which always does). */
export const DEFAULT_FORWARDED_APPEND_TIMEOUT_MS = 10_000;
/** A read, status or subscription step waits this long for a remote answer. */
export const CHAIN_READ_TIMEOUT_MS = 5_000;
/** Most records one read answers; a reader asks again from where it stopped. */
export const MAX_READ_RECORDS = 1_000;
/** About how many bytes one read answers (always at least one record). */
export const MAX_READ_BYTES = 1024 * 1024;
/** How long one step of a subscription waits for new records before it asks again. */
export const SUBSCRIBE_WAIT_MS = 1_000;
/**
 * How long create waits for the new leader to claim epoch 1 before it answers anyway (the claim
 * pending: replicas shown unhealthy). Below clients' usual call deadlines, so the answer arrives.
 */
export const CREATE_CLAIM_WAIT_MS = 2_000;
/** Between two looks at the new leader's status while create waits for its claim. */
export const CREATE_CLAIM_POLL_MS = 25;

/**
 * Codes that prove an append was not written, so it may go to the new leader (the
 * `notWritten` column of src/protocol/chain-errors.ts, which clients use the same way).
 */
const NOT_WRITTEN_CODES: ReadonlySet<string> = new Set([
  'CHAIN_NOT_LEADER',
  'CHAIN_UNAVAILABLE',
  'CHAIN_OVERLOADED',
]);

/** Where a new chain goes: its replica set and the leader of epoch 1. */
export type ChainPlacer = (request: {
  readonly name: string;
  readonly replicaCount: number;
  readonly origin: NodeId;
  readonly existing: readonly ChainDefinition[];
}) => Promise<{ readonly replicas: readonly NodeId[]; readonly leader: NodeId }>;

/** The chain definitions in the control plane, as requests change them (a `ChainDirectory`). */
export type ChainDefinitionStore = Pick<ChainDirectory, 'get' | 'create' | 'delete'>;

/** What a node's chain requests counted (kept across restarts of the chains service). */
export interface ChainRequestCounters {
  appends: number;
  appendRecords: number;
  forwardedAppends: number;
  appendFailures: number;
  failoverProposals: number;
}

export function newChainRequestCounters(): ChainRequestCounters {
  return { appends: 0, appendRecords: 0, forwardedAppends: 0, appendFailures: 0, failoverProposals: 0 };
}

export interface ChainRequestsOptions<M extends ChainMessage> {
  readonly host: ChainHost<M>;
  readonly counters?: ChainRequestCounters;
  readonly store: ChainDefinitionStore;
  readonly place: ChainPlacer;
  readonly clock: Clock;
  /** Where forwarded appends of one turn are sent together; default `setImmediate` (a node passes its `endOfTurn`). */
  readonly atEndOfTurn?: (action: () => void) => void;
}

export class ChainRequests<M extends ChainMessage> implements ChainsBackend {
  readonly counters: ChainRequestCounters;
  /** Appends of one turn forwarded to one chain's leader share one request. */
  private readonly sharedForwards: SharedAppends<{ readonly name: string; readonly leader: NodeId }>;

  constructor(private readonly options: ChainRequestsOptions<M>) {
    this.counters = options.counters ?? newChainRequestCounters();
    this.sharedForwards = new SharedAppends(
      ({ name, leader }, payloads, timeoutMs) =>
        this.forwardAppend(name, leader, payloads, timeoutMs ?? DEFAULT_FORWARDED_APPEND_TIMEOUT_MS),
      options.clock,
      options.atEndOfTurn,
    );
    options.host.onRequest((_from, request) => this.serveForwarded(request));
  }

  /** Checks the request, places it (this node is its origin), and commits epoch 1. */
  async create(input: ChainCreateInput): Promise<ChainStatus> {
    const { host } = this.options;
    const request = { ...input, origin: host.self };
    const spec = validateChainCreate(request);
    const placement = await this.options.place({
      name: spec.name,
      replicaCount: spec.replicaCount,
      origin: host.self,
      existing: host.definitions(),
    });
    const stored = await this.options.store.create(request, placement);
    return this.claimedStatus(stored.definition);
  }

  /**
   * The new chain's status once its leader has claimed epoch 1 (a majority of replicas healthy
   * in the leader's view), so the answer and the next `status` agree; after
   * `CREATE_CLAIM_WAIT_MS` the status as it stands, the claim still pending.
   */
  private async claimedStatus(definition: ChainDefinition): Promise<ChainStatus> {
    const { clock } = this.options;
    const deadlineMs = clock.nowMs() + CREATE_CLAIM_WAIT_MS;
    for (;;) {
      const status = await this.status(definition.name).catch(() => statusView(definition, undefined));
      const healthy = status.replicas.filter((replica) => replica.healthy).length;
      const remainingMs = deadlineMs - clock.nowMs();
      if (healthy >= majorityOf(status.replicas.length) || remainingMs <= 0) return status;
      await new Promise<void>((resolve) =>
        clock.setTimer(Math.min(remainingMs, CREATE_CLAIM_POLL_MS), resolve),
      );
    }
  }

  delete(name: string): Promise<void> {
    return this.options.store.delete(name);
  }

  async list(): Promise<readonly ChainSummary[]> {
    return this.options.host
      .definitions()
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((definition) => ({
        name: definition.name,
        epoch: definition.epoch,
        leader: definition.leader ?? 0,
        acks: definition.acks,
        replicas: definition.replicas,
      }));
  }

  /** The definition as this node follows it, else as the control plane has it now. */
  async definition(name: string): Promise<ChainDefinition> {
    const definition = this.options.host.definition(name) ?? (await this.options.store.get(name))?.definition;
    if (definition === undefined) throw new ChainNotFoundError(name);
    return definition;
  }

  /**
   * Appends `payloads` as consecutive records on the chain's leader; resolves once the chain's
   * acks policy is met. Rejects with `CHAIN_UNAVAILABLE` (not written: retry freely) or
   * `CHAIN_APPEND_OUTCOME_UNKNOWN` (it may be in the chain).
   */
  async append(name: string, payloads: readonly Uint8Array[], timeoutMs: number): Promise<ChainAppendResult> {
    const { host, clock } = this.options;
    const deadlineMs = clock.nowMs() + timeoutMs;
    let notWritten: unknown;
    for (;;) {
      // A closed host answers every wait at once: looking again would spin until the deadline.
      if (host.isClosed) {
        this.counters.appendFailures += 1;
        throw new ChainUnavailableError(name, `the chains service of node ${host.self} stopped`, notWritten);
      }
      // Whole milliseconds: the deadline crosses the wire with a forwarded append.
      const remainingMs = Math.floor(deadlineMs - clock.nowMs());
      if (remainingMs <= 0) {
        this.counters.appendFailures += 1;
        throw new ChainUnavailableError(name, `no leader took the append within ${timeoutMs} ms`, notWritten);
      }
      const definition = await this.definition(name);
      const leader = definition.leader;
      const local = leader === host.self ? host.replica(name) : undefined;
      if (leader === undefined || (leader === host.self && local === undefined)) {
        await host.nextChange(Math.min(remainingMs, LEADER_RETRY_WAIT_MS));
        continue;
      }
      try {
        const result =
          local !== undefined
            ? await this.appendLocally(name, local, payloads, remainingMs)
            : await this.appendOnLeader(name, leader, payloads, remainingMs);
        this.counters.appends += 1;
        this.counters.appendRecords += payloads.length;
        return result;
      } catch (error) {
        if (!knownNotWritten(error)) {
          this.counters.appendFailures += 1;
          throw error;
        }
        notWritten = error;
        // The leader moved (or is being replaced): look again once the definition changes; a
        // leader still claiming its epoch also once this node's replica commits (its marker).
        const waitMs = Math.min(deadlineMs - clock.nowMs(), LEADER_RETRY_WAIT_MS);
        await (isMeshError(error, 'CHAIN_NOT_LEADER')
          ? this.nextCommitOrChange(name, waitMs)
          : host.nextChange(waitMs));
      }
    }
  }

  /**
   * Resolves at the next definition change, at the next commit of this node's replica of `name`
   * (a new leader still claiming refuses appends until its epoch starts; its marker's commit is
   * the sign, here or on a follower), or after `waitMs`.
   */
  private nextCommitOrChange(name: string, waitMs: number): Promise<void> {
    const { host } = this.options;
    const change = host.nextChange(waitMs);
    const replica = host.replica(name);
    if (replica === undefined) return change;
    let unsubscribe: () => void = () => undefined;
    const committed = new Promise<void>((resolve) => {
      unsubscribe = replica.onCommit(() => resolve());
    });
    return Promise.race([change, committed]).finally(() => unsubscribe());
  }

  /** Committed records from `fromOffset`: this node's replica, else the leader's (or another's). */
  read(name: string, fromOffset: number, limit: number, maxBytes: number): Promise<ChainReadResult> {
    return this.readWaiting(name, fromOffset, limit, maxBytes, 0);
  }

  /** Every committed record from `fromOffset` on, as they commit, until `signal` aborts. */
  subscribe(name: string, fromOffset: number, signal: AbortSignal): ChainRecordStream {
    const passed = { offset: fromOffset };
    return chainRecordStream(
      () => this.subscribeBatches(name, passed, signal),
      signal,
      () => passed.offset,
    );
  }

  /**
   * One read at a time (so the buffer is one read), waiting for the next commit between reads.
   * `passed.offset` moves where the next read starts once the consumer asked for it: past the
   * records it took, and past markers a read found without a record after them.
   */
  private async *subscribeBatches(
    name: string,
    passed: { offset: number },
    signal: AbortSignal,
  ): AsyncGenerator<readonly ChainRecord[]> {
    let offset = passed.offset;
    while (!signal.aborted) {
      passed.offset = offset;
      const batch = await this.readWaiting(name, offset, MAX_READ_RECORDS, MAX_READ_BYTES, SUBSCRIBE_WAIT_MS);
      offset = batch.nextOffset;
      if (signal.aborted) return;
      if (batch.records.length > 0) yield batch.records;
    }
  }

  /** The leader's view; this node's own when the leader cannot be reached. */
  async status(name: string): Promise<ChainStatus> {
    const { host } = this.options;
    const definition = await this.definition(name);
    const leader = definition.leader;
    if (leader !== undefined && leader !== host.self) {
      try {
        const request: HostRequest = { type: 'status', chain: name };
        const answer = expectAnswer(await host.forward(leader, request, CHAIN_READ_TIMEOUT_MS), 'status');
        return JSON.parse(answer.json) as ChainStatus;
      } catch {
        // Answered below from this node's view.
      }
    }
    return statusView(definition, host.replica(name)?.status());
  }

  private async readWaiting(
    name: string,
    fromOffset: number,
    limit: number,
    maxBytes: number,
    waitMs: number,
  ): Promise<ChainReadResult> {
    const request: Extract<HostRequest, { type: 'read' }> = {
      type: 'read',
      chain: name,
      fromOffset,
      maxRecords: Math.max(1, Math.min(limit, MAX_READ_RECORDS)),
      maxBytes: Math.max(1, Math.min(maxBytes, MAX_READ_BYTES)),
      waitMs,
    };
    const { entries, commitOffset } = await this.readEntries(request);
    const last = entries[entries.length - 1];
    return {
      records: entries
        .filter((entry) => entry.kind === 'data')
        .map(({ offset, epoch, appendedAtMs, payload }) => ({ offset, epoch, appendedAtMs, payload })),
      // Nothing answered below the commit offset means only epoch markers were there.
      nextOffset: last === undefined ? Math.max(fromOffset, commitOffset) : last.offset + 1,
      commitOffset,
    };
  }

  private appendLocally(
    name: string,
    replica: HostedReplica<M>,
    payloads: readonly Uint8Array[],
    timeoutMs: number,
  ): Promise<ChainAppendResult> {
    return this.acknowledgedWithin(name, replica.append(payloads), timeoutMs);
  }

  /** Forwards the append to `leader`, together with the other appends to it in this turn. */
  private appendOnLeader(
    name: string,
    leader: NodeId,
    payloads: readonly Uint8Array[],
    timeoutMs: number,
  ): Promise<ChainAppendResult> {
    this.counters.forwardedAppends += 1;
    const shared = this.sharedForwards.append(`${leader}:${name}`, { name, leader }, payloads, timeoutMs);
    // The shared request runs to the longest budget among its appends; this one ends at its own.
    return this.acknowledgedWithin(name, shared, timeoutMs);
  }

  /** The append's result, or outcome unknown once `timeoutMs` passed without one. */
  private async acknowledgedWithin(
    name: string,
    append: Promise<ChainAppendResult>,
    timeoutMs: number,
  ): Promise<ChainAppendResult> {
    const outcome = await withDeadline(append, timeoutMs, this.options.clock);
    if (outcome === undefined)
      throw new ChainAppendOutcomeUnknownError(name, `not acknowledged within ${timeoutMs} ms`);
    return outcome;
  }

  private async forwardAppend(
    name: string,
    leader: NodeId,
    payloads: readonly Uint8Array[],
    timeoutMs: number,
  ): Promise<ChainAppendResult> {
    let answer: HostAnswer;
    try {
      const request: HostRequest = { type: 'append', chain: name, payloads, timeoutMs };
      answer = await this.options.host.forward(leader, request, timeoutMs);
    } catch (error) {
      if (error instanceof PeerRequestError && error.sent)
        throw new ChainAppendOutcomeUnknownError(name, error.message, error);
      throw error;
    }
    const { epoch, firstOffset, lastOffset } = expectAnswer(answer, 'append');
    return { epoch, firstOffset, lastOffset };
  }

  private async readEntries(
    request: Extract<HostRequest, { type: 'read' }>,
  ): Promise<{ entries: readonly ChainEntry[]; commitOffset: number }> {
    const { host } = this.options;
    const local = host.replica(request.chain);
    if (local !== undefined) return this.readLocally(local, request);
    const definition = await this.definition(request.chain);
    // The leader first, then the other replicas: any of them answers committed records only.
    const sources = [
      ...(definition.leader === undefined ? [] : [definition.leader]),
      ...definition.replicas.filter((node) => node !== definition.leader),
    ];
    let lastError: unknown;
    for (const source of sources) {
      try {
        const answer = await host.forward(source, request, CHAIN_READ_TIMEOUT_MS + request.waitMs);
        return expectAnswer(answer, 'read');
      } catch (error) {
        // A typed refusal (truncated offset, deleted chain) is the answer; a silent replica is not.
        if (!(error instanceof PeerRequestError) && !knownNotWritten(error)) throw error;
        lastError = error;
      }
    }
    throw new ChainUnavailableError(request.chain, 'no replica answered the read', lastError);
  }

  private async readLocally(
    replica: HostedReplica<M>,
    request: Extract<HostRequest, { type: 'read' }>,
  ): Promise<{ entries: readonly ChainEntry[]; commitOffset: number }> {
    if (request.waitMs > 0 && replica.commitOffset <= request.fromOffset) {
      await new Promise<void>((resolve) => {
        const { clock } = this.options;
        const done = (): void => {
          unsubscribe();
          clock.clearTimer(timer);
          resolve();
        };
        const timer = clock.setTimer(request.waitMs, done);
        const unsubscribe = replica.onCommit((commitOffset) => {
          if (commitOffset > request.fromOffset) done();
        });
      });
    }
    const commitOffset = replica.commitOffset;
    const entries =
      request.fromOffset >= commitOffset
        ? []
        : await replica.read(request.fromOffset, request.maxRecords, request.maxBytes);
    return { entries, commitOffset };
  }

  /** A request another node forwarded here: served by this node's replica only, never forwarded on. */
  private async serveForwarded(request: HostRequest): Promise<HostAnswer> {
    const { host } = this.options;
    const replica = host.replica(request.chain);
    switch (request.type) {
      case 'append': {
        const definition = host.definition(request.chain);
        if (replica === undefined || definition?.leader !== host.self)
          throw new MeshError('CHAIN_NOT_LEADER', `node ${host.self} does not lead chain '${request.chain}'`);
        const appended = await this.appendLocally(
          request.chain,
          replica,
          request.payloads,
          request.timeoutMs,
        );
        return { type: 'append', ...appended };
      }
      case 'read': {
        if (replica === undefined)
          throw new ChainUnavailableError(request.chain, `node ${host.self} holds no replica`);
        return { type: 'read', ...(await this.readLocally(replica, request)) };
      }
      case 'status': {
        const definition = await this.definition(request.chain);
        return { type: 'status', json: JSON.stringify(statusView(definition, replica?.status())) };
      }
    }
  }
}

function knownNotWritten(error: unknown): boolean {
  if (error instanceof PeerRequestError) return !error.sent;
  return error instanceof MeshError && NOT_WRITTEN_CODES.has(error.code);
}

/** The answer of the expected type; an error answer is rethrown with its code. */
function expectAnswer<T extends HostAnswer['type']>(
  answer: HostAnswer,
  type: T,
): Extract<HostAnswer, { type: T }> {
  if (answer.type === 'error') throw new MeshError(answer.code, answer.message);
  if (answer.type !== type)
    throw new MeshError('CHAIN_HOST_MESSAGE', `expected a ${type} answer, got ${answer.type}`);
  return answer as Extract<HostAnswer, { type: T }>;
}

/** Resolves with the value, or undefined once `timeoutMs` passed first. */
function withDeadline<T>(promise: Promise<T>, timeoutMs: number, clock: Clock): Promise<T | undefined> {
  return new Promise<T | undefined>((resolve, reject) => {
    const timer = clock.setTimer(Math.max(0, timeoutMs), () => resolve(undefined));
    promise.then(
      (value) => {
        clock.clearTimer(timer);
        resolve(value);
      },
      (error: unknown) => {
        clock.clearTimer(timer);
        reject(error);
      },
    );
  });
}

/** The definition with the replica's own view where it has one (a leader's has every replica's). */
function statusView(definition: ChainDefinition, replica: HostedReplicaStatus | undefined): ChainStatus {
  const unknown = (node: NodeId): ChainReplicaStatus => ({ node, offset: 0, lag: 0, healthy: false });
  const learners = replica?.learners ?? (definition.learners ?? []).map(unknown);
  return {
    name: definition.name,
    epoch: definition.epoch,
    leader: definition.leader ?? 0,
    acks: definition.acks,
    replicas: replica?.replicas ?? definition.replicas.map(unknown),
    ...(learners.length === 0 ? {} : { learners }),
    commitOffset: replica?.commitOffset ?? 0,
    startOffset: replica?.startOffset ?? 0,
    ...(replica?.epochStartOffset === undefined ? {} : { epochStartOffset: replica.epochStartOffset }),
  };
}
