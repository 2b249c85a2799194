/** One log entry as the store keeps it. `kind` is an opaque small integer owned by the caller. */
export interface StoredEntry {
  readonly term: number;
  readonly index: number;
  readonly kind: number;
  readonly data: Uint8Array;
}

/** The Raft state that must survive a restart before any vote or acknowledgement is sent. */
export interface StoredHardState {
  readonly term: number;
  /** The node voted for in `term`; 0 means none. */
  readonly vote: number;
  readonly commit: number;
}

/** A state machine snapshot covering every entry up to and including `index`. */
export interface StoredSnapshot {
  readonly index: number;
  readonly term: number;
  /** Cluster membership at `index`, opaque to the store. */
  readonly config: Uint8Array;
  readonly data: Uint8Array;
}

/**
 * A snapshot to save. Its data may come as the parts it was encoded in, written one after
 * another, so that no buffer as large as the whole snapshot is ever made.
 */
export interface SnapshotToSave {
  readonly index: number;
  readonly term: number;
  readonly config: Uint8Array;
  readonly data: Uint8Array | readonly Uint8Array[];
}

export const EMPTY_HARD_STATE: StoredHardState = Object.freeze({ term: 0, vote: 0, commit: 0 });

/** A snapshot file that failed validation at open and was passed over. */
export interface SkippedSnapshot {
  readonly file: string;
  readonly reason: string;
}

/** What `openRaftLogStore` found on disk. */
export interface RecoveredState {
  readonly hardState: StoredHardState;
  /** The newest valid snapshot, if any. */
  readonly snapshot: StoredSnapshot | undefined;
  /** Every entry after the snapshot (or from index 1 without one), in index order. */
  readonly entries: StoredEntry[];
  readonly skippedSnapshots: readonly SkippedSnapshot[];
  /** Bytes of a torn final record cut from the last segment. */
  readonly tornBytes: number;
}
