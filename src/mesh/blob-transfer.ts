/**
 * Blob copies between nodes over the blobs channel of the peer transport. A node fetching a blob
 * asks a holder for it chunk by chunk (`BLOB_CHUNK_BYTES` each, `BLOB_FETCH_WINDOW_CHUNKS` in
 * flight), streams the chunks into a temporary part of its store and checks the whole against
 * the id before anything is kept or served. The holder checks its own copy when a transfer starts
 * (offset 0): a corrupt copy answers BLOB_CORRUPT and is reported by its holder. Transfers on one
 * node are bounded by `TransferSlots`.
 */
import {
  BLOB_CHUNK_BYTES,
  BLOB_CHUNK_TIMEOUT_MS,
  BLOB_FETCH_WINDOW_CHUNKS,
  BlobBusyError,
  type BlobId,
  BlobUnavailableError,
  type BlobWriter,
  MAX_BLOB_BYTES,
  MAX_CONCURRENT_BLOB_TRANSFERS,
  MAX_WAITING_BLOB_TRANSFERS,
  type StagedBlob,
} from '../blobs/index.js';
import { MeshError, type NodeId } from '../lib/index.js';
import type { PeerMessage, PeerRequestChannel } from './peer-request-channel.js';

/** At most `running` transfers at once and `waiting` queued for a slot; past that BLOB_BUSY. */
export class TransferSlots {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly maxRunning = MAX_CONCURRENT_BLOB_TRANSFERS,
    private readonly maxWaiting = MAX_WAITING_BLOB_TRANSFERS,
  ) {}

  async run<T>(transfer: () => Promise<T>): Promise<T> {
    if (this.running >= this.maxRunning) {
      if (this.waiting.length >= this.maxWaiting) throw new BlobBusyError(this.running, this.waiting.length);
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else this.running += 1;
    try {
      return await transfer();
    } finally {
      // The slot passes straight to the next waiter, so `running` stays counted for it.
      const next = this.waiting.shift();
      if (next === undefined) this.running -= 1;
      else next();
    }
  }

  get inUse(): number {
    return this.running;
  }
}

interface Chunk {
  readonly size: number;
  readonly bytes: Uint8Array;
}

/** The request for the chunk of `id` at `offset`. */
export function chunkRequest(id: BlobId, offset: number): PeerMessage {
  return { header: { type: 'chunk', id, offset }, blobs: [] };
}

async function askChunk(peers: PeerRequestChannel, node: NodeId, id: BlobId, offset: number): Promise<Chunk> {
  const answer = await peers.request(node, chunkRequest(id, offset), BLOB_CHUNK_TIMEOUT_MS);
  const size = answer.header.size;
  const bytes = answer.blobs[0];
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || bytes === undefined)
    throw new BlobUnavailableError(id, `node ${node} answered no chunk`);
  if (size > MAX_BLOB_BYTES)
    throw new BlobUnavailableError(id, `node ${node}'s copy has ${size} bytes, above the limit`);
  const expected = Math.min(BLOB_CHUNK_BYTES, Math.max(0, size - offset));
  if (bytes.byteLength !== expected)
    throw new BlobUnavailableError(
      id,
      `node ${node} answered ${bytes.byteLength} bytes at ${offset}, not ${expected}`,
    );
  return { size, bytes };
}

/**
 * Copies `id` from `node` into `writer` and checks it (BLOB_CORRUPT when the bytes do not hash
 * to the id; the part is removed on any failure).
 */
export async function fetchBlob(
  peers: PeerRequestChannel,
  node: NodeId,
  id: BlobId,
  writer: BlobWriter,
): Promise<StagedBlob> {
  const inFlight: Promise<Chunk>[] = [];
  try {
    const first = await askChunk(peers, node, id, 0);
    await writer.write(first.bytes);
    let received = first.bytes.byteLength;
    let requested = received;
    while (received < first.size) {
      while (inFlight.length < BLOB_FETCH_WINDOW_CHUNKS && requested < first.size) {
        const asked = askChunk(peers, node, id, requested);
        // Awaited in order below; a failure meanwhile must not go unhandled.
        asked.catch(() => undefined);
        inFlight.push(asked);
        requested += BLOB_CHUNK_BYTES;
      }
      const chunk = await (inFlight.shift() as Promise<Chunk>);
      if (chunk.size !== first.size)
        throw new BlobUnavailableError(id, `node ${node}'s copy changed size during the transfer`);
      await writer.write(chunk.bytes);
      received += chunk.bytes.byteLength;
    }
    return await writer.finish(id);
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

/**
 * Fetches `id` from the first of `sources` that serves a whole, checked copy (in the order
 * given), and answers which one did; BLOB_UNAVAILABLE naming each source's failure when none does.
 */
export async function fetchFromAny(
  peers: PeerRequestChannel,
  sources: readonly NodeId[],
  id: BlobId,
  newWriter: () => Promise<BlobWriter>,
): Promise<{ readonly staged: StagedBlob; readonly source: NodeId }> {
  const reasons: string[] = [];
  let last: unknown;
  for (const source of sources) {
    try {
      return { staged: await fetchBlob(peers, source, id, await newWriter()), source };
    } catch (error) {
      last = error;
      reasons.push(
        `node ${source}: ${error instanceof MeshError ? `${error.code}: ` : ''}${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  throw new BlobUnavailableError(
    id,
    sources.length === 0 ? 'no live node holds a copy' : `every holder failed (${reasons.join('; ')})`,
    last,
  );
}
