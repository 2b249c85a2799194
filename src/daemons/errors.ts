import { MeshError } from '../lib/index.js';

/**
 * Operating errors of the daemons layer (issue 15). Each has a stable `code` that callers and
 * tests match on; `details` carries the names and numbers that explain it.
 */

/** An event's payload is not what the kind accepts (the built-in `counter` takes decimal integers). */
export class DaemonPayloadError extends MeshError {
  constructor(kind: string, reason: string) {
    super('DAEMON_PAYLOAD_INVALID', `daemon kind '${kind}' refused the payload: ${reason}`, {
      details: { kind, reason },
    });
  }
}

/** A `counter` counts its limit of keys and the event brings a new one; the event was not applied. */
export class CounterKeysFullError extends MeshError {
  constructor(limit: number) {
    super(
      'DAEMON_COUNTER_KEYS_FULL',
      `counter holds its limit of ${limit} keys; send events with a key it counts, or none`,
      {
        details: { limit },
      },
    );
  }
}

/** A `journal` holds its limit of entries or bytes; the event was not applied. */
export class JournalFullError extends MeshError {
  constructor(limit: 'entries' | 'bytes', limitValue: number) {
    super('DAEMON_JOURNAL_FULL', `journal is full: it holds its limit of ${limitValue} ${limit}`, {
      details: { limit, limitValue },
    });
  }
}

/** Bytes given to `restore` (or read as a member snapshot) are not a state this code wrote. */
export class DaemonStateInvalidError extends MeshError {
  constructor(subject: string, problem: string) {
    super('DAEMON_STATE_INVALID', `${subject} is not a valid state: ${problem}`, {
      details: { subject, problem },
    });
  }
}

/** Bytes read from an inbound or output chain are not a record this code wrote. */
export class DaemonRecordDecodeError extends MeshError {
  constructor(subject: string, problem: string) {
    super('DAEMON_RECORD_INVALID', `${subject} is invalid: ${problem}`, { details: { subject, problem } });
  }
}

/**
 * A `--daemon-module` could not be used: it failed to import, exports no kind, exports an
 * invalid kind, or a kind whose name another kind already has. The node does not start.
 */
export class DaemonModuleLoadError extends MeshError {
  constructor(modulePath: string, reason: string, cause?: unknown) {
    super('DAEMON_MODULE_LOAD_FAILED', `daemon module ${modulePath}: ${reason}`, {
      cause,
      details: { modulePath, reason },
    });
  }
}

/** An event's sequence is below its client's last applied one: its answer is gone; not applied. */
export class DaemonSequenceStaleError extends MeshError {
  constructor(clientId: string, sequence: number, lastSequence: number) {
    super(
      'DAEMON_SEQUENCE_STALE',
      `client ${JSON.stringify(clientId)} sent sequence ${sequence}, below its last applied ${lastSequence}; not applied`,
      { details: { clientId, sequence, lastSequence } },
    );
  }
}

/** `process` did not settle within its deadline; the event was undone (not applied). */
export class DaemonProcessTimeoutError extends MeshError {
  constructor(daemonName: string, inboundOffset: number, deadlineMs: number) {
    super(
      'DAEMON_PROCESS_TIMEOUT',
      `daemon ${daemonName} did not finish the event at ${inboundOffset} within ${deadlineMs} ms; not applied`,
      { details: { daemonName, inboundOffset, deadlineMs } },
    );
  }
}

/**
 * A member cannot go on: undoing a failed event (restoring its checkpoint and re-applying the
 * events since) failed, or its daemon could not take a snapshot. The node rebuilds it from its
 * last snapshot and the inbound chain.
 */
export class DaemonMemberBrokenError extends MeshError {
  constructor(daemonName: string, reason: string, cause?: unknown) {
    super('DAEMON_MEMBER_BROKEN', `daemon ${daemonName}'s member is broken: ${reason}`, {
      cause,
      details: { daemonName, reason },
    });
  }
}

/** A member's applier was called while it was still applying an event (calls go one at a time). */
export class DaemonMemberBusyError extends MeshError {
  constructor(daemonName: string) {
    super('DAEMON_MEMBER_BUSY', `daemon ${daemonName}'s member is still applying an event`, {
      details: { daemonName },
    });
  }
}
