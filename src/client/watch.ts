/**
 * A watch as an async iterator of events. Each watch has its own Watch stream. Responses are
 * buffered up to a bound; past it the stream is paused so the node (not this process) holds the
 * backlog. If the stream breaks with a retryable error, the watch is re-created on another endpoint
 * from the revision after the last one delivered, so no event is skipped or repeated.
 */
import type * as grpc from '@grpc/grpc-js';
import type { Clock, Random, TimerId } from '../lib/index.js';
import type { PbWatchResponse } from '../protocol/index.js';
import { retryDelayMs } from './backoff.js';
import { keyValueFromPb, toNumber } from './convert.js';
import { CompactedError, errorFromGrpc, type MeshClientError, WatchCanceledError } from './errors.js';
import { WATCH_BUFFER_RESPONSES } from './limits.js';
import type { WatchEvent } from './types.js';

/** What a watch does with its stream's events. */
export interface WatchStreamHandler {
  data(response: PbWatchResponse): void;
  error(error: unknown): void;
  end(): void;
}

/**
 * A Watch stream whose listeners are installed once, at creation, and forward to a handler bound
 * later; anything that happens before binding (the stream is paused, so at most an error and an
 * end) is replayed to the handler in order.
 */
export class WatchChannel {
  private handler: WatchStreamHandler | undefined;
  private readonly early: Array<() => void> = [];
  private closed = false;

  constructor(readonly stream: grpc.ClientDuplexStream<unknown, unknown>) {
    stream.on('data', (response: PbWatchResponse) => this.dispatch((handler) => handler.data(response)));
    stream.on('error', (error: unknown) => this.dispatch((handler) => handler.error(error)));
    stream.on('end', () => this.dispatch((handler) => handler.end()));
  }

  /** Sends events to `handler` (replaying any that came first) and lets data flow. */
  bind(handler: WatchStreamHandler): void {
    this.handler = handler;
    for (const replay of this.early.splice(0)) replay();
    if (!this.closed) this.stream.resume();
  }

  /** Stops forwarding (events queue until the next `bind`) and pauses the stream. */
  unbind(): void {
    this.stream.pause();
    this.handler = undefined;
  }

  pause(): void {
    this.stream.pause();
  }

  resume(): void {
    this.stream.resume();
  }

  /** Ends the stream; later events are dropped. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.handler = undefined;
    this.early.length = 0;
    this.stream.end();
    this.stream.cancel();
  }

  private dispatch(deliver: (handler: WatchStreamHandler) => void): void {
    if (this.closed) return;
    if (this.handler === undefined) {
      this.early.push(() => {
        if (this.handler !== undefined) deliver(this.handler);
      });
      return;
    }
    deliver(this.handler);
  }
}

/** Opens a stream whose watch is created from `startRevision` (0: from now); resolves once created. */
export type WatchOpener = (
  startRevision: number,
) => Promise<{ readonly channel: WatchChannel; readonly created: PbWatchResponse }>;

export interface WatchDependencies {
  readonly open: WatchOpener;
  readonly clock: Clock;
  readonly random: Random;
  /** Consecutive failed re-creations before the watch gives up. */
  readonly maxAttempts: number;
  readonly onClose: (watch: Watch) => void;
}

/** The error a watch stream's first response stands for when it refuses the watch, if it does. */
export function watchRefusal(response: PbWatchResponse): MeshClientError | undefined {
  if (!response.canceled) return undefined;
  const compactRevision = toNumber(response.compact_revision);
  if (compactRevision > 0) return new CompactedError(compactRevision);
  return new WatchCanceledError(response.cancel_reason);
}

export class Watch implements AsyncIterableIterator<WatchEvent> {
  private channel: WatchChannel | undefined;
  /** Each entry is one response's events, so a whole response is buffered or none of it. */
  private readonly buffered: WatchEvent[][] = [];
  private failure: MeshClientError | undefined;
  private finished = false;
  private closed = false;
  private paused = false;
  private reconnectTimer: TimerId | undefined;
  private wake: (() => void) | undefined;
  /** The next revision not yet handed to the buffer: where a re-created watch starts. */
  private resumeRevision: number;
  private reconnectFailures = 0;

  constructor(
    private readonly dependencies: WatchDependencies,
    startRevision: number,
  ) {
    this.resumeRevision = startRevision;
  }

  /** Creates the watch on the server; rejects with the refusal or the last connection error. */
  async start(): Promise<void> {
    const { channel, created } = await this.dependencies.open(this.resumeRevision);
    this.attach(channel, created);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<WatchEvent> {
    return this;
  }

  async next(): Promise<IteratorResult<WatchEvent>> {
    for (;;) {
      const head = this.buffered[0];
      if (head !== undefined) {
        const event = head.shift();
        if (head.length === 0) this.buffered.shift();
        if (this.paused && this.buffered.length <= WATCH_BUFFER_RESPONSES / 2) {
          this.paused = false;
          this.channel?.resume();
        }
        if (event !== undefined) return { value: event, done: false };
        continue;
      }
      if (this.failure !== undefined) {
        const failure = this.failure;
        this.failure = undefined;
        this.close();
        throw failure;
      }
      if (this.finished) return { value: undefined, done: true };
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  /** Called by `break` in a for-await loop: cancels the watch. */
  async return(): Promise<IteratorResult<WatchEvent>> {
    this.close();
    return { value: undefined, done: true };
  }

  /** Stops the watch and ends its stream; events already buffered are dropped. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.finished = true;
    if (this.reconnectTimer !== undefined) this.dependencies.clock.clearTimer(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.buffered.length = 0;
    this.detach();
    this.signal();
    this.dependencies.onClose(this);
  }

  private attach(channel: WatchChannel, created: PbWatchResponse): void {
    if (this.finished) {
      channel.close();
      return;
    }
    this.channel = channel;
    this.reconnectFailures = 0;
    // Without an explicit start, only changes after the creation revision are reported.
    if (this.resumeRevision === 0) this.resumeRevision = toNumber(created.header?.revision) + 1;
    channel.bind({
      data: (response) => this.receive(channel, response),
      error: (error) => this.broken(channel, errorFromGrpc(error, 'watch')),
      end: () => this.broken(channel, undefined),
    });
    // A re-created stream starts flowing; hold it back if the reader is still behind.
    this.paused = this.buffered.length >= WATCH_BUFFER_RESPONSES;
    if (this.paused) channel.pause();
  }

  private detach(): void {
    const channel = this.channel;
    this.channel = undefined;
    channel?.close();
  }

  private receive(channel: WatchChannel, response: PbWatchResponse): void {
    if (channel !== this.channel) return;
    if (response.canceled) {
      this.failure = watchRefusal(response);
      this.finished = true;
      this.detach();
      this.signal();
      return;
    }
    if (response.events.length === 0) {
      // Progress: nothing before the header revision is still on its way.
      this.resumeRevision = Math.max(this.resumeRevision, toNumber(response.header?.revision) + 1);
      return;
    }
    const events: WatchEvent[] = [];
    for (const pb of response.events) {
      const kv = keyValueFromPb(pb.kv);
      if (kv.modRevision < this.resumeRevision) continue;
      events.push({
        type: pb.type === 'Delete' ? 'delete' : 'put',
        kv,
        prevKv: pb.prev_kv === undefined || pb.prev_kv === null ? undefined : keyValueFromPb(pb.prev_kv),
      });
    }
    const last = events[events.length - 1];
    if (last === undefined) return;
    this.resumeRevision = last.kv.modRevision + 1;
    this.buffered.push(events);
    if (!this.paused && this.buffered.length >= WATCH_BUFFER_RESPONSES) {
      this.paused = true;
      channel.pause();
    }
    this.signal();
  }

  /** The stream ended or failed without us asking: re-create the watch if the failure allows it. */
  private broken(channel: WatchChannel, error: MeshClientError | undefined): void {
    if (channel !== this.channel || this.finished) return;
    this.detach();
    if (error !== undefined && !error.retryable) {
      this.fail(error);
      return;
    }
    this.reconnect(error);
  }

  private reconnect(lastError: MeshClientError | undefined): void {
    if (this.reconnectFailures >= this.dependencies.maxAttempts) {
      this.fail(lastError ?? new WatchCanceledError('the stream ended'));
      return;
    }
    const delayMs = retryDelayMs(this.reconnectFailures, this.dependencies.random);
    this.reconnectFailures += 1;
    this.reconnectTimer = this.dependencies.clock.setTimer(delayMs, () => {
      this.reconnectTimer = undefined;
      if (this.finished) return;
      this.dependencies.open(this.resumeRevision).then(
        ({ channel, created }) => this.attach(channel, created),
        (error: unknown) => {
          if (this.finished) return;
          const typed = errorFromGrpc(error, 'watch');
          if (typed.retryable) this.reconnect(typed);
          else this.fail(typed);
        },
      );
    });
  }

  private fail(error: MeshClientError): void {
    this.failure = error;
    this.finished = true;
    this.signal();
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
