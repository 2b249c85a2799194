/**
 * A node's blob store on its disk: one file per blob, named by its id, in `<dir>/`. A blob is
 * written to `<dir>/tmp/<n>.part` while it streams in (hashed on the way), made durable
 * (fdatasync), then renamed to its id and the directory fsynced: a crash leaves either no file
 * or the whole blob, and the parts a crash left behind are removed when the store opens. Every
 * read checks the bytes against the id; a copy that does not match is BLOB_CORRUPT and never
 * served. Nothing holds a whole blob in memory: reads and writes go by BLOB_CHUNK_BYTES.
 */
import * as path from 'node:path';
import { assert, type Disk, type DiskFile } from '../lib/index.js';
import { BlobHasher, type BlobId, checkBlobId, isBlobId } from './blob-id.js';
import { BlobCorruptError, BlobNotFoundError, BlobTooLargeError } from './errors.js';
import { BLOB_CHUNK_BYTES, MAX_BLOB_BYTES } from './limits.js';

const TEMPORARY_DIRECTORY = 'tmp';
const TEMPORARY_SUFFIX = '.part';

/** A blob written to a temporary file and hashed, not yet in the store. */
export interface StagedBlob {
  readonly id: BlobId;
  readonly size: number;
  /** Reads the staged bytes (already checked against `id`). */
  chunks(): AsyncIterable<Uint8Array>;
  /** Moves it into the store (durable once this resolves); a copy already there is kept. */
  commit(): Promise<void>;
  /** Removes the temporary file. */
  discard(): Promise<void>;
}

export interface BlobWriter {
  /** Appends a chunk; BLOB_TOO_LARGE past `MAX_BLOB_BYTES` (the part is removed). */
  write(chunk: Uint8Array): Promise<void>;
  /**
   * Syncs the part and hashes it: BLOB_CORRUPT when `expected` is given and the bytes hash to
   * another id (the part is removed).
   */
  finish(expected?: BlobId): Promise<StagedBlob>;
  /** Removes the part (after a failed transfer). */
  abort(): Promise<void>;
}

export class BlobStore {
  private nextPart = 0;
  private readonly where: string;

  private constructor(
    private readonly disk: Disk,
    readonly directory: string,
    /** Names this store in errors (`node 3`). */
    where: string,
    private readonly maxBlobBytes: number,
  ) {
    this.where = where;
  }

  /** Opens the store, creating its folders and removing the parts a crash left behind. */
  static async open(
    disk: Disk,
    directory: string,
    options: { readonly where?: string; readonly maxBlobBytes?: number } = {},
  ): Promise<BlobStore> {
    await disk.makeDirectory(directory);
    const temporary = path.join(directory, TEMPORARY_DIRECTORY);
    await disk.makeDirectory(temporary);
    for (const name of await disk.list(temporary)) await disk.remove(path.join(temporary, name));
    return new BlobStore(
      disk,
      directory,
      options.where ?? 'this node',
      options.maxBlobBytes ?? MAX_BLOB_BYTES,
    );
  }

  /** The ids of the blobs stored here. */
  async list(): Promise<BlobId[]> {
    return (await this.disk.list(this.directory)).filter(isBlobId);
  }

  async has(id: BlobId): Promise<boolean> {
    return this.disk.exists(this.fileOf(id));
  }

  /** The stored copy's size; BLOB_NOT_FOUND when there is none. */
  async size(id: BlobId): Promise<number> {
    const file = await this.openCopy(id);
    try {
      return await file.size();
    } finally {
      await file.close();
    }
  }

  /** Reads `length` bytes at `offset` of the stored copy (shorter at its end), unchecked: the reader hashes. */
  async readAt(id: BlobId, offset: number, length: number): Promise<{ bytes: Uint8Array; size: number }> {
    const file = await this.openCopy(id);
    try {
      return {
        bytes: await file.readAt(offset, Math.min(length, BLOB_CHUNK_BYTES)),
        size: await file.size(),
      };
    } finally {
      await file.close();
    }
  }

  /** Hashes the whole stored copy: BLOB_CORRUPT when it does not match its id. Answers its size. */
  async verify(id: BlobId): Promise<number> {
    const hasher = new BlobHasher();
    for await (const chunk of this.rawChunks(id)) hasher.update(chunk);
    const actual = hasher.digest();
    if (actual !== id) throw new BlobCorruptError(id, this.where, actual);
    return hasher.bytes;
  }

  /**
   * Checks the stored copy (BLOB_NOT_FOUND, BLOB_CORRUPT) and answers its size and its bytes,
   * chunk by chunk: nothing of a corrupt copy is served. The bytes are hashed again as they
   * stream, in case the file changed since the check (BLOB_CORRUPT at the end then).
   */
  async openChecked(id: BlobId): Promise<{ size: number; chunks: AsyncGenerator<Uint8Array> }> {
    const size = await this.verify(id);
    return { size, chunks: this.rehashed(id) };
  }

  private async *rehashed(id: BlobId): AsyncGenerator<Uint8Array> {
    const hasher = new BlobHasher();
    for await (const chunk of this.rawChunks(id)) {
      hasher.update(chunk);
      yield chunk;
    }
    const actual = hasher.digest();
    if (actual !== id) throw new BlobCorruptError(id, this.where, actual);
  }

  /** Removes the stored copy (no-op when there is none). */
  async remove(id: BlobId): Promise<void> {
    checkBlobId(id);
    const file = this.fileOf(id);
    if (!(await this.disk.exists(file))) return;
    await this.disk.remove(file);
    await this.disk.fsyncDirectory(this.directory);
  }

  /**
   * A new temporary part to stream a blob into. `durable: false` skips the fdatasync: for a copy
   * only served once and discarded (a get on a node without a copy), never committed.
   */
  async writer(options: { readonly durable?: boolean } = {}): Promise<BlobWriter> {
    const durable = options.durable ?? true;
    const part = path.join(this.directory, TEMPORARY_DIRECTORY, `${this.nextPart++}${TEMPORARY_SUFFIX}`);
    const file = await this.disk.open(part, 'create', { background: true });
    const hasher = new BlobHasher();
    let open = true;
    const close = async (): Promise<void> => {
      if (!open) return;
      open = false;
      await file.close();
    };
    const removePart = async (): Promise<void> => {
      await close();
      if (await this.disk.exists(part)) await this.disk.remove(part);
    };
    return {
      write: async (chunk) => {
        if (hasher.bytes + chunk.byteLength > this.maxBlobBytes) {
          await removePart();
          throw new BlobTooLargeError(hasher.bytes + chunk.byteLength, this.maxBlobBytes);
        }
        hasher.update(chunk);
        await file.append(chunk);
      },
      finish: async (expected) => {
        if (durable) await file.datasync();
        await close();
        const id = hasher.digest();
        if (expected !== undefined && id !== expected) {
          await removePart();
          throw new BlobCorruptError(expected, `its copy to ${this.where}`, id);
        }
        return this.staged(part, id, hasher.bytes, durable);
      },
      abort: removePart,
    };
  }

  private staged(part: string, id: BlobId, size: number, durable: boolean): StagedBlob {
    return {
      id,
      size,
      chunks: () => chunksOf(this.disk, part),
      commit: async () => {
        assert(durable, 'a part written without fdatasync is never committed');
        const file = this.fileOf(id);
        if (await this.disk.exists(file)) {
          await this.disk.remove(part);
          return;
        }
        await this.disk.rename(part, file);
        await this.disk.fsyncDirectory(this.directory);
      },
      discard: async () => {
        if (await this.disk.exists(part)) await this.disk.remove(part);
      },
    };
  }

  private rawChunks(id: BlobId): AsyncGenerator<Uint8Array> {
    checkBlobId(id);
    return chunksOf(this.disk, this.fileOf(id), () => new BlobNotFoundError(id, this.where));
  }

  private async openCopy(id: BlobId): Promise<DiskFile> {
    checkBlobId(id);
    const file = this.fileOf(id);
    if (!(await this.disk.exists(file))) throw new BlobNotFoundError(id, this.where);
    return this.disk.open(file, 'read');
  }

  private fileOf(id: BlobId): string {
    return path.join(this.directory, id);
  }
}

/** A file's bytes in chunks of BLOB_CHUNK_BYTES, one open file at a time. */
async function* chunksOf(disk: Disk, file: string, missing?: () => Error): AsyncGenerator<Uint8Array> {
  if (missing !== undefined && !(await disk.exists(file))) throw missing();
  const handle = await disk.open(file, 'read');
  try {
    const size = await handle.size();
    for (let offset = 0; offset < size; ) {
      const chunk = await handle.readAt(offset, Math.min(BLOB_CHUNK_BYTES, size - offset));
      if (chunk.byteLength === 0) break;
      offset += chunk.byteLength;
      yield chunk;
    }
  } finally {
    await handle.close();
  }
}
