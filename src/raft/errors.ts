import { MeshError } from '../lib/index.js';
import type { NodeId } from './types.js';

/** This node is not the leader; `leaderId` is the leader it knows of, or 0. */
export class NotLeaderError extends MeshError {
  readonly leaderId: NodeId | 0;

  constructor(leaderId: NodeId | 0) {
    super('NOT_LEADER', leaderId === 0 ? 'no leader is known' : `not the leader; the leader is ${leaderId}`, {
      details: { leaderId },
    });
    this.leaderId = leaderId;
  }
}

/** The leader is handing leadership over and refuses new proposals until that ends. */
export class LeadershipTransferInProgressError extends MeshError {
  constructor(target: NodeId) {
    super('TRANSFER_IN_PROGRESS', `leadership is being transferred to ${target}`, { details: { target } });
  }
}

/** A configuration change is still uncommitted (or the cluster is still joint). */
export class ConfigChangeInProgressError extends MeshError {
  constructor(reason: string) {
    super('CONFIG_CHANGE_PENDING', `another configuration change is pending: ${reason}`);
  }
}

/** The requested configuration change does not make sense for the current configuration. */
export class InvalidConfigChangeError extends MeshError {
  constructor(reason: string) {
    super('INVALID_CONFIG_CHANGE', reason);
  }
}

/** Too many reads wait for confirmation; the caller should back off. */
export class TooManyPendingReadsError extends MeshError {
  constructor(limit: number) {
    super('TOO_MANY_PENDING_READS', `more than ${limit} reads are pending`, { details: { limit } });
  }
}

/** A proposal was larger than the core accepts. */
export class ProposalTooLargeError extends MeshError {
  constructor(bytes: number, limit: number) {
    super('PROPOSAL_TOO_LARGE', `proposal of ${bytes} bytes exceeds ${limit} bytes`, {
      details: { bytes, limit },
    });
  }
}

/** Storage was asked for entries that were compacted into a snapshot. */
export class LogCompactedError extends MeshError {
  constructor(index: number, firstIndex: number) {
    super('LOG_COMPACTED', `index ${index} is compacted (first index ${firstIndex})`, {
      details: { index, firstIndex },
    });
  }
}

/** Storage was asked for entries it does not have yet. */
export class LogUnavailableError extends MeshError {
  constructor(index: number, lastIndex: number) {
    super('LOG_UNAVAILABLE', `index ${index} is beyond the last index ${lastIndex}`, {
      details: { index, lastIndex },
    });
  }
}

/** A snapshot older than the one storage already holds. */
export class SnapshotOutOfDateError extends MeshError {
  constructor(index: number, current: number) {
    super('SNAPSHOT_OUT_OF_DATE', `snapshot at ${index} is older than the current one at ${current}`, {
      details: { index, current },
    });
  }
}

/** Bytes that do not decode to a valid message, config change or session envelope. */
export class MessageDecodeError extends MeshError {
  constructor(what: string, reason: string) {
    super('BAD_MESSAGE', `malformed ${what}: ${reason}`, { details: { what, reason } });
  }
}
