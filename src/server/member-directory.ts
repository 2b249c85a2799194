import type { ClusterMember } from '../api/index.js';
import { isNodeId, MeshError, type NodeId } from '../lib/index.js';

/** A directory record: how to reach one member. Replicated, so every node agrees on it. */
export interface MemberRecord {
  readonly id: NodeId;
  readonly name: string;
  readonly peerUrls: readonly string[];
  readonly clientUrls: readonly string[];
  /** A learner that joined with this set is promoted to voter by the leader once caught up. */
  readonly autoPromote?: boolean;
}

export interface DirectoryState {
  readonly members: readonly MemberRecord[];
  readonly removed: readonly NodeId[];
}

/** A member directory in a snapshot that does not read as one (SNAPSHOT_CORRUPT). */
export class MemberDirectoryDecodeError extends MeshError {
  constructor(problem: string) {
    super('SNAPSHOT_CORRUPT', `member directory in the snapshot: ${problem}`, { details: { problem } });
  }
}

function isTextList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/** `value` as a member record when it has a record's fields and types, else undefined. */
export function readMemberRecord(value: unknown): MemberRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  if (!isNodeId(record.id) || typeof record.name !== 'string') return undefined;
  if (!isTextList(record.peerUrls) || !isTextList(record.clientUrls)) return undefined;
  if (record.autoPromote !== undefined && typeof record.autoPromote !== 'boolean') return undefined;
  return value as MemberRecord;
}

/**
 * The directory state in a snapshot's text, every record checked, so a damaged snapshot is refused
 * before anything is replaced; a snapshot from before removed ids were kept is a bare member list.
 */
export function parseDirectoryState(text: string): DirectoryState {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new MemberDirectoryDecodeError('not JSON');
  }
  const state = Array.isArray(parsed) ? { members: parsed, removed: [] } : parsed;
  if (typeof state !== 'object' || state === null) throw new MemberDirectoryDecodeError('not an object');
  const { members, removed } = state as { members?: unknown; removed?: unknown };
  if (!Array.isArray(members) || !members.every((member) => readMemberRecord(member) !== undefined)) {
    throw new MemberDirectoryDecodeError('members is not a list of member records');
  }
  if (!Array.isArray(removed) || !removed.every(isNodeId)) {
    throw new MemberDirectoryDecodeError('removed is not a list of node ids');
  }
  return { members, removed };
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

  /** Takes a snapshot's state (`parseDirectoryState`); throws SNAPSHOT_CORRUPT, changing nothing, on bad text. */
  restore(text: string): void {
    this.restoreState(parseDirectoryState(text));
  }

  restoreState(state: DirectoryState): void {
    this.records = new Map(state.members.map((record) => [record.id, record]));
    this.removed = new Set(state.removed);
    this.onChange();
  }
}
