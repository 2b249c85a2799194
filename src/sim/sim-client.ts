import type { KvCommand, KvResult, RangeResponse } from '../kv/index.js';
import { isMeshError, type Random } from '../lib/index.js';
import { type NodeId, NotLeaderError } from '../raft/index.js';
import type { RaftKvBackend } from '../server/index.js';
import { ClosedLoopClient } from './closed-loop-client.js';
import type { HistoryOperation } from './linearizability/index.js';
import type { Scheduler } from './scheduler.js';

/** A client gives up on one attempt after this long without an answer. */
export const CLIENT_ATTEMPT_TIMEOUT_US = 300_000;
/** Attempts of one write (same session sequence) before it is recorded as unknown. */
const MAX_WRITE_ATTEMPTS = 6;
/** Pause before a retry, so a client does not spin while no leader is known. */
const RETRY_BACKOFF_MAX_US = 30_000;
/** Pause between two operations of one client. */
const THINK_TIME_MAX_US = 20_000;

/** What came back from a node for one request. */
export type RequestOutcome =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: unknown };

/** How clients reach the nodes and report what they saw. */
export interface ClientEnvironment {
  readonly scheduler: Scheduler;
  readonly nodeIds: readonly NodeId[];
  readonly keys: readonly string[];
  /** Self-test only: reads are serializable (answered from the node's local state). */
  readonly unsafeLocalReads: boolean;
  /**
   * Sends one request; `answer` runs at most once, never when the request or answer was lost.
   * True when the network will also deliver a late copy, which may take effect whatever the
   * answer says.
   */
  request(
    node: NodeId,
    work: (backend: RaftKvBackend) => Promise<unknown>,
    answer: (outcome: RequestOutcome) => void,
    isWrite: boolean,
  ): boolean;
  record(operation: HistoryOperation): void;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * One closed-loop client: one operation in flight at a time, reads by linearizable range on
 * any node, writes (put and compare-and-swap) on the leader with a session, retried under
 * the same sequence so a write applies at most once however often it is resent.
 */
export class SimClient extends ClosedLoopClient {
  private sequence = 0;
  private counter = 0;
  private attemptToken = 0;
  private leaderHint: NodeId | undefined;
  private readonly lastSeen = new Map<string, string | null>();
  readonly name: string;

  constructor(
    readonly index: number,
    private readonly environment: ClientEnvironment,
    private readonly random: Random,
  ) {
    super({
      scheduler: environment.scheduler,
      random,
      thinkTimeMaxUs: THINK_TIME_MAX_US,
      label: 'client op',
      order: index,
    });
    this.name = `c${index}`;
  }

  protected step(): void {
    const keys = this.environment.keys;
    const key = keys[this.random.nextInt(keys.length)]!;
    const roll = this.random.nextFloat();
    this.begun();
    if (roll < 0.4) this.read(key);
    else if (roll < 0.8) this.put(key);
    else this.compareAndSwap(key);
  }

  private finish(operation: HistoryOperation): void {
    this.environment.record(operation);
    this.done();
  }

  private now(): number {
    return this.environment.scheduler.nowUs;
  }

  private pickTarget(): NodeId {
    if (this.leaderHint !== undefined) return this.leaderHint;
    const ids = this.environment.nodeIds;
    return ids[this.random.nextInt(ids.length)]!;
  }

  /** Sends once with a timeout; `then` gets the outcome, or undefined on timeout. */
  private attempt(
    node: NodeId,
    work: (backend: RaftKvBackend) => Promise<unknown>,
    isWrite: boolean,
    then: (outcome: RequestOutcome | undefined) => void,
  ): boolean {
    const token = ++this.attemptToken;
    this.environment.scheduler.schedule(
      CLIENT_ATTEMPT_TIMEOUT_US,
      'client timeout',
      () => {
        if (token !== this.attemptToken) return;
        this.attemptToken++;
        then(undefined);
      },
      this.index,
    );
    return this.environment.request(
      node,
      work,
      (outcome) => {
        if (token !== this.attemptToken) return;
        this.attemptToken++;
        then(outcome);
      },
      isWrite,
    );
  }

  private read(key: string): void {
    const callTs = this.now();
    const node = this.random.chance(0.5) ? this.pickTarget() : this.randomNode();
    this.attempt(
      node,
      (backend) =>
        backend.range({
          type: 'range',
          key: encoder.encode(key),
          ...(this.environment.unsafeLocalReads ? { serializable: true } : {}),
        }),
      false,
      (outcome) => {
        const base = { client: this.name, op: 'get' as const, key, call_ts: callTs };
        if (outcome === undefined) {
          this.finish({ ...base, value: null, status: 'info' });
        } else if (!outcome.ok) {
          this.noteError(outcome.error);
          this.finish({ ...base, value: null, status: 'fail', return_ts: this.now() });
        } else {
          const found = (outcome.value as RangeResponse).kvs[0];
          const value = found === undefined ? null : decoder.decode(found.value);
          this.lastSeen.set(key, value);
          this.finish({ ...base, value, return_ts: this.now() });
        }
      },
    );
  }

  private randomNode(): NodeId {
    const ids = this.environment.nodeIds;
    return ids[this.random.nextInt(ids.length)]!;
  }

  private nextValue(): string {
    this.counter++;
    return `${this.name}-${this.counter}`;
  }

  private put(key: string): void {
    const value = this.nextValue();
    const callTs = this.now();
    const command: KvCommand = { type: 'put', key: encoder.encode(key), value: encoder.encode(value) };
    this.write(command, (status, returnTs) => {
      if (status === 'ok') this.lastSeen.set(key, value);
      this.finish({
        client: this.name,
        op: 'put',
        key,
        value,
        ...(status === 'ok' ? {} : { status }),
        call_ts: callTs,
        ...(returnTs === undefined ? {} : { return_ts: returnTs }),
      });
    });
  }

  private compareAndSwap(key: string): void {
    const expected = this.lastSeen.get(key) ?? null;
    const value = this.nextValue();
    const callTs = this.now();
    const keyBytes = encoder.encode(key);
    const command: KvCommand = {
      type: 'txn',
      compare: [
        expected === null
          ? { key: keyBytes, target: 'version', result: 'equal', number: 0 }
          : { key: keyBytes, target: 'value', result: 'equal', value: encoder.encode(expected) },
      ],
      success: [{ type: 'put', key: keyBytes, value: encoder.encode(value) }],
      failure: [],
    };
    this.write(command, (status, returnTs, result) => {
      const swapped = result?.type === 'txn' ? result.succeeded : false;
      if (status === 'ok' && swapped) this.lastSeen.set(key, value);
      if (status === 'ok' && !swapped) this.lastSeen.delete(key);
      this.finish({
        client: this.name,
        op: 'cas',
        key,
        value,
        expected,
        ...(status === 'ok' ? { ok: swapped } : { status }),
        call_ts: callTs,
        ...(returnTs === undefined ? {} : { return_ts: returnTs }),
      });
    });
  }

  /** Runs a write under one session sequence, retrying until answered or out of attempts. */
  private write(
    command: KvCommand,
    done: (status: 'ok' | 'fail' | 'info', returnTs: number | undefined, result?: KvResult) => void,
  ): void {
    this.sequence++;
    const session = { clientId: this.name, sequence: this.sequence };
    let attempts = 0;
    let mayHaveApplied = false;
    const retry = (): void => {
      if (attempts >= MAX_WRITE_ATTEMPTS) {
        done(mayHaveApplied ? 'info' : 'fail', mayHaveApplied ? undefined : this.now());
        return;
      }
      this.environment.scheduler.schedule(
        this.random.nextInt(RETRY_BACKOFF_MAX_US),
        'client retry',
        send,
        this.index,
      );
    };
    const send = (): void => {
      attempts++;
      const node = this.pickTarget();
      const replayed = this.attempt(
        node,
        (backend) => backend.execute(command, session),
        true,
        (outcome) => {
          if (outcome === undefined) {
            mayHaveApplied = true;
            this.leaderHint = undefined;
            retry();
          } else if (outcome.ok) {
            this.leaderHint = node;
            done('ok', this.now(), outcome.value as KvResult);
          } else {
            // NOT_LEADER is raised before proposing: that attempt certainly did nothing.
            if (!isMeshError(outcome.error, 'NOT_LEADER')) mayHaveApplied = true;
            this.noteError(outcome.error);
            retry();
          }
        },
      );
      // A late copy of this attempt may still be applied, whatever this attempt is told.
      if (replayed) mayHaveApplied = true;
    };
    send();
  }

  /** Follows a NOT_LEADER hint (raised here, or carried back from a forward as details). */
  private noteError(error: unknown): void {
    let hint: unknown;
    if (error instanceof NotLeaderError) hint = error.leaderId;
    else if (isMeshError(error, 'NOT_LEADER')) hint = (error.details as { leaderId?: unknown }).leaderId;
    this.leaderHint = typeof hint === 'number' && hint !== 0 ? hint : undefined;
  }
}
