import { MAX_SNAPSHOT_BYTES } from './constants.js';
import type { Snapshot, SnapshotChunk, SnapshotMetadata } from './types.js';

export type ChunkOutcome =
  | { readonly kind: 'partial'; readonly nextOffset: number }
  | { readonly kind: 'complete'; readonly snapshot: Snapshot };

interface Assembly {
  readonly metadata: SnapshotMetadata;
  readonly totalBytes: number;
  readonly chunks: Uint8Array[];
  received: number;
}

/**
 * Reassembles a snapshot a follower receives in chunks. Chunks must arrive in order; a chunk
 * at offset 0 starts over, anything else that does not continue the current assembly is
 * ignored and answered with the offset we hold, so the leader resumes from there.
 */
export class SnapshotReceiver {
  private assembly: Assembly | undefined = undefined;

  reset(): void {
    this.assembly = undefined;
  }

  accept(chunk: SnapshotChunk): ChunkOutcome {
    const metadata = chunk.metadata;
    if (chunk.offset === 0 && chunk.totalBytes <= MAX_SNAPSHOT_BYTES) {
      this.assembly = { metadata, totalBytes: chunk.totalBytes, chunks: [], received: 0 };
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
    if (chunk.data.byteLength > 0) assembly.chunks.push(chunk.data);
    assembly.received += chunk.data.byteLength;
    if (assembly.received < assembly.totalBytes) return { kind: 'partial', nextOffset: assembly.received };
    this.assembly = undefined;
    const data = new Uint8Array(assembly.totalBytes);
    let offset = 0;
    for (const part of assembly.chunks) {
      data.set(part, offset);
      offset += part.byteLength;
    }
    return { kind: 'complete', snapshot: { metadata, data } };
  }
}
