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
