import { MAX_SNAPSHOT_BYTES } from './constants.js';
import type { Snapshot, SnapshotChunk, SnapshotMetadata } from './types.js';

export type ChunkOutcome =
  | { readonly kind: 'partial'; readonly nextOffset: number }
  | { readonly kind: 'complete'; readonly snapshot: Snapshot };

interface Assembly {
  readonly metadata: SnapshotMetadata;
  readonly totalBytes: number;
  /** The whole snapshot, filled chunk by chunk as they arrive. */
  readonly data: Uint8Array;
  received: number;
}

/**
 * Reassembles a snapshot a follower receives in chunks. Chunks must arrive in order; a chunk
 * at offset 0 starts over, anything else that does not continue the current assembly is
 * ignored and answered with the offset we hold, so the leader resumes from there. Each chunk is
 * copied into place as it arrives: joining a 150 MB snapshot at the end would hold the event
 * loop for a long moment.
 */
export class SnapshotReceiver {
  private assembly: Assembly | undefined = undefined;

  reset(): void {
    this.assembly = undefined;
  }

  accept(chunk: SnapshotChunk): ChunkOutcome {
    const metadata = chunk.metadata;
    if (chunk.offset === 0 && chunk.totalBytes <= MAX_SNAPSHOT_BYTES) {
      this.assembly = {
        metadata,
        totalBytes: chunk.totalBytes,
        data: new Uint8Array(chunk.totalBytes),
        received: 0,
      };
    }
    const assembly = this.assembly;
    if (
      assembly === undefined ||
      assembly.metadata.index !== metadata.index ||
      assembly.metadata.term !== metadata.term ||
      assembly.totalBytes !== chunk.totalBytes ||
      assembly.received !== chunk.offset ||
      chunk.offset + chunk.data.byteLength > chunk.totalBytes
    ) {
      const held =
        assembly !== undefined && assembly.metadata.index === metadata.index ? assembly.received : 0;
      return { kind: 'partial', nextOffset: held };
    }
    assembly.data.set(chunk.data, assembly.received);
    assembly.received += chunk.data.byteLength;
    if (assembly.received < assembly.totalBytes) return { kind: 'partial', nextOffset: assembly.received };
    this.assembly = undefined;
    return { kind: 'complete', snapshot: { metadata, data: assembly.data } };
  }
}
