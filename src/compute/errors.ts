import { MeshError } from '../lib/index.js';

/**
 * Operating errors of the compute layer. Each has a stable `code` that callers and tests
 * match on; `details` carries the numbers that explain it.
 */

/** A daemon that keeps no state was asked to restore a non-empty state. */
export class StatelessDaemonStateError extends MeshError {
  constructor(daemonName: string, stateBytes: number) {
    super('DAEMON_STATELESS_STATE', `daemon '${daemonName}' is stateless but got ${stateBytes} state bytes`, {
      details: { daemonName, stateBytes },
    });
  }
}

/** A link names another origin than the chain being validated. */
export class ChainOriginError extends MeshError {
  constructor(expected: bigint, actual: bigint, sequence: number) {
    super('CHAIN_WRONG_ORIGIN', `link ${sequence} has origin ${hex(actual)}, expected ${hex(expected)}`, {
      details: { expected, actual, sequence },
    });
  }
}

/** A link's sequence is not the one right after the previous link. */
export class ChainGapError extends MeshError {
  constructor(expectedSequence: number, actualSequence: number) {
    super('CHAIN_SEQUENCE_GAP', `expected link ${expectedSequence}, got ${actualSequence}`, {
      details: { expectedSequence, actualSequence },
    });
  }
}

/** A link's parent hash does not match the hash of the previous link and its payload. */
export class ChainParentError extends MeshError {
  constructor(sequence: number, expected: bigint, actual: bigint) {
    super('CHAIN_WRONG_PARENT', `link ${sequence} has parent ${hex(actual)}, expected ${hex(expected)}`, {
      details: { sequence, expected, actual },
    });
  }
}

/** A genesis link (sequence 0) with a non-zero parent or a payload. */
export class ChainGenesisError extends MeshError {
  constructor(reason: string) {
    super('CHAIN_BAD_GENESIS', `bad genesis link: ${reason}`, { details: { reason } });
  }
}

/** A runtime call arrived in a lifecycle phase that does not allow it. */
export class RuntimePhaseError extends MeshError {
  constructor(operation: string, phase: string, allowed: readonly string[]) {
    super(
      'RUNTIME_WRONG_PHASE',
      `${operation} is not allowed while ${phase} (allowed: ${allowed.join(', ')})`,
      {
        details: { operation, phase, allowed },
      },
    );
  }
}

export class UnknownKindError extends MeshError {
  constructor(kind: string) {
    super('DAEMON_KIND_UNKNOWN', `no factory registered for daemon kind '${kind}'`, { details: { kind } });
  }
}

export class DuplicateKindError extends MeshError {
  constructor(kind: string) {
    super('DAEMON_KIND_DUPLICATE', `daemon kind '${kind}' is already registered`, { details: { kind } });
  }
}

export class DaemonNotFoundError extends MeshError {
  constructor(origin: bigint) {
    super('DAEMON_NOT_FOUND', `no daemon with origin ${hex(origin)}`, { details: { origin } });
  }
}

export class DuplicateOriginError extends MeshError {
  constructor(origin: bigint) {
    super('DAEMON_ORIGIN_TAKEN', `a daemon with origin ${hex(origin)} is already registered`, {
      details: { origin },
    });
  }
}

/** The daemon threw (or its promise rejected); it serves nothing more until replaced. */
export class DaemonCrashedError extends MeshError {
  constructor(origin: bigint, cause: unknown) {
    super('DAEMON_CRASHED', `daemon ${hex(origin)} crashed: ${describe(cause)}`, {
      cause,
      details: { origin },
    });
  }
}

/**
 * The daemon was removed from its runtime (its node failed, or its group let it go) before
 * this delivery was applied. The event was not acknowledged and is not applied anywhere.
 */
export class DaemonRemovedError extends MeshError {
  constructor(origin: bigint) {
    super('DAEMON_REMOVED', `daemon ${hex(origin)} was removed before the delivery was applied`, {
      details: { origin },
    });
  }
}

/** An operation that needs a quiet daemon met one with asynchronous deliveries in flight. */
export class DaemonBusyError extends MeshError {
  constructor(origin: bigint, pendingDeliveries: number) {
    super('DAEMON_BUSY', `daemon ${hex(origin)} has ${pendingDeliveries} deliveries in flight`, {
      details: { origin, pendingDeliveries },
    });
  }
}

/** Too many asynchronous deliveries are queued on one daemon. */
export class DaemonQueueFullError extends MeshError {
  constructor(origin: bigint, limit: number) {
    super('DAEMON_QUEUE_FULL', `daemon ${hex(origin)} already has ${limit} deliveries queued`, {
      details: { origin, limit },
    });
  }
}

/** A standby group's replay buffer is full and could not be emptied by a sync. */
export class ReplayBufferFullError extends MeshError {
  constructor(capacityEvents: number, reason: string, cause?: unknown) {
    super('REPLAY_BUFFER_FULL', `replay buffer holds its limit of ${capacityEvents} events: ${reason}`, {
      cause,
      details: { capacityEvents, reason },
    });
  }
}

/** An event was sent to a group member that is not the active one. */
export class MemberNotActiveError extends MeshError {
  constructor(groupName: string, memberIndex: number) {
    super(
      'GROUP_MEMBER_NOT_ACTIVE',
      `member ${memberIndex} of group '${groupName}' is not the active member`,
      {
        details: { groupName, memberIndex },
      },
    );
  }
}

/** A promotion is in progress; deliveries and syncs wait for it to finish. */
export class GroupBusyError extends MeshError {
  constructor(groupName: string, operation: string) {
    super('GROUP_BUSY', `group '${groupName}' is promoting; ${operation} refused`, {
      details: { groupName, operation },
    });
  }
}

/** The group's active member is down and no promotion has replaced it. */
export class ActiveUnavailableError extends MeshError {
  constructor(groupName: string, memberIndex: number) {
    super('GROUP_ACTIVE_UNAVAILABLE', `active member ${memberIndex} of group '${groupName}' is down`, {
      details: { groupName, memberIndex },
    });
  }
}

/** Promotion found no healthy standby whose snapshot the replay buffer can bring up to date. */
export class NoStandbyError extends MeshError {
  constructor(groupName: string, reason: string, cause?: unknown) {
    super('GROUP_NO_STANDBY', `group '${groupName}' has no standby to promote: ${reason}`, {
      cause,
      details: { groupName, reason },
    });
  }
}

/** The group was closed; it accepts no more calls. */
export class GroupClosedError extends MeshError {
  constructor(groupName: string) {
    super('GROUP_CLOSED', `group '${groupName}' is closed`, { details: { groupName } });
  }
}

/** A replica group has no replica to route to, or a replica index is out of range. */
export class ReplicaUnavailableError extends MeshError {
  constructor(reason: string) {
    super('REPLICA_UNAVAILABLE', reason, { details: { reason } });
  }
}

export function hex(value: bigint): string {
  return `0x${value.toString(16).padStart(16, '0')}`;
}

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
