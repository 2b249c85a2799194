import type { NodeId } from './types.js';

/** A linearizable read the leader has accepted but not yet released. */
export interface PendingRead {
  readonly requestId: string;
  /** The node that asked: the leader itself, or a follower that forwarded it. */
  readonly from: NodeId;
  /** Commit index recorded when the read arrived; the read is served at or after it. */
  readonly index: number;
  /** Heartbeat context that confirms this read. */
  readonly context: string;
  readonly acks: Set<NodeId>;
}

/**
 * Reads waiting for a heartbeat round to confirm that this node still leads (ReadIndex, thesis
 * section 6.4). Reads are released in arrival order: once a later read is confirmed, every
 * earlier one is too, because the confirming round started after they arrived.
 */
export class ReadOnlyQueue {
  private queue: PendingRead[] = [];
  private nextContext = 1;

  get size(): number {
    return this.queue.length;
  }

  lastContext(): string {
    return this.queue.at(-1)?.context ?? '';
  }

  add(requestId: string, from: NodeId, index: number, self: NodeId): PendingRead {
    const read: PendingRead = {
      requestId,
      from,
      index,
      context: `r${this.nextContext++}`,
      acks: new Set([self]),
    };
    this.queue.push(read);
    return read;
  }

  /** Records `node`'s acknowledgement of `context`; returns the read it confirms, if any. */
  acknowledge(context: string, node: NodeId): PendingRead | undefined {
    const read = this.queue.find((candidate) => candidate.context === context);
    read?.acks.add(node);
    return read;
  }

  /** Removes and returns every read up to and including `read`. */
  releaseThrough(read: PendingRead): PendingRead[] {
    const position = this.queue.indexOf(read);
    if (position < 0) return [];
    return this.queue.splice(0, position + 1);
  }

  drain(): PendingRead[] {
    const all = this.queue;
    this.queue = [];
    return all;
  }
}
