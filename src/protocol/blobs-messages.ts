/**
 * The shapes of `meshos.v1.Blobs` messages as the server and the client both see them (loader
 * options of proto-descriptor.ts: 64-bit integers arrive as decimal strings, bytes as Buffers),
 * and the blobs API's error table: the gRPC status each code is sent with, and whether a call that
 * failed with it changed nothing (`notApplied`: a retry, to any endpoint, is safe).
 */
import { status } from '@grpc/grpc-js';
import type { ServiceErrorRow } from './error-trailers.js';
import type { Int64In, Int64Out } from './messages.js';

export interface PbPutBlobRequest {
  readonly replicas: number;
  readonly data: Uint8Array;
}

export interface PbPutBlobResponse<Int64 extends Int64Out = Int64In> {
  readonly id: string;
  readonly size: Int64;
  readonly replicas: number;
  readonly holders: readonly Int64[];
}

export interface PbBlobId {
  readonly id: string;
}

export interface PbGetBlobResponse<Int64 extends Int64Out = Int64In> {
  readonly size: Int64;
  readonly source: Int64;
  readonly data: Uint8Array;
}

export interface PbBlobNodeHeat<Int64 extends Int64Out = Int64In> {
  readonly node: Int64;
  readonly heat: number;
}

export interface PbBlobStatus<Int64 extends Int64Out = Int64In> {
  readonly id: string;
  readonly size: Int64;
  readonly replicas: number;
  readonly holders: readonly PbBlobNodeHeat<Int64>[];
  readonly readers: readonly PbBlobNodeHeat<Int64>[];
  readonly heat: number;
}

export interface PbListBlobsResponse<Int64 extends Int64Out = Int64In> {
  readonly blobs: readonly PbBlobStatus<Int64>[];
}

export interface BlobErrorRow extends ServiceErrorRow {
  readonly notApplied: boolean;
}

export const BLOB_ERRORS: Readonly<Record<string, BlobErrorRow>> = {
  BLOB_ID_INVALID: { status: status.INVALID_ARGUMENT, notApplied: false },
  BLOB_NOT_FOUND: { status: status.NOT_FOUND, notApplied: false },
  BLOB_TOO_LARGE: { status: status.INVALID_ARGUMENT, notApplied: false },
  // A get tried every holder and each copy was corrupt or its node failed; holders mend it later.
  BLOB_CORRUPT: { status: status.DATA_LOSS, notApplied: true },
  BLOB_UNAVAILABLE: { status: status.UNAVAILABLE, notApplied: true },
  // The copies made are recorded; reconcile adds the rest. Not retried: nodes must come back.
  BLOB_REPLICAS_UNAVAILABLE: { status: status.FAILED_PRECONDITION, notApplied: false },
  BLOB_BUSY: { status: status.RESOURCE_EXHAUSTED, notApplied: true },
  BLOB_CONFLICT: { status: status.ABORTED, notApplied: false },
  BLOBS_UNAVAILABLE: { status: status.UNAVAILABLE, notApplied: true },
  VALIDATION_FAILED: { status: status.INVALID_ARGUMENT, notApplied: false },
};
