import { type NodeId, type SnapshotChunk, type SnapshotChunkRead, snapshotChunkOf } from '../raft/index.js';

/** How the sender reads a saved snapshot's bytes and hands a chunk on. */
export interface SnapshotChunkIo {
  /** `length` bytes of the data of the saved snapshot at `index`, from `offset` on. */
  read(index: number, offset: number, length: number): Promise<Uint8Array>;
  send(chunk: SnapshotChunk): void;
  /** The read failed (the snapshot's file was replaced by newer ones, or the disk failed). */
  failed(read: SnapshotChunkRead, error: unknown): void;
}

/**
 * Serves the snapshot chunks the Raft core asks for from the saved snapshot file, so that no
 * node keeps a snapshot-sized buffer to send from. A follower's transfer is one chunk at a time
 * (each sent after the previous is acknowledged, or again at a heartbeat), so at most one read
 * per follower runs; a request made meanwhile replaces the one waiting behind it, which makes
 * the queue one entry per follower.
 */
export class SnapshotChunkSender {
  private readonly reading = new Set<NodeId>();
  private readonly waiting = new Map<NodeId, SnapshotChunkRead>();

  constructor(private readonly io: SnapshotChunkIo) {}

  request(read: SnapshotChunkRead): void {
    if (this.reading.has(read.to)) this.waiting.set(read.to, read);
    else this.start(read);
  }

  private start(read: SnapshotChunkRead): void {
    this.reading.add(read.to);
    this.io
      .read(read.metadata.index, read.offset, read.length)
      .then((data) => this.io.send(snapshotChunkOf(read, data)))
      .catch((error: unknown) => this.io.failed(read, error))
      .finally(() => {
        this.reading.delete(read.to);
        const next = this.waiting.get(read.to);
        if (next === undefined) return;
        this.waiting.delete(read.to);
        this.start(next);
      });
  }
}
