import { isNodeId, type Random, ValidationError } from '../lib/index.js';
import type { RaftStorage } from './storage.js';
import type { NodeId } from './types.js';

/** Lease reads answer from the leader without a heartbeat round while its lease holds. */
export interface LeaseReadConfig {
  readonly enabled: boolean;
  /**
   * How many ticks clocks may disagree by across the cluster. The lease lasts
   * `electionTicks - maxClockDriftTicks` ticks after a heartbeat a quorum acknowledged, which
   * must stay positive.
   */
  readonly maxClockDriftTicks: number;
}

export interface RaftConfig {
  readonly id: NodeId;
  /** Followers wait a random [electionTicks, 2 * electionTicks) ticks for a leader. */
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly maxInflightMessages: number;
  readonly maxInflightBytes: number;
  readonly maxAppendBytes: number;
  readonly leaseRead?: LeaseReadConfig;
  readonly random: Random;
  readonly storage: RaftStorage;
  /** Index the state machine has applied already (on restart); 0 when starting fresh. */
  readonly applied?: number;
  /**
   * A leader whose commit index moves does not send an empty append for it at once: the commit
   * rides on the next append with entries, or leaves on the next tick (a follower's apply lags by
   * at most one tick). Commits that someone waits for on a follower leave at once: entries
   * proposed with `urgentCommit` (a write a follower forwarded and answers after its own apply)
   * and configuration entries. With one client, the empty appends were two socket writes on the
   * leader and two wake-ups, reads and drains on the followers per write.
   */
  readonly deferCommitOnlyAppends?: boolean;
  /** DEBUG ONLY: commits older-term entries by counting replicas, which Figure 8 shows is unsafe. */
  readonly unsafeCommitByCountingOlderTerms?: boolean;
}

function isPositiveInteger(value: number): boolean {
  return Number.isSafeInteger(value) && value > 0;
}

/** Every problem with `config`, or nothing when it is usable. */
export function validateRaftConfig(config: RaftConfig): void {
  const problems: string[] = [];
  if (!isNodeId(config.id)) problems.push(`id must be a node id (a positive safe integer), got ${config.id}`);
  if (!isPositiveInteger(config.electionTicks)) problems.push('electionTicks must be a positive integer');
  if (!isPositiveInteger(config.heartbeatTicks)) problems.push('heartbeatTicks must be a positive integer');
  if (config.heartbeatTicks >= config.electionTicks)
    problems.push('heartbeatTicks must be below electionTicks');
  if (!isPositiveInteger(config.maxInflightMessages))
    problems.push('maxInflightMessages must be a positive integer');
  if (!isPositiveInteger(config.maxInflightBytes))
    problems.push('maxInflightBytes must be a positive integer');
  if (!isPositiveInteger(config.maxAppendBytes)) problems.push('maxAppendBytes must be a positive integer');
  if (config.applied !== undefined && !(Number.isSafeInteger(config.applied) && config.applied >= 0)) {
    problems.push('applied must be a non-negative integer');
  }
  const lease = config.leaseRead;
  if (lease?.enabled) {
    if (!(Number.isSafeInteger(lease.maxClockDriftTicks) && lease.maxClockDriftTicks >= 0)) {
      problems.push('leaseRead.maxClockDriftTicks must be a non-negative integer');
    }
    if (leaseDurationTicks(config) <= 0) {
      problems.push('leaseRead needs electionTicks - maxClockDriftTicks > 0');
    }
    if (!config.checkQuorum) problems.push('leaseRead requires checkQuorum');
  }
  if (problems.length > 0) throw new ValidationError('RaftConfig', problems);
}

/** The named safety bound of lease reads: how long a quorum's acknowledgement keeps the lease. */
export function leaseDurationTicks(config: RaftConfig): number {
  return config.electionTicks - (config.leaseRead?.maxClockDriftTicks ?? 0);
}
