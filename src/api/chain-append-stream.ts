/**
 * One `meshos.v1.Chains/AppendStream` call on a node: the client pipelines appends, each with a
 * request id and its own deadline; each goes to the backend as it arrives and is answered as it
 * finishes (in any order), a failure as that append's own typed `AppendFailure` (the stream goes
 * on). Bounded: past `MAX_APPEND_STREAM_IN_FLIGHT_APPENDS` or `_BYTES` taken and not yet answered
 * (an answer counts until it is handed to the connection) the call stops reading, so HTTP/2 flow
 * control holds the client back; nothing queues without bound. A request id that is 0 or already
 * in flight breaks the protocol: the call ends with INVALID_ARGUMENT. The client half-closing, or
 * the port closing, ends the call once every append taken is answered; while the port closes,
 * new appends are refused unwritten (CHAIN_UNAVAILABLE), so the client sends them elsewhere.
 */
import type * as grpc from '@grpc/grpc-js';
import { ChainUnavailableError, payloadBytes } from '../chains/index.js';
import { ValidationError } from '../lib/index.js';
import {
  type Int64Out,
  MAX_APPEND_STREAM_IN_FLIGHT_APPENDS,
  MAX_APPEND_STREAM_IN_FLIGHT_BYTES,
  type PbAppendFailure,
  type PbAppendStreamRequest,
  type PbAppendStreamResponse,
} from '../protocol/index.js';
import type { ChainAppendResult, ChainsBackend } from './chains-backend.js';
import { appendStreamRequestFromPb } from './convert-chains.js';

export type AppendStreamCall = grpc.ServerDuplexStream<
  PbAppendStreamRequest,
  PbAppendStreamResponse<Int64Out>
>;

export interface AppendStreamOptions {
  readonly backend: ChainsBackend;
  /** An append's failure as sent (the chains error table). */
  readonly failureOf: (error: unknown) => PbAppendFailure;
  /** The call's end for a broken protocol (a status error with its trailers). */
  readonly protocolError: (error: ValidationError) => grpc.ServiceError;
  /** The call is over (answered out, cancelled or failed). */
  readonly onEnd: () => void;
  /**
   * Throws (or rejects with) the refusal when the caller may not append to chain `name` (see
   * mesh-access.ts); a worker's check may have to ask the control plane first.
   */
  readonly authorize?: (name: string) => void | Promise<void>;
}

export class AppendStreamSession {
  /** Payload bytes of each append taken and not yet answered, by request id. */
  private readonly inFlight = new Map<string, number>();
  private inFlightBytes = 0;
  private paused = false;
  private halfClosed = false;
  private closing = false;
  private over = false;
  /** Settles once the last check that had to wait is over: appends behind it wait, keeping their order. */
  private authorizing: Promise<void> | undefined;

  constructor(
    private readonly call: AppendStreamCall,
    private readonly options: AppendStreamOptions,
  ) {
    call.on('data', (request: PbAppendStreamRequest) => this.take(request));
    call.on('end', () => {
      this.halfClosed = true;
      this.endWhenAnswered();
    });
    call.once('cancelled', () => this.finish());
    call.on('error', () => this.finish());
  }

  /** Appends taken and not yet answered. */
  get appendsInFlight(): number {
    return this.inFlight.size;
  }

  /** The port is closing: refuse new appends unwritten, end once the ones taken are answered. */
  close(): void {
    this.closing = true;
    this.endWhenAnswered();
  }

  /** The caller's check for an append to `name`: undefined when it passed at once, behind any that waits. */
  private authorized(name: string): Promise<void> | undefined {
    const authorize = this.options.authorize;
    if (authorize === undefined) return undefined;
    const waiting = this.authorizing;
    if (waiting !== undefined) return waiting.then(() => authorize(name));
    const check = authorize(name);
    return check === undefined ? undefined : check;
  }

  private take(request: PbAppendStreamRequest): void {
    if (this.over) return;
    const id = String(request.request_id);
    if (id === '0' || this.inFlight.has(id)) {
      this.breakProtocol(`request_id ${id} is 0 or already in flight on this stream`);
      return;
    }
    let input: ReturnType<typeof appendStreamRequestFromPb>;
    try {
      input = appendStreamRequestFromPb(request);
    } catch (error) {
      this.hold(id, 0);
      this.answer(id, { failure: this.options.failureOf(error) });
      return;
    }
    const { name, payloads, timeoutMs } = input;
    this.hold(id, payloadBytes(payloads));
    if (this.closing) {
      const refusal = new ChainUnavailableError(name, 'the node is closing its client port');
      this.answer(id, { failure: this.options.failureOf(refusal) });
      return;
    }
    let appended: Promise<ChainAppendResult>;
    try {
      const authorized = this.authorized(name);
      appended =
        authorized === undefined
          ? this.options.backend.append(name, payloads, timeoutMs)
          : authorized.then(() => this.options.backend.append(name, payloads, timeoutMs));
      if (authorized !== undefined) {
        // Registered after the append above, so the next append is sent after this one.
        const barrier = authorized.then(
          () => {},
          () => {},
        );
        this.authorizing = barrier;
        void barrier.then(() => {
          if (this.authorizing === barrier) this.authorizing = undefined;
        });
      }
    } catch (error) {
      appended = Promise.reject(error);
    }
    appended.then(
      (result) =>
        this.answer(id, {
          epoch: result.epoch,
          first_offset: result.firstOffset,
          last_offset: result.lastOffset,
        }),
      (error: unknown) => this.answer(id, { failure: this.options.failureOf(error) }),
    );
  }

  /** Counts the append in flight, and stops reading once the stream holds its most. */
  private hold(id: string, bytes: number): void {
    this.inFlight.set(id, bytes);
    this.inFlightBytes += bytes;
    if (!this.paused && !this.hasRoom()) {
      this.paused = true;
      this.call.pause();
    }
  }

  private hasRoom(): boolean {
    return (
      this.inFlight.size < MAX_APPEND_STREAM_IN_FLIGHT_APPENDS &&
      this.inFlightBytes < MAX_APPEND_STREAM_IN_FLIGHT_BYTES
    );
  }

  private answer(
    id: string,
    outcome:
      | { readonly failure: PbAppendFailure }
      | { readonly epoch: number; readonly first_offset: number; readonly last_offset: number },
  ): void {
    if (this.over) return;
    const response: PbAppendStreamResponse<Int64Out> =
      'failure' in outcome
        ? { request_id: id, epoch: 0, first_offset: 0, last_offset: 0, failure: outcome.failure }
        : { request_id: id, ...outcome, failure: null };
    // In flight until grpc-js hands the answer to the connection: a client that stops reading
    // holds its stream's room, not the node's memory.
    this.call.write(response, () => this.release(id));
  }

  private release(id: string): void {
    const bytes = this.inFlight.get(id);
    if (bytes === undefined) return;
    this.inFlight.delete(id);
    this.inFlightBytes -= bytes;
    if (this.paused && this.hasRoom() && !this.over) {
      this.paused = false;
      this.call.resume();
    }
    this.endWhenAnswered();
  }

  private endWhenAnswered(): void {
    if (this.over || !(this.halfClosed || this.closing) || this.inFlight.size > 0) return;
    this.finish();
    this.call.end();
  }

  private breakProtocol(reason: string): void {
    if (this.over) return;
    this.finish();
    this.call.emit('error', this.options.protocolError(new ValidationError('append stream', [reason])));
  }

  private finish(): void {
    if (this.over) return;
    this.over = true;
    this.options.onEnd();
  }
}
