/**
 * A chain subscription as an async iterator that survives connection loss: each stream starts
 * at the record after the last one delivered, so a resumed subscription neither skips nor
 * repeats records. Resumes are bounded: `maxAttempts` failures in a row (without a record
 * delivered in between) end it with the last failure; a failure that no retry can
 * mend (the chain is gone, the reader was too slow) ends it at once.
 */
import * as grpc from '@grpc/grpc-js';
import type { ChainRecord } from '../api/index.js';
import type { PbSubscribeResponse } from '../protocol/index.js';
import { retryDelayMs } from './backoff.js';
import { chainErrorFromGrpc } from './chain-errors.js';
import type { ChainsTransport } from './chains.js';
import { chainRecordFromPb } from './convert-chains.js';
import { type MeshClientError, UnavailableError } from './errors.js';

export class ChainSubscription implements AsyncIterable<ChainRecord> {
  private current: grpc.ClientReadableStream<unknown> | undefined;
  private closed = false;
  private started = false;
  private offset: number;

  constructor(
    private readonly name: string,
    fromOffset: number,
    private readonly transport: ChainsTransport,
  ) {
    this.offset = fromOffset;
  }

  /** Where the subscription continues: one past the last record delivered. */
  get nextOffset(): number {
    return this.offset;
  }

  /** Ends the subscription; a `for await` over it finishes without an error. */
  close(): void {
    this.closed = true;
    this.current?.cancel();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<ChainRecord> {
    if (this.started) throw new Error('a chain subscription can be iterated once');
    this.started = true;
    let failuresInRow = 0;
    try {
      while (!this.closed) {
        this.transport.checkOpen();
        const connection = this.transport.pick();
        const stream = connection.serverStream(
          'chains',
          'Subscribe',
          { name: this.name, from_offset: this.offset },
          new grpc.Metadata(),
        );
        this.current = stream;
        let lastError: MeshClientError;
        try {
          for await (const response of stream as AsyncIterable<PbSubscribeResponse>) {
            for (const pb of response.records) {
              const record = chainRecordFromPb(pb);
              this.offset = record.offset + 1;
              failuresInRow = 0;
              yield record;
            }
          }
          lastError = new UnavailableError(`${connection.address}: the node ended the subscription`);
        } catch (error) {
          if (this.closed) return;
          lastError = chainErrorFromGrpc(error, connection.address, 'read');
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
    }
  }
}
