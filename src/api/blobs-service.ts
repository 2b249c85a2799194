/**
 * `meshos.v1.Blobs` over a `BlobsBackend`: Put (a client stream: `replicas` in the first message,
 * the bytes in chunks; answered once the blob is stored as the backend says), Get (a server
 * stream of chunks, each message naming the size and the serving copy's node), Status, List,
 * Delete. Failures carry the status from the blobs error table and the `MeshError` code in the
 * trailers.
 */
import type * as grpc from '@grpc/grpc-js';
import type { BlobStatus } from '../blobs/index.js';
import { type Logger, MeshError } from '../lib/index.js';
import {
  BLOB_ERRORS,
  type Int64Out,
  type PbBlobId,
  type PbBlobStatus,
  type PbGetBlobResponse,
  type PbPutBlobRequest,
  type PbPutBlobResponse,
} from '../protocol/index.js';
import type { BlobsBackend } from './blobs-backend.js';
import type { ClientPortService } from './client-port-server.js';
import { serveStream, unaryWithTimeout, writable } from './grpc-call.js';
import { type MeshAccessCheck, OPEN_MESH_ACCESS } from './mesh-access.js';
import { blobsServiceDefinition } from './proto.js';
import { serviceErrorOf } from './service-error-map.js';

/** Copies a put asks for when its first message says 0 (proto3's unset). */
export const DEFAULT_BLOB_REPLICAS = 1;

type PutCall = grpc.ServerReadableStream<PbPutBlobRequest, PbPutBlobResponse<Int64Out>>;
type GetCall = grpc.ServerWritableStream<PbBlobId, PbGetBlobResponse<Int64Out>>;

const toBlobServiceError = serviceErrorOf(BLOB_ERRORS, 'blobs api');

export function blobStatusToPb(status: BlobStatus): PbBlobStatus<Int64Out> {
  return {
    id: status.id,
    size: status.size,
    replicas: status.replicas,
    holders: status.holders.map(({ node, heat }) => ({ node, heat })),
    readers: status.readers.map(({ node, heat }) => ({ node, heat })),
    heat: status.heat,
  };
}

export interface BlobsPortService extends ClientPortService {
  /** Get streams open now. */
  readonly streams: number;
}

export function blobsPortService(
  backend: BlobsBackend,
  logger: Logger,
  access: MeshAccessCheck = OPEN_MESH_ACCESS,
): BlobsPortService {
  const streams = new Set<AbortController>();
  const blobsUnary = unaryWithTimeout(logger, toBlobServiceError);
  return {
    definition: blobsServiceDefinition(),
    implementation: {
      Put: (call: PutCall, callback: grpc.sendUnaryData<PbPutBlobResponse<Int64Out>>) => {
        // A blob's id is its content's hash, known only at the end: a put needs write on every blob.
        Promise.resolve()
          .then(() => access(call.metadata, 'write', 'blobs', undefined, 'blobs Put'))
          .then(() => putFrom(call, backend))
          .then(
            (result) =>
              callback(null, {
                id: result.id,
                size: result.size,
                replicas: result.replicas,
                holders: [...result.holders],
              }),
            (error: unknown) => callback(toBlobServiceError(error, logger, 'Put')),
          );
      },
      Get: (call: GetCall) =>
        serveStream(call, streams, { logger, method: 'Get', errorOf: toBlobServiceError }, async (signal) => {
          await access(call.metadata, 'read', 'blobs', call.request.id, 'blobs Get');
          return writeBlob(call, backend, signal);
        }),
      Status: blobsUnary('Status', async (request: PbBlobId, _timeoutMs, metadata) => {
        await access(metadata, 'read', 'blobs', request.id, 'blobs Status');
        return blobStatusToPb(await backend.status(request.id));
      }),
      List: blobsUnary('List', async (_request, _timeoutMs, metadata) => {
        await access(metadata, 'read', 'blobs', undefined, 'blobs List');
        return { blobs: (await backend.list()).map(blobStatusToPb) };
      }),
      Delete: blobsUnary('Delete', async (request: PbBlobId, _timeoutMs, metadata) => {
        await access(metadata, 'write', 'blobs', request.id, 'blobs Delete');
        await backend.remove(request.id);
        return {};
      }),
    },
    get streams() {
      return streams.size;
    },
    close(): void {
      for (const controller of [...streams]) controller.abort();
    },
  };
}

/** Takes `replicas` from the first message and streams every message's bytes to the backend. */
async function putFrom(call: PutCall, backend: BlobsBackend) {
  const messages = call[Symbol.asyncIterator]() as AsyncIterator<PbPutBlobRequest>;
  const first = await messages.next();
  const firstMessage = first.done === true ? undefined : first.value;
  const replicas =
    firstMessage === undefined || firstMessage.replicas === 0 ? DEFAULT_BLOB_REPLICAS : firstMessage.replicas;
  async function* chunks(): AsyncGenerator<Uint8Array> {
    if (firstMessage !== undefined) {
      if (firstMessage.data.byteLength > 0) yield firstMessage.data;
      for (;;) {
        const next = await messages.next();
        if (next.done === true) break;
        if (next.value.data.byteLength > 0) yield next.value.data;
      }
    }
    // A stream cut short by the client is not a blob: failing here removes the part unstored.
    if (call.cancelled) throw new MeshError('CANCELLED', 'the client cancelled the put before its end');
  }
  return backend.put(chunks(), replicas);
}

/** Writes the blob's chunks, waiting whenever the call's buffer is full (a slow reader holds the disk reads back). */
async function writeBlob(call: GetCall, backend: BlobsBackend, signal: AbortSignal): Promise<void> {
  const aborted = new Promise<void>((resolve) =>
    signal.addEventListener('abort', () => resolve(), { once: true }),
  );
  const read = await backend.get(call.request.id);
  const iterator = read.chunks[Symbol.asyncIterator]();
  try {
    let sent = false;
    for (;;) {
      if (signal.aborted) return;
      const next = await iterator.next();
      if (next.done === true) break;
      sent = true;
      if (!call.write({ size: read.size, source: read.source, data: next.value }))
        await writable(call, aborted);
    }
    // An empty blob still tells its size and source.
    if (!sent) call.write({ size: read.size, source: read.source, data: new Uint8Array(0) });
  } finally {
    await iterator.return?.();
  }
}
