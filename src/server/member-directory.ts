import type { ClusterMember } from '../api/index.js';
import type { NodeId } from '../lib/index.js';

/** A directory record: how to reach one member. Replicated, so every node agrees on it. */
export interface MemberRecord {
  readonly id: NodeId;
  readonly name: string;
  readonly peerUrls: readonly string[];
  readonly clientUrls: readonly string[];
  /** A learner that joined with this set is promoted to voter by the leader once caught up. */
  readonly autoPromote?: boolean;
}

interface DirectoryState {
  readonly members: readonly MemberRecord[];
  readonly removed: readonly NodeId[];
}

/** Member addresses and names; Raft's configuration says who votes, this says where they are. */
export class MemberDirectory {
  private records = new Map<NodeId, MemberRecord>();
  /** Ids removed for good: never handed out again, and refused when such a node dials a peer. */
  private removed = new Set<NodeId>();
  /** Called after every change, so the node can update where it sends peer traffic. */
  onChange: () => void = () => {};

  set(record: MemberRecord): void {
    this.records.set(record.id, record);
    this.onChange();
  }

  remove(id: NodeId): void {
    this.records.delete(id);
    this.removed.add(id);
    this.onChange();
  }

  isRemoved(id: NodeId): boolean {
    return this.removed.has(id);
  }

  /** The highest id ever recorded here, present or removed: a new member's id must exceed it. */
  highestId(): NodeId | 0 {
    return Math.max(0, ...this.records.keys(), ...this.removed);
  }

  get(id: NodeId): MemberRecord | undefined {
    return this.records.get(id);
  }

  all(): MemberRecord[] {
    return [...this.records.values()].sort((left, right) => left.id - right.id);
  }

  /** Raft's members (voters and learners) with the names and URLs this directory knows. */
  toMembers(learners: readonly NodeId[], voters: readonly NodeId[]): ClusterMember[] {
    return [...new Set([...voters, ...learners])]
      .sort((left, right) => left - right)
      .map((id) => {
        const record = this.records.get(id);
        return {
          id,
          name: record?.name ?? '',
          peerUrls: record?.peerUrls ?? [],
          clientUrls: record?.clientUrls ?? [],
          isLearner: learners.includes(id),
        };
      });
  }

  snapshot(): string {
    const state: DirectoryState = { members: this.all(), removed: [...this.removed].sort((a, b) => a - b) };
    return JSON.stringify(state);
  }

  /** Takes a snapshot's state; a snapshot from before removed ids were kept is a bare member list. */
  restore(text: string): void {
    const parsed = JSON.parse(text) as DirectoryState | MemberRecord[];
    const state = Array.isArray(parsed) ? { members: parsed, removed: [] } : parsed;
    this.records = new Map(state.members.map((record) => [record.id, record]));
    this.removed = new Set(state.removed);
    this.onChange();
  }
}
