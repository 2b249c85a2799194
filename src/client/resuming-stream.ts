/**
 * A server stream of positioned items (a chain's records, a daemon's outputs) as an async
 * iterator that survives connection loss: each stream starts at the position after the last
 * item delivered, so a resumed stream neither skips nor repeats items. Resumes are bounded:
 * `maxAttempts` failures in a row (without an item delivered in between) end it with the last
 * failure; a failure that no retry can mend ends it at once. A message the source calls
 * complete ends it; a stream the node ends without one was cut, and is resumed.
 */
import * as grpc from '@grpc/grpc-js';
import { assert } from '../lib/index.js';
import { retryDelayMs } from './backoff.js';
import type { EndpointConnection } from './endpoint.js';
import { type MeshClientError, UnavailableError } from './errors.js';
import type { ServiceTransport } from './service-transport.js';

export interface StreamSource<Message, Item> {
  /** Opens the stream at `position` (the first item wanted). */
  open(
    connection: EndpointConnection,
    position: number,
    metadata: grpc.Metadata,
  ): grpc.ClientReadableStream<unknown>;
  items(message: Message): readonly Item[];
  /** The position the stream continues from once `item` was delivered. */
  positionAfter(item: Item): number;
  /** The message says the stream reached its end (delivered after the message's items). */
  complete(message: Message): boolean;
  /** The typed error of a failed stream; `retryable` ones are resumed. */
  errorOf(error: unknown, address: string): MeshClientError;
}

export class ResumingStream<Message, Item> implements AsyncIterable<Item> {
  private current: grpc.ClientReadableStream<unknown> | undefined;
  private closed = false;
  private started = false;
  protected position: number;
  private readonly onAbort = (): void => this.close();

  constructor(
    private readonly source: StreamSource<Message, Item>,
    from: number,
    private readonly transport: ServiceTransport,
    private readonly signal?: AbortSignal,
  ) {
    this.position = from;
    if (signal?.aborted === true) this.closed = true;
    else signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Ends the stream; a `for await` over it finishes without an error. */
  close(): void {
    this.closed = true;
    this.current?.cancel();
    this.signal?.removeEventListener('abort', this.onAbort);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Item> {
    assert(!this.started, 'a resuming stream can be iterated once');
    this.started = true;
    let failuresInRow = 0;
    try {
      while (!this.closed) {
        this.transport.checkOpen();
        const connection = this.transport.pick();
        const stream = this.source.open(connection, this.position, new grpc.Metadata());
        this.current = stream;
        let lastError: MeshClientError;
        try {
          for await (const message of stream as AsyncIterable<Message>) {
            for (const item of this.source.items(message)) {
              this.position = this.source.positionAfter(item);
              failuresInRow = 0;
              yield item;
            }
            if (this.source.complete(message)) return;
          }
          lastError = new UnavailableError(`${connection.address}: the node ended the stream`);
        } catch (error) {
          if (this.closed) return;
          lastError = this.source.errorOf(error, connection.address);
          if (!lastError.retryable) throw lastError;
        } finally {
          stream.cancel();
        }
        if (this.closed) return;
        this.transport.failed(connection.address);
        failuresInRow += 1;
        if (failuresInRow >= this.transport.maxAttempts) throw lastError;
        await new Promise<void>((resolve) =>
          this.transport.clock.setTimer(retryDelayMs(failuresInRow - 1, this.transport.random), () =>
            resolve(),
          ),
        );
      }
    } finally {
      this.closed = true;
      this.current = undefined;
      this.signal?.removeEventListener('abort', this.onAbort);
    }
  }
}
