import type { Snapshot, SnapshotChunk, SnapshotChunkRead, SnapshotInfo } from './types.js';

/** The info of a snapshot whose bytes the host holds (one it received, or encoded). */
export function snapshotInfo(snapshot: Snapshot): SnapshotInfo {
  return { metadata: snapshot.metadata, byteLength: snapshot.data.byteLength };
}

/** The chunk message for `read`, with the `data` the host read for it. */
export function snapshotChunkOf(read: SnapshotChunkRead, data: Uint8Array): SnapshotChunk {
  return {
    type: 'snapshot',
    from: read.from,
    to: read.to,
    term: read.term,
    metadata: read.metadata,
    offset: read.offset,
    totalBytes: read.totalBytes,
    data,
  };
}
