/**
 * Picks where a new daemon member, chain replica or blob copy goes: the placeable node with room
 * that holds the fewest of that kind, then the least reported load, then the smallest id, and
 * among the first few such candidates one in a zone the group does not use yet. A heap keeps a
 * pick at O(log n) however many nodes the mesh has, so a pass over 10,000 chains stays linear.
 */
import type { NodeId } from '../lib/index.js';

/** Candidates looked at per pick for a zone the group does not use yet. */
export const ZONE_SPREAD_CANDIDATES = 8;

export interface PickCandidate {
  readonly id: NodeId;
  readonly zone: string;
  /** Reported utilisation in [0, 1]. */
  readonly load: number;
  /** How many of this kind it holds now. */
  readonly held: number;
  /** How many of this kind it may hold. */
  readonly capacity: number;
}

interface Entry {
  readonly candidate: PickCandidate;
  held: number;
}

export class NodePicker {
  private readonly heap: Entry[] = [];

  constructor(candidates: readonly PickCandidate[]) {
    for (const candidate of candidates) {
      if (candidate.held < candidate.capacity) this.push({ candidate, held: candidate.held });
    }
  }

  /**
   * The node to use next, never one in `excluded`, preferably outside `usedZones`; it then counts
   * one more held. Undefined when no node with room is left.
   */
  pick(excluded: ReadonlySet<NodeId>, usedZones: ReadonlySet<string>): NodeId | undefined {
    const popped: Entry[] = [];
    const eligible: Entry[] = [];
    while (eligible.length < ZONE_SPREAD_CANDIDATES && this.heap.length > 0) {
      const entry = this.pop();
      popped.push(entry);
      if (!excluded.has(entry.candidate.id)) eligible.push(entry);
    }
    const chosen = eligible.find((entry) => !usedZones.has(entry.candidate.zone)) ?? eligible[0];
    for (const entry of popped) {
      if (entry === chosen) {
        entry.held += 1;
        if (entry.held >= entry.candidate.capacity) continue;
      }
      this.push(entry);
    }
    return chosen?.candidate.id;
  }

  private push(entry: Entry): void {
    const heap = this.heap;
    heap.push(entry);
    let index = heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!before(heap[index]!, heap[parent]!)) break;
      [heap[index], heap[parent]] = [heap[parent]!, heap[index]!];
      index = parent;
    }
  }

  private pop(): Entry {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let index = 0;
      for (;;) {
        const left = 2 * index + 1;
        const right = left + 1;
        let smallest = index;
        if (left < heap.length && before(heap[left]!, heap[smallest]!)) smallest = left;
        if (right < heap.length && before(heap[right]!, heap[smallest]!)) smallest = right;
        if (smallest === index) break;
        [heap[index], heap[smallest]] = [heap[smallest]!, heap[index]!];
        index = smallest;
      }
    }
    return top;
  }
}

function before(a: Entry, b: Entry): boolean {
  if (a.held !== b.held) return a.held < b.held;
  if (a.candidate.load !== b.candidate.load) return a.candidate.load < b.candidate.load;
  return a.candidate.id < b.candidate.id;
}

/** How many of `lists` name each node. */
export function countPerNode(lists: Iterable<readonly NodeId[]>): Map<NodeId, number> {
  const counts = new Map<NodeId, number>();
  for (const list of lists) for (const node of list) counts.set(node, (counts.get(node) ?? 0) + 1);
  return counts;
}
