/**
 * `client.blobs`: the `meshos.v1.Blobs` service. Any endpoint serves any blob (a node without a
 * copy fetches one from the nearest holder), so calls go wherever the client's endpoint choice
 * points and fail over like every other call. Every call is safe to send again: a put of the
 * same bytes is the same blob (its id is their SHA-256), so a put cut off is repeated, as are
 * reads. A get checks the bytes against the id as they arrive: a mismatch ends it with
 * BLOB_CORRUPT, and nothing after the check failed is handed out.
 */
import * as grpc from '@grpc/grpc-js';
import type { BlobPutResult } from '../api/index.js';
import { BlobHasher, type BlobStatus, checkBlobId, MAX_BLOB_REPLICAS } from '../blobs/index.js';
import { InputProblems } from '../lib/index.js';
import {
  BLOB_ERRORS,
  type PbBlobStatus,
  type PbGetBlobResponse,
  type PbListBlobsResponse,
  type PbPutBlobResponse,
} from '../protocol/index.js';
import { toNumber } from './convert.js';
import type { EndpointConnection } from './endpoint.js';
import { MeshClientError } from './errors.js';
import { DEFAULT_BLOB_TIMEOUT_MS, MAX_CLIENT_BLOB_CHUNK_BYTES } from './limits.js';
import { serviceErrorFromGrpc } from './service-errors.js';
import { type ServiceTransport, serviceCall, serviceUnary } from './service-transport.js';
import type { CallOptions } from './types.js';

/** The bytes of a put: whole, or a maker of a fresh stream of them for each attempt (a file opened again). */
export type BlobSource = Uint8Array | (() => AsyncIterable<Uint8Array>);

export interface BlobPutOptions extends CallOptions {
  /** Nodes that must hold a durable copy before the put resolves (default 1). */
  readonly replicas?: number;
}

export interface BlobDownload {
  readonly id: string;
  readonly size: number;
  /** The node whose copy was served. */
  readonly source: number;
  /** The bytes; checked against the id as they arrive (BLOB_CORRUPT at the end on a mismatch). */
  readonly chunks: AsyncIterable<Uint8Array>;
}

function blobErrorOf(error: unknown, endpoint: string): MeshClientError {
  // Every blobs call may be repeated: reads, a delete, and a put of the same content-addressed bytes.
  return serviceErrorFromGrpc(error, endpoint, {
    retryable: (code) => BLOB_ERRORS[code]?.notApplied ?? false,
    cutOffCode: undefined,
  });
}

function statusFromPb(pb: PbBlobStatus): BlobStatus {
  const heats = (list: PbBlobStatus['holders']) =>
    list.map((entry) => ({ node: toNumber(entry.node), heat: entry.heat }));
  return {
    id: pb.id,
    size: toNumber(pb.size),
    replicas: pb.replicas,
    holders: heats(pb.holders),
    readers: heats(pb.readers),
    heat: pb.heat,
  };
}

/** The bytes in pieces of at most MAX_CLIENT_BLOB_CHUNK_BYTES (one gRPC message each). */
async function* piecesOf(source: BlobSource): AsyncGenerator<Uint8Array> {
  const whole = source instanceof Uint8Array ? [source] : source();
  for await (const chunk of whole) {
    for (let offset = 0; offset < chunk.byteLength; offset += MAX_CLIENT_BLOB_CHUNK_BYTES)
      yield chunk.subarray(offset, offset + MAX_CLIENT_BLOB_CHUNK_BYTES);
  }
}

/** Writes `message` to the stream, waiting while its buffer is full. */
async function writeMessage(stream: grpc.ClientWritableStream<unknown>, message: unknown): Promise<void> {
  if (!stream.write(message)) await new Promise<void>((resolve) => stream.once('drain', resolve));
}

export class BlobsClient {
  constructor(private readonly transport: ServiceTransport) {}

  /**
   * Stores the bytes; resolves once `replicas` nodes hold a durable, checked copy and the blob is
   * recorded, with its id (the SHA-256 of the bytes) and holders. BLOB_REPLICAS_UNAVAILABLE when
   * fewer nodes could take a copy (those that did are recorded; reconcile adds the rest).
   */
  async put(source: BlobSource, options: BlobPutOptions = {}): Promise<BlobPutResult> {
    const replicas = options.replicas ?? 1;
    const problems = new InputProblems();
    problems.integer('replicas', replicas, 1, MAX_BLOB_REPLICAS);
    problems.throwIfAny('blob put options');
    const pb = await serviceCall(
      this.transport,
      'blobs.Put',
      true,
      { timeoutMs: options.timeoutMs ?? DEFAULT_BLOB_TIMEOUT_MS },
      async (connection, deadline) => {
        const { stream, answer } = connection.clientStream<PbPutBlobResponse>(
          'blobs',
          'Put',
          new grpc.Metadata(),
          deadline,
        );
        // The answer may fail before every byte was written (a refused put): seen below, not unhandled here.
        answer.catch(() => undefined);
        try {
          let first = true;
          for await (const piece of piecesOf(source)) {
            await writeMessage(stream, { replicas: first ? replicas : 0, data: piece });
            first = false;
          }
          if (first) await writeMessage(stream, { replicas, data: new Uint8Array(0) });
          stream.end();
          return await answer;
        } catch (error) {
          stream.cancel();
          // The node's own failure says most (a refused put, a lost connection: retried as the table says)...
          const answered = await answer.then(
            () => undefined,
            (failure: unknown) => failure,
          );
          if (answered !== undefined && (answered as { code?: unknown }).code !== grpc.status.CANCELLED)
            throw blobErrorOf(answered, connection.address);
          // ...else reading the bytes failed here, which another attempt would not mend.
          throw new MeshClientError(
            'BLOB_SOURCE_FAILED',
            `reading the bytes to put failed: ${error instanceof Error ? error.message : String(error)}`,
            { retryable: false, cause: error },
          );
        }
      },
    );
    return { id: pb.id, size: toNumber(pb.size), replicas: pb.replicas, holders: pb.holders.map(toNumber) };
  }

  /**
   * The blob's bytes as a stream, from any endpoint (which serves its own copy or fetches one from
   * the nearest holder). Failures before the first bytes arrive are retried elsewhere.
   */
  async get(id: string, options: CallOptions = {}): Promise<BlobDownload> {
    checkBlobId(id);
    return serviceCall(
      this.transport,
      'blobs.Get',
      false,
      { timeoutMs: options.timeoutMs ?? DEFAULT_BLOB_TIMEOUT_MS },
      (connection, deadline) => this.openDownload(connection, id, deadline),
    );
  }

  /** The whole blob in memory (for small blobs; `get` streams). */
  async getBytes(id: string, options: CallOptions = {}): Promise<Uint8Array> {
    const download = await this.get(id, options);
    const whole = new Uint8Array(download.size);
    let at = 0;
    for await (const chunk of download.chunks) {
      whole.set(chunk, at);
      at += chunk.byteLength;
    }
    return whole;
  }

  /** Size, copies asked for, holders with their read heat, and every reader. */
  async status(id: string, options: CallOptions = {}): Promise<BlobStatus> {
    checkBlobId(id);
    return statusFromPb(await this.unary<PbBlobStatus>('Status', { id }, false, options));
  }

  async list(options: CallOptions = {}): Promise<BlobStatus[]> {
    return (await this.unary<PbListBlobsResponse>('List', {}, false, options)).blobs.map(statusFromPb);
  }

  /** Forgets the blob and drops its copies. BLOB_NOT_FOUND when it is not stored. */
  async delete(id: string, options: CallOptions = {}): Promise<void> {
    checkBlobId(id);
    await this.unary('Delete', { id }, true, options);
  }

  private unary<Response>(
    method: string,
    request: object,
    changes: boolean,
    options: CallOptions,
  ): Promise<Response> {
    return serviceUnary<Response>(
      this.transport,
      { service: 'blobs', method, request, changes, errorOf: blobErrorOf },
      options,
    );
  }

  private async openDownload(
    connection: EndpointConnection,
    id: string,
    deadline: Date,
  ): Promise<BlobDownload> {
    const stream = connection.serverStream('blobs', 'Get', { id }, new grpc.Metadata(), deadline);
    const messages = stream[Symbol.asyncIterator]() as AsyncIterator<PbGetBlobResponse>;
    let first: IteratorResult<PbGetBlobResponse>;
    try {
      first = await messages.next();
    } catch (error) {
      throw blobErrorOf(error, connection.address);
    }
    if (first.done === true)
      throw blobErrorOf(new Error('the get stream ended before any answer'), connection.address);
    const head = first.value;
    const size = toNumber(head.size);
    const address = connection.address;
    async function* checked(): AsyncGenerator<Uint8Array> {
      const hasher = new BlobHasher();
      let message: PbGetBlobResponse | undefined = head;
      try {
        while (message !== undefined) {
          if (message.data.byteLength > 0) {
            hasher.update(message.data);
            if (hasher.bytes > size) break;
            yield message.data;
          }
          const next: IteratorResult<PbGetBlobResponse> = await messages.next();
          message = next.done === true ? undefined : next.value;
        }
      } catch (error) {
        throw blobErrorOf(error, address);
      } finally {
        stream.cancel();
      }
      const actual = hasher.digest();
      if (hasher.bytes !== size || actual !== id)
        throw new MeshClientError(
          'BLOB_CORRUPT',
          `${address}: blob ${id} arrived as ${hasher.bytes} bytes hashing to ${actual}`,
          {
            retryable: true,
            details: { id, actual },
          },
        );
    }
    return { id, size, source: toNumber(head.source), chunks: checked() };
  }
}
