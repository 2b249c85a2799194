import { MAX_SNAPSHOT_BYTES } from './constants.js';
import type { SnapshotChunk, SnapshotInfo, SnapshotMetadata } from './types.js';

export type ChunkOutcome =
  /** More is to come; `accepted` when this chunk continued the snapshot (the host writes it). */
  | { readonly kind: 'partial'; readonly nextOffset: number; readonly accepted: boolean }
  /** This chunk (the host writes it too) was the last one. */
  | { readonly kind: 'complete'; readonly info: SnapshotInfo };

interface Reception {
  readonly metadata: SnapshotMetadata;
  readonly totalBytes: number;
  received: number;
}

/**
 * Follows a snapshot a follower receives in chunks; the bytes go to the host (`Ready.snapshotWrites`),
 * which writes them to a file as they arrive, so no node holds a snapshot in memory. Chunks must
 * arrive in order; a chunk at offset 0 starts over, anything else that does not continue the
 * current reception is ignored and answered with the offset we hold, so the leader resumes from
 * there.
 */
export class SnapshotReceiver {
  private reception: Reception | undefined = undefined;

  reset(): void {
    this.reception = undefined;
  }

  accept(chunk: SnapshotChunk): ChunkOutcome {
    const metadata = chunk.metadata;
    if (chunk.offset === 0 && chunk.totalBytes <= MAX_SNAPSHOT_BYTES) {
      this.reception = { metadata, totalBytes: chunk.totalBytes, received: 0 };
    }
    const reception = this.reception;
    if (
      reception === undefined ||
      reception.metadata.index !== metadata.index ||
      reception.metadata.term !== metadata.term ||
      reception.totalBytes !== chunk.totalBytes ||
      reception.received !== chunk.offset ||
      chunk.offset + chunk.data.byteLength > chunk.totalBytes
    ) {
      const held =
        reception !== undefined && reception.metadata.index === metadata.index ? reception.received : 0;
      return { kind: 'partial', nextOffset: held, accepted: false };
    }
    reception.received += chunk.data.byteLength;
    if (reception.received < reception.totalBytes) {
      return { kind: 'partial', nextOffset: reception.received, accepted: true };
    }
    this.reception = undefined;
    return { kind: 'complete', info: { metadata, byteLength: reception.totalBytes } };
  }
}
