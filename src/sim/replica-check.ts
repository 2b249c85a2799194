import type { NodeId } from '../lib/index.js';

/** The serialized state one node reached at one applied index. */
export interface ReplicaState {
  readonly node: NodeId;
  readonly appliedIndex: number;
  readonly snapshot: Uint8Array;
}

export interface ReplicaComparison {
  /** Pairs of nodes compared (same applied index). */
  readonly comparedPairs: number;
  /** First difference found, in words; undefined when every compared pair is identical. */
  readonly mismatch: string | undefined;
}

/** 32-bit FNV-1a of a byte string, for compact checkpoint records. */
export function hashBytes(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < bytes.length; index++) hash = Math.imul(hash ^ bytes[index]!, 0x01000193);
  return hash >>> 0;
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let index = 0; index < length; index++) if (a[index] !== b[index]) return index;
  return length;
}

/**
 * Deterministic apply means replicas that applied the same prefix of the log hold the same
 * bytes: groups the states by applied index and compares each against the group's first.
 */
export function compareReplicas(states: readonly ReplicaState[]): ReplicaComparison {
  const byIndex = new Map<number, ReplicaState[]>();
  for (const state of states) {
    const group = byIndex.get(state.appliedIndex) ?? [];
    group.push(state);
    byIndex.set(state.appliedIndex, group);
  }
  let comparedPairs = 0;
  for (const [index, group] of byIndex) {
    const reference = group[0]!;
    for (const other of group.slice(1)) {
      comparedPairs++;
      const a = reference.snapshot;
      const b = other.snapshot;
      if (a.length === b.length && firstDifference(a, b) === a.length) continue;
      return {
        comparedPairs,
        mismatch:
          `nodes ${reference.node} and ${other.node} applied through index ${index} but their snapshots differ ` +
          `(${a.length} and ${b.length} bytes, first difference at byte ${firstDifference(a, b)})`,
      };
    }
  }
  return { comparedPairs, mismatch: undefined };
}
