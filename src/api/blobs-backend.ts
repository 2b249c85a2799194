/**
 * What the `meshos.v1.Blobs` gRPC service needs from a node (docs/BLOBS.md). The node's blobs
 * service implements it. Every method resolves or rejects with a typed `MeshError`: BLOB_ID_INVALID,
 * BLOB_NOT_FOUND, BLOB_TOO_LARGE, BLOB_CORRUPT, BLOB_UNAVAILABLE, BLOB_REPLICAS_UNAVAILABLE,
 * BLOB_BUSY, BLOB_CONFLICT, BLOBS_UNAVAILABLE, VALIDATION_FAILED.
 */
import type { BlobStatus } from '../blobs/index.js';
import type { NodeId } from '../lib/index.js';

export interface BlobPutResult {
  readonly id: string;
  readonly size: number;
  /** Copies asked for (the larger of this put's and an earlier put's of the same bytes). */
  readonly replicas: number;
  /** Nodes that hold a durable, checked copy: at least `replicas` of them when the put resolves. */
  readonly holders: readonly NodeId[];
}

export interface BlobRead {
  readonly id: string;
  readonly size: number;
  /** The node whose copy is served (the serving node itself when it holds one). */
  readonly source: NodeId;
  /** The bytes in chunks, checked against the id before the first one is served. */
  readonly chunks: AsyncIterable<Uint8Array>;
}

export interface BlobsBackend {
  /** Stores the streamed bytes on this node, copies them to more nodes until `replicas` hold them durably, records the blob. */
  put(chunks: AsyncIterable<Uint8Array>, replicas: number): Promise<BlobPutResult>;
  /** The blob's bytes from this node's copy, or fetched (and checked) from the nearest live holder, then the next. */
  get(id: string): Promise<BlobRead>;
  status(id: string): Promise<BlobStatus>;
  list(): Promise<BlobStatus[]>;
  /** Forgets the blob and asks its holders to drop their copies. */
  remove(id: string): Promise<void>;
}
