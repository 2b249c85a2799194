/**
 * An in-memory `ChainsBackend` for tests of the chains API, client and CLI: one process, no
 * replication (every chain is led by node 1 in epoch 1 and every append commits at once), with
 * knobs for what a test must provoke: queued failures per method, appends held until their
 * deadline, a small subscriber buffer, and offsets taken by a leader's epoch-start marker.
 */
import {
  type ChainAppendResult,
  type ChainCreateInput,
  type ChainReadResult,
  type ChainRecord,
  type ChainRecordStream,
  type ChainStatus,
  type ChainSummary,
  type ChainsBackend,
  chainRecordStream,
} from '../../src/api/index.js';
import {
  type AcksPolicy,
  ChainAppendOutcomeUnknownError,
  ChainExistsError,
  ChainNotFoundError,
  ChainOffsetTruncatedError,
  ChainRecordTooLargeError,
  ChainSubscriberTooSlowError,
  validateChainCreate,
} from '../../src/chains/index.js';
import type { NodeId } from '../../src/lib/index.js';

const DEFAULT_MAX_RECORD_BYTES = 1024 * 1024;
const DEFAULT_SUBSCRIBER_BUFFER_RECORDS = 1_000;
/** The fake's epoch and leader: it never changes leader. */
const FAKE_EPOCH = 1;
const FAKE_LEADER: NodeId = 1;

interface FakeChain {
  readonly input: ChainCreateInput;
  /** By offset; undefined where an epoch-start marker is (readers skip it). */
  readonly records: (ChainRecord | undefined)[];
  deleted: boolean;
}

interface Subscriber {
  next: number;
  /** The chain's end when it subscribed: only records appended later count against its buffer. */
  readonly liveFrom: number;
  tooSlow: boolean;
  wake: () => void;
}

export interface FakeChainsBackendOptions {
  readonly subscriberBufferRecords?: number;
  readonly nowMs?: () => number;
}

export class FakeChainsBackend implements ChainsBackend {
  private readonly chains = new Map<string, FakeChain>();
  private readonly subscribers = new Map<string, Set<Subscriber>>();
  private readonly failures = new Map<keyof ChainsBackend, Error[]>();
  private readonly subscriberBufferRecords: number;
  private readonly nowMs: () => number;
  /** The timeout each append was given, in call order. */
  readonly appendTimeoutsMs: number[] = [];
  /** Appends that reached the backend (including those that failed). */
  appendCalls = 0;
  /** When set, appends wait out their timeout and end with CHAIN_APPEND_OUTCOME_UNKNOWN. */
  holdAppends = false;
  /** While set, appends (to its chain only, when it names one) wait for it: `gateAppends`. */
  private appendGate: { readonly opened: Promise<void>; readonly chain?: string } | undefined;

  constructor(options: FakeChainsBackendOptions = {}) {
    this.subscriberBufferRecords = options.subscriberBufferRecords ?? DEFAULT_SUBSCRIBER_BUFFER_RECORDS;
    this.nowMs = options.nowMs ?? (() => Date.now());
  }

  /** The next `count` calls of `method` reject with `error` (before doing anything). */
  failNext(method: keyof ChainsBackend, error: Error, count = 1): void {
    const queue = this.failures.get(method) ?? [];
    for (let index = 0; index < count; index++) queue.push(error);
    this.failures.set(method, queue);
  }

  /** Holds every append (or those to `chain`), new and waiting, until the answered release is called. */
  gateAppends(chain?: string): () => void {
    let release = (): void => {};
    const opened = new Promise<void>((resolve) => {
      release = () => {
        this.appendGate = undefined;
        resolve();
      };
    });
    this.appendGate = { opened, ...(chain === undefined ? {} : { chain }) };
    return release;
  }

  /**
   * Commits an epoch-start marker at the chain's end, as a new leader does: an offset that no
   * reader gets a record for. (The fake's epoch and leader stay as they are.)
   */
  appendMarker(name: string): void {
    const chain = this.chainNamed(name);
    chain.records.push(undefined);
    for (const subscriber of this.subscribers.get(name) ?? []) subscriber.wake();
  }

  /** Drops every queued failure. */
  clearFailures(): void {
    this.failures.clear();
  }

  /** Subscriptions whose iterator is still running. */
  get openSubscriptions(): number {
    let open = 0;
    for (const set of this.subscribers.values()) open += set.size;
    return open;
  }

  async create(input: ChainCreateInput): Promise<ChainStatus> {
    this.takeFailure('create');
    // The real backend's checks (replicas in range, a valid name), so no request is held here that a node refuses.
    validateChainCreate(input);
    if (this.chains.has(input.name)) throw new ChainExistsError(input.name);
    this.chains.set(input.name, { input, records: [], deleted: false });
    return this.statusOf(input.name);
  }

  async delete(name: string): Promise<void> {
    this.takeFailure('delete');
    const chain = this.chainNamed(name);
    chain.deleted = true;
    this.chains.delete(name);
    for (const subscriber of this.subscribers.get(name) ?? []) subscriber.wake();
  }

  async append(name: string, payloads: readonly Uint8Array[], timeoutMs: number): Promise<ChainAppendResult> {
    this.appendCalls += 1;
    this.appendTimeoutsMs.push(timeoutMs);
    this.takeFailure('append');
    const chain = this.chainNamed(name);
    const maxRecordBytes = chain.input.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    for (const payload of payloads) {
      if (payload.length > maxRecordBytes)
        throw new ChainRecordTooLargeError(name, payload.length, maxRecordBytes);
    }
    const gate = this.appendGate;
    if (gate !== undefined && (gate.chain === undefined || gate.chain === name)) await gate.opened;
    if (this.holdAppends) {
      await new Promise((resolve) => setTimeout(resolve, timeoutMs));
      throw new ChainAppendOutcomeUnknownError(name, `not acknowledged within ${timeoutMs} ms`);
    }
    const firstOffset = chain.records.length;
    for (const payload of payloads) {
      chain.records.push({
        offset: chain.records.length,
        epoch: FAKE_EPOCH,
        appendedAtMs: this.nowMs(),
        payload: Uint8Array.from(payload),
      });
    }
    for (const subscriber of this.subscribers.get(name) ?? []) {
      const buffered = chain.records.length - Math.max(subscriber.next, subscriber.liveFrom);
      if (buffered > this.subscriberBufferRecords) subscriber.tooSlow = true;
      subscriber.wake();
    }
    return { epoch: FAKE_EPOCH, firstOffset, lastOffset: chain.records.length - 1 };
  }

  async read(name: string, fromOffset: number, limit: number, maxBytes: number): Promise<ChainReadResult> {
    this.takeFailure('read');
    const chain = this.chainNamed(name);
    const records: ChainRecord[] = [];
    let bytes = 0;
    for (let offset = fromOffset; offset < chain.records.length && records.length < limit; offset++) {
      const record = chain.records[offset];
      if (record === undefined) continue;
      if (records.length > 0 && bytes + record.payload.length > maxBytes) break;
      records.push(record);
      bytes += record.payload.length;
    }
    const last = records.at(-1);
    return {
      records,
      // As a node answers: nothing below the end but markers, and the next read starts at the end.
      nextOffset: last === undefined ? Math.max(fromOffset, chain.records.length) : last.offset + 1,
      commitOffset: chain.records.length,
    };
  }

  subscribe(name: string, fromOffset: number, signal: AbortSignal): ChainRecordStream {
    this.takeFailure('subscribe');
    const passed = { offset: fromOffset };
    return chainRecordStream(
      () => this.subscription(name, passed, signal),
      signal,
      () => passed.offset,
    );
  }

  async status(name: string): Promise<ChainStatus> {
    this.takeFailure('status');
    return this.statusOf(name);
  }

  async list(): Promise<readonly ChainSummary[]> {
    this.takeFailure('list');
    return [...this.chains.values()]
      .map(({ input }) => ({
        name: input.name,
        epoch: FAKE_EPOCH,
        leader: FAKE_LEADER,
        acks: input.acks as AcksPolicy,
        replicas: replicaNodes(input.replicas),
      }))
      .sort((left, right) => (left.name < right.name ? -1 : left.name > right.name ? 1 : 0));
  }

  private async *subscription(
    name: string,
    passed: { offset: number },
    signal: AbortSignal,
  ): AsyncGenerator<readonly ChainRecord[]> {
    const fromOffset = passed.offset;
    const chain = this.chainNamed(name);
    if (fromOffset < 0) throw new ChainOffsetTruncatedError(name, fromOffset, 0);
    const subscriber: Subscriber = {
      next: fromOffset,
      liveFrom: chain.records.length,
      tooSlow: false,
      wake: () => {},
    };
    const set = this.subscribers.get(name) ?? new Set<Subscriber>();
    this.subscribers.set(name, set);
    set.add(subscriber);
    try {
      while (!signal.aborted) {
        if (chain.deleted) throw new ChainNotFoundError(name);
        if (subscriber.tooSlow) throw new ChainSubscriberTooSlowError(name, this.subscriberBufferRecords);
        // Everything committed since the last batch, as one batch (a node's read is bounded; the
        // port splits batches into messages by its own budget anyway).
        // What was handed over is taken once the consumer asks again.
        passed.offset = subscriber.next;
        if (subscriber.next < chain.records.length) {
          const batch = chain.records.slice(subscriber.next).filter((record) => record !== undefined);
          subscriber.next = chain.records.length;
          if (batch.length > 0) yield batch;
          continue;
        }
        await new Promise<void>((resolve) => {
          subscriber.wake = resolve;
          signal.addEventListener('abort', () => resolve(), { once: true });
        });
      }
    } finally {
      set.delete(subscriber);
    }
  }

  private statusOf(name: string): ChainStatus {
    const chain = this.chainNamed(name);
    const end = chain.records.length;
    return {
      name,
      epoch: FAKE_EPOCH,
      leader: FAKE_LEADER,
      acks: chain.input.acks,
      replicas: replicaNodes(chain.input.replicas).map((node) => ({
        node,
        offset: end,
        lag: 0,
        healthy: true,
      })),
      commitOffset: end,
      startOffset: 0,
    };
  }

  private chainNamed(name: string): FakeChain {
    const chain = this.chains.get(name);
    if (chain === undefined) throw new ChainNotFoundError(name);
    return chain;
  }

  private takeFailure(method: keyof ChainsBackend): void {
    const error = this.failures.get(method)?.shift();
    if (error !== undefined) throw error;
  }
}

function replicaNodes(count: number): NodeId[] {
  return Array.from({ length: count }, (_, index) => index + 1);
}
