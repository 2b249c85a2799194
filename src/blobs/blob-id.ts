/**
 * A blob's id is the SHA-256 of its bytes as 64 lowercase hex digits: the same content has the
 * same id on every node, and a copy is checked by hashing it again.
 */
import { createHash, type Hash } from 'node:crypto';
import { BlobIdInvalidError } from './errors.js';

export type BlobId = string;

const BLOB_ID_PATTERN = /^[0-9a-f]{64}$/;

export function isBlobId(text: string): boolean {
  return BLOB_ID_PATTERN.test(text);
}

/** The id, checked; BLOB_ID_INVALID otherwise. */
export function checkBlobId(text: string): BlobId {
  if (!isBlobId(text)) throw new BlobIdInvalidError(text);
  return text;
}

/** Hashes bytes as they pass (a blob is never held whole to hash it). */
export class BlobHasher {
  private readonly hash: Hash = createHash('sha256');
  bytes = 0;

  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.bytes += chunk.byteLength;
  }

  /** The id of the bytes seen; the hasher is spent after it. */
  digest(): BlobId {
    return this.hash.digest('hex');
  }
}

/** The id of `bytes` (small contents, tests). */
export function blobIdOf(bytes: Uint8Array): BlobId {
  const hasher = new BlobHasher();
  hasher.update(bytes);
  return hasher.digest();
}
