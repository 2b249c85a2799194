/**
 * The node's blob store: ids are the SHA-256 of the bytes; a copy streams in by chunks and is
 * read back by chunks; a corrupt copy is refused with BLOB_CORRUPT before any byte is served; a
 * crash at any step of a write leaves either no blob or the whole blob (temporary part,
 * fdatasync, rename, directory fsync) and no part after the store opens again.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BLOB_CHUNK_BYTES, BlobStore, blobIdOf, checkBlobId, isBlobId } from '../../../src/blobs/index.js';
import { MemoryDisk } from '../../../src/lib/index.js';
import { rejectionCode, thrownCode } from '../../support/error-code.js';
import { BLOB_DIRECTORY, chunksOf, collect, patternBytes, sameBytes } from '../mesh/blob-mesh.js';

async function write(store: BlobStore, bytes: Uint8Array) {
  const writer = await store.writer();
  for await (const chunk of chunksOf(bytes, 300_000)) await writer.write(chunk);
  return writer;
}

async function storeBlob(store: BlobStore, bytes: Uint8Array): Promise<string> {
  const staged = await (await write(store, bytes)).finish();
  await staged.commit();
  return staged.id;
}

async function partsLeft(disk: MemoryDisk): Promise<string[]> {
  return disk.list(path.join(BLOB_DIRECTORY, 'tmp'));
}

describe('blob ids', () => {
  it('are the SHA-256 of the bytes as 64 lowercase hex digits', () => {
    const bytes = new TextEncoder().encode('hello blobs');
    const id = blobIdOf(bytes);
    expect(id).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(isBlobId(id)).toBe(true);
    expect(isBlobId(id.toUpperCase())).toBe(false);
    expect(isBlobId(id.slice(1))).toBe(false);
    expect(thrownCode(() => checkBlobId('../etc/passwd'))).toBe('BLOB_ID_INVALID');
  });
});

describe('BlobStore', () => {
  it('stores a blob larger than a chunk under its id and reads it back whole, in chunks', async () => {
    const disk = new MemoryDisk();
    const store = await BlobStore.open(disk, BLOB_DIRECTORY);
    const bytes = patternBytes(2 * BLOB_CHUNK_BYTES + 12_345);
    const id = await storeBlob(store, bytes);
    expect(id).toBe(blobIdOf(bytes));
    expect(await store.list()).toEqual([id]);
    const opened = await store.openChecked(id);
    expect(opened.size).toBe(bytes.byteLength);
    const chunks: Uint8Array[] = [];
    for await (const chunk of opened.chunks) chunks.push(chunk);
    expect(chunks.map((chunk) => chunk.byteLength)).toEqual([BLOB_CHUNK_BYTES, BLOB_CHUNK_BYTES, 12_345]);
    expect(sameBytes(Buffer.concat(chunks), bytes)).toBe(true);
    expect(await partsLeft(disk)).toEqual([]);
  });

  it('keeps one copy when the same bytes are stored twice', async () => {
    const store = await BlobStore.open(new MemoryDisk(), BLOB_DIRECTORY);
    const bytes = patternBytes(5_000);
    const first = await storeBlob(store, bytes);
    const second = await storeBlob(store, bytes);
    expect(second).toBe(first);
    expect(await store.list()).toEqual([first]);
  });

  it('refuses a corrupt copy with BLOB_CORRUPT before serving any byte', async () => {
    const disk = new MemoryDisk();
    const store = await BlobStore.open(disk, BLOB_DIRECTORY);
    const id = await storeBlob(store, patternBytes(BLOB_CHUNK_BYTES + 10));
    disk.flipBit(path.join(BLOB_DIRECTORY, id), BLOB_CHUNK_BYTES + 3);
    expect(await rejectionCode(store.verify(id))).toBe('BLOB_CORRUPT');
    expect(await rejectionCode(store.openChecked(id))).toBe('BLOB_CORRUPT');
  });

  it('refuses bytes that do not hash to the id a copy was asked for, and removes the part', async () => {
    const disk = new MemoryDisk();
    const store = await BlobStore.open(disk, BLOB_DIRECTORY);
    const writer = await write(store, patternBytes(1_000, 7));
    expect(await rejectionCode(writer.finish(blobIdOf(patternBytes(1_000, 8))))).toBe('BLOB_CORRUPT');
    expect(await store.list()).toEqual([]);
    expect(await partsLeft(disk)).toEqual([]);
  });

  it('refuses a blob above its limit with BLOB_TOO_LARGE and removes the part', async () => {
    const disk = new MemoryDisk();
    const store = await BlobStore.open(disk, BLOB_DIRECTORY, { maxBlobBytes: 1_000 });
    const writer = await store.writer();
    await writer.write(patternBytes(600));
    expect(await rejectionCode(writer.write(patternBytes(600)))).toBe('BLOB_TOO_LARGE');
    expect(await partsLeft(disk)).toEqual([]);
  });

  it('answers BLOB_NOT_FOUND for a blob it does not hold', async () => {
    const store = await BlobStore.open(new MemoryDisk(), BLOB_DIRECTORY);
    expect(await rejectionCode(store.openChecked(blobIdOf(patternBytes(3))))).toBe('BLOB_NOT_FOUND');
  });

  describe('a crash', () => {
    const bytes = patternBytes(BLOB_CHUNK_BYTES + 777, 3);
    const id = blobIdOf(bytes);

    it('while the bytes stream in leaves no blob and, once reopened, no part', async () => {
      const disk = new MemoryDisk();
      const store = await BlobStore.open(disk, BLOB_DIRECTORY);
      await write(store, bytes);
      disk.crash();
      const reopened = await BlobStore.open(disk, BLOB_DIRECTORY);
      expect(await reopened.has(id)).toBe(false);
      expect(await partsLeft(disk)).toEqual([]);
    });

    it('after the part is synced but before the rename leaves no blob and, once reopened, no part', async () => {
      const disk = new MemoryDisk();
      const store = await BlobStore.open(disk, BLOB_DIRECTORY);
      const staged = await (await write(store, bytes)).finish();
      expect(staged.id).toBe(id);
      disk.crash();
      const reopened = await BlobStore.open(disk, BLOB_DIRECTORY);
      expect(await reopened.list()).toEqual([]);
      expect(await partsLeft(disk)).toEqual([]);
    });

    it('after the commit keeps the whole blob, which checks out', async () => {
      const disk = new MemoryDisk();
      const store = await BlobStore.open(disk, BLOB_DIRECTORY);
      expect(await storeBlob(store, bytes)).toBe(id);
      disk.crash();
      const reopened = await BlobStore.open(disk, BLOB_DIRECTORY);
      expect(await reopened.verify(id)).toBe(bytes.byteLength);
      expect(sameBytes(await collect((await reopened.openChecked(id)).chunks), bytes)).toBe(true);
    });
  });
});
