import { isNodeId, MeshError, type NodeId } from '../lib/index.js';
import type {
  ClusterConfig,
  Entry,
  EntryKind,
  HardState,
  Snapshot,
  SnapshotMetadata,
} from '../raft/index.js';
import type { SnapshotToSave, StoredEntry, StoredHardState, StoredSnapshot } from '../store/index.js';

/** Entry kinds as the store keeps them; the numbers are part of the on-disk format. */
const KIND_CODES: Readonly<Record<EntryKind, number>> = { normal: 0, config: 1, noop: 2 };
const KINDS_BY_CODE: readonly EntryKind[] = ['normal', 'config', 'noop'];

export function toStoredEntry(entry: Entry): StoredEntry {
  return { term: entry.term, index: entry.index, kind: KIND_CODES[entry.kind], data: entry.data };
}

export function fromStoredEntry(stored: StoredEntry): Entry {
  const kind = KINDS_BY_CODE[stored.kind];
  if (kind === undefined) {
    throw new MeshError('STORE_CORRUPT', `entry ${stored.index} has unknown kind ${stored.kind}`);
  }
  return { term: stored.term, index: stored.index, kind, data: stored.data };
}

export function toStoredHardState(hardState: HardState): StoredHardState {
  return { term: hardState.term, vote: hardState.vote, commit: hardState.commit };
}

export function encodeClusterConfig(config: ClusterConfig): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({
      voters: config.voters,
      learners: config.learners,
      outgoingVoters: config.outgoingVoters,
    }),
  );
}

/** A snapshot's stored cluster configuration that is not one (its file passed its checksum, so it was written so). */
export class ClusterConfigDecodeError extends MeshError {
  constructor(problem: string) {
    super('SNAPSHOT_CORRUPT', `cluster configuration in the snapshot: ${problem}`, { details: { problem } });
  }
}

export function decodeClusterConfig(bytes: Uint8Array): ClusterConfig {
  let parsed: Partial<ClusterConfig>;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes)) as Partial<ClusterConfig>;
  } catch {
    throw new ClusterConfigDecodeError('not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null) throw new ClusterConfigDecodeError('not an object');
  const ids = (value: unknown): NodeId[] => (Array.isArray(value) && value.every(isNodeId) ? value : []);
  return {
    voters: ids(parsed.voters),
    learners: ids(parsed.learners),
    outgoingVoters: ids(parsed.outgoingVoters),
  };
}

/** A snapshot to save: its metadata, and its data whole or in the parts it was encoded in. */
export function toStoredSnapshot(
  metadata: SnapshotMetadata,
  data: Uint8Array | readonly Uint8Array[],
): SnapshotToSave {
  return { index: metadata.index, term: metadata.term, config: encodeClusterConfig(metadata.config), data };
}

export function fromStoredSnapshot(stored: StoredSnapshot): Snapshot {
  return {
    metadata: { index: stored.index, term: stored.term, config: decodeClusterConfig(stored.config) },
    data: stored.data,
  };
}
