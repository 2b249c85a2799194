/**
 * One `AppendStream` call to one node: appends are pipelined on it, each with its own id and
 * deadline, and answered as they commit, in any order. At most
 * `MAX_APPEND_STREAM_IN_FLIGHT_APPENDS` (and `_BYTES`) are sent and not yet answered; an append
 * beyond that waits for room, first come first sent, until its deadline (then it was never sent).
 *
 * What a caller learns is never a guess: an append the node answered gets its offsets or its own
 * typed failure; one whose deadline passed after it was sent fails with
 * `CHAIN_APPEND_OUTCOME_UNKNOWN` (its room is held until the node answers it, as the node holds
 * it; a node silent `APPEND_STREAM_ANSWER_GRACE_MS` past that breaks the stream). When the stream
 * breaks, every append sent on it fails with `CHAIN_APPEND_OUTCOME_UNKNOWN`, unless the call
 * never reached the node (no connection, or a node that does not serve AppendStream): then, as
 * for those still waiting for room, nothing was sent and the failure is retryable.
 */
import * as grpc from '@grpc/grpc-js';
import type { ChainAppendResult } from '../api/index.js';
import { payloadBytes } from '../chains/shared-appends.js';
import type { Clock, TimerId } from '../lib/index.js';
import {
  MAX_APPEND_STREAM_IN_FLIGHT_APPENDS,
  MAX_APPEND_STREAM_IN_FLIGHT_BYTES,
  type PbAppendStreamResponse,
} from '../protocol/index.js';
import { chainAppendFailureError } from './chain-errors.js';
import { toNumber } from './convert.js';
import type { EndpointConnection } from './endpoint.js';
import { MeshClientError, UnavailableError } from './errors.js';
import {
  APPEND_STREAM_ANSWER_GRACE_MS,
  APPEND_STREAM_IDLE_CLOSE_MS,
  MAX_APPEND_STREAM_WAITING_APPENDS,
} from './limits.js';
import { callNeverLeft } from './service-errors.js';

interface SentAppend {
  readonly bytes: number;
  /** The caller has its answer (or its deadline passed); the room is kept until the node answers. */
  settled: boolean;
  timer: TimerId | undefined;
  readonly resolve: (result: ChainAppendResult) => void;
  readonly reject: (error: MeshClientError) => void;
}

interface WaitingAppend {
  readonly bytes: number;
  readonly send: () => void;
  readonly reject: (error: MeshClientError) => void;
  readonly timer: TimerId;
}

/** How a stream ended, for its owner: `refused` when the node does not serve AppendStream. */
export type AppendStreamEnd = { readonly refused: boolean };

export class ChainAppendStream {
  private readonly call: grpc.ClientDuplexStream<unknown, unknown>;
  private readonly sent = new Map<number, SentAppend>();
  private sentBytes = 0;
  private readonly waiting: WaitingAppend[] = [];
  private nextId = 1;
  /** `ending`: idle, half-closed by us; `ended`: the call is over. */
  private state: 'open' | 'ending' | 'ended' = 'open';
  private idleTimer: TimerId | undefined;

  constructor(
    readonly connection: EndpointConnection,
    private readonly clock: Clock,
    private readonly onEnd: (stream: ChainAppendStream, end: AppendStreamEnd) => void,
  ) {
    this.call = connection.duplex('chains', 'AppendStream', new grpc.Metadata());
    this.call.on('data', (response: PbAppendStreamResponse) => this.answered(response));
    // grpc-js reports every end, clean or not, as a status; 'error' repeats the failing ones.
    this.call.on('status', (status: grpc.StatusObject) => this.ended(status));
    this.call.on('error', () => {});
  }

  /** Whether new appends may go on this stream. */
  get accepting(): boolean {
    return this.state === 'open';
  }

  /** Appends sent and not yet answered by the node. */
  get inFlight(): number {
    return this.sent.size;
  }

  /** Appends waiting for room. */
  get waitingCount(): number {
    return this.waiting.length;
  }

  /** Sends one append (consecutive records) when there is room; resolves with the node's answer. */
  append(name: string, payloads: readonly Uint8Array[], timeoutMs: number): Promise<ChainAppendResult> {
    const bytes = payloadBytes(payloads);
    const deadlineMs = this.clock.nowMs() + timeoutMs;
    return new Promise<ChainAppendResult>((resolve, reject) => {
      if (!this.accepting) {
        reject(this.notSent('the append stream is closing'));
        return;
      }
      const send = (): void => this.send(name, payloads, bytes, deadlineMs, resolve, reject);
      if (this.waiting.length === 0 && this.hasRoom(bytes)) {
        send();
        return;
      }
      if (this.waiting.length >= MAX_APPEND_STREAM_WAITING_APPENDS) {
        reject(
          this.noRoom(
            `MAX_APPEND_STREAM_WAITING_APPENDS (${MAX_APPEND_STREAM_WAITING_APPENDS}) wait for room`,
          ),
        );
        return;
      }
      const waiter: WaitingAppend = {
        bytes,
        send,
        reject,
        timer: this.clock.setTimer(timeoutMs, () => {
          const index = this.waiting.indexOf(waiter);
          if (index >= 0) this.waiting.splice(index, 1);
          reject(this.noRoom(`no room on the append stream within ${timeoutMs} ms`));
        }),
      };
      this.waiting.push(waiter);
    });
  }

  /** Ends the call; whatever was sent fails as outcome unknown, whatever waits as not sent. */
  close(): void {
    if (this.state === 'ended') return;
    this.call.cancel();
  }

  private hasRoom(bytes: number): boolean {
    if (this.sent.size === 0) return true;
    return (
      this.sent.size < MAX_APPEND_STREAM_IN_FLIGHT_APPENDS &&
      this.sentBytes + bytes <= MAX_APPEND_STREAM_IN_FLIGHT_BYTES
    );
  }

  private send(
    name: string,
    payloads: readonly Uint8Array[],
    bytes: number,
    deadlineMs: number,
    resolve: (result: ChainAppendResult) => void,
    reject: (error: MeshClientError) => void,
  ): void {
    if (this.idleTimer !== undefined) this.clock.clearTimer(this.idleTimer);
    this.idleTimer = undefined;
    const id = this.nextId++;
    const timeoutMs = Math.max(1, Math.floor(deadlineMs - this.clock.nowMs()));
    const append: SentAppend = { bytes, settled: false, timer: undefined, resolve, reject };
    append.timer = this.clock.setTimer(timeoutMs, () => this.expired(id, timeoutMs));
    this.sent.set(id, append);
    this.sentBytes += bytes;
    this.call.write({ request_id: id, name, payloads, timeout_ms: timeoutMs });
  }

  /** The append's deadline passed unanswered: it was sent, so its outcome is unknown. */
  private expired(id: number, timeoutMs: number): void {
    const append = this.sent.get(id);
    if (append === undefined || append.settled) return;
    append.settled = true;
    append.reject(
      this.outcomeUnknown(
        `the append was sent but not answered within ${timeoutMs} ms`,
        grpc.status.DEADLINE_EXCEEDED,
      ),
    );
    append.timer = this.clock.setTimer(APPEND_STREAM_ANSWER_GRACE_MS, () => {
      if (this.sent.has(id)) this.close();
    });
  }

  private answered(response: PbAppendStreamResponse): void {
    const id = toNumber(response.request_id);
    const append = this.sent.get(id);
    if (append === undefined) return;
    this.sent.delete(id);
    this.sentBytes -= append.bytes;
    if (append.timer !== undefined) this.clock.clearTimer(append.timer);
    if (!append.settled) {
      append.settled = true;
      if (response.failure !== null) {
        append.reject(chainAppendFailureError(response.failure, this.connection.address));
      } else {
        append.resolve({
          epoch: toNumber(response.epoch),
          firstOffset: toNumber(response.first_offset),
          lastOffset: toNumber(response.last_offset),
        });
      }
    }
    this.admitWaiting();
    this.closeWhenIdle();
  }

  private admitWaiting(): void {
    while (this.state === 'open' && this.waiting.length > 0) {
      const next = this.waiting[0] as WaitingAppend;
      if (!this.hasRoom(next.bytes)) return;
      this.waiting.shift();
      this.clock.clearTimer(next.timer);
      next.send();
    }
  }

  /** Open with nothing sent or waiting. */
  private get idle(): boolean {
    return this.state === 'open' && this.sent.size === 0 && this.waiting.length === 0;
  }

  /** An idle stream is half-closed after a while, so an idle client holds no call open. */
  private closeWhenIdle(): void {
    if (!this.idle) return;
    if (this.idleTimer !== undefined) this.clock.clearTimer(this.idleTimer);
    this.idleTimer = this.clock.setTimer(APPEND_STREAM_IDLE_CLOSE_MS, () => {
      this.idleTimer = undefined;
      if (!this.idle) return;
      this.state = 'ending';
      this.onEnd(this, { refused: false });
      this.call.end();
    });
  }

  private ended(status: grpc.StatusObject): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    if (this.idleTimer !== undefined) this.clock.clearTimer(this.idleTimer);
    const refused = status.code === grpc.status.UNIMPLEMENTED;
    const reachedNode = !refused && !callNeverLeft(status);
    const text = `the append stream ended (${grpc.status[status.code] ?? status.code}: ${status.details})`;
    for (const append of this.sent.values()) {
      if (append.timer !== undefined) this.clock.clearTimer(append.timer);
      if (append.settled) continue;
      append.settled = true;
      append.reject(
        reachedNode
          ? this.outcomeUnknown(`${text} after the append was sent`, status.code)
          : this.notSent(text, status.code),
      );
    }
    this.sent.clear();
    this.sentBytes = 0;
    for (const waiter of this.waiting.splice(0)) {
      this.clock.clearTimer(waiter.timer);
      waiter.reject(this.notSent(text, status.code));
    }
    this.onEnd(this, { refused });
  }

  /** The append was sent but no answer came: it may have been written, so it is never sent again. */
  private outcomeUnknown(reason: string, grpcCode: number): MeshClientError {
    return new MeshClientError(
      'CHAIN_APPEND_OUTCOME_UNKNOWN',
      `${this.connection.address}: ${reason}, so it may have been written`,
      { grpcCode },
    );
  }

  /** The append never left: sending it again (here or elsewhere) cannot double it. */
  private notSent(reason: string, grpcCode: number = grpc.status.UNAVAILABLE): MeshClientError {
    return new UnavailableError(`${this.connection.address}: ${reason}; the append was not sent`, {
      grpcCode,
    });
  }

  /** The stream had no room for the append: it was not sent (CHAIN_OVERLOADED, as a full queue on a node). */
  private noRoom(reason: string): MeshClientError {
    return new MeshClientError(
      'CHAIN_OVERLOADED',
      `${this.connection.address}: ${reason}; the append was not sent`,
      {
        grpcCode: grpc.status.RESOURCE_EXHAUSTED,
        retryable: true,
      },
    );
  }
}

/**
 * A client's append streams, one per node at a time, opened on first use. A node that answers
 * AppendStream with UNIMPLEMENTED (an older build) is remembered: appends to it go as unary calls.
 */
export class ChainAppendStreams {
  private readonly streams = new Map<string, ChainAppendStream>();
  private readonly refusing = new Set<string>();

  constructor(private readonly clock: Clock) {}

  /** The open stream to `connection`'s node; undefined when the node does not serve AppendStream. */
  to(connection: EndpointConnection): ChainAppendStream | undefined {
    if (this.refusing.has(connection.address)) return undefined;
    const current = this.streams.get(connection.address);
    if (current?.accepting && current.connection === connection) return current;
    const stream = new ChainAppendStream(connection, this.clock, (ended, end) => {
      if (this.streams.get(connection.address) === ended) this.streams.delete(connection.address);
      if (end.refused) this.refusing.add(connection.address);
    });
    this.streams.set(connection.address, stream);
    return stream;
  }

  /** Whether the node at `address` answered AppendStream with UNIMPLEMENTED. */
  refuses(address: string): boolean {
    return this.refusing.has(address);
  }

  closeAll(): void {
    for (const stream of [...this.streams.values()]) stream.close();
    this.streams.clear();
  }
}
