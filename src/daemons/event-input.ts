/** Checks an event a client sends before anything is appended (docs/DAEMONS.md "The event path"). */
import { InputProblems } from '../lib/index.js';
import { DaemonEventTooLargeError } from './cluster-errors.js';
import {
  MAX_DAEMON_CLIENT_ID_CHARACTERS,
  MAX_DAEMON_EVENT_BYTES,
  MAX_DAEMON_EVENT_KEY_CHARACTERS,
} from './cluster-limits.js';
import type { DaemonEventInput } from './types.js';

/** VALIDATION_FAILED naming every problem, or DAEMON_EVENT_TOO_LARGE for a payload over the limit. */
export function checkDaemonEvent(daemon: string, event: DaemonEventInput): void {
  const problems = new InputProblems();
  if (!problems.record('event', event)) problems.throwIfAny(`event for daemon ${daemon}`);
  if (!(event.payload instanceof Uint8Array)) problems.add('payload must be bytes (a Uint8Array)');
  if (event.clientId !== undefined) {
    if (
      typeof event.clientId !== 'string' ||
      event.clientId.length === 0 ||
      event.clientId.length > MAX_DAEMON_CLIENT_ID_CHARACTERS
    )
      problems.add(`clientId must be 1 to ${MAX_DAEMON_CLIENT_ID_CHARACTERS} characters`);
  }
  if (event.sequence !== undefined) problems.integer('sequence', event.sequence, 0, Number.MAX_SAFE_INTEGER);
  if ((event.clientId === undefined) !== (event.sequence === undefined))
    problems.add('clientId and sequence go together: give both or neither');
  if (
    event.key !== undefined &&
    (typeof event.key !== 'string' || event.key.length > MAX_DAEMON_EVENT_KEY_CHARACTERS)
  )
    problems.add(`key must be text of at most ${MAX_DAEMON_EVENT_KEY_CHARACTERS} characters`);
  problems.throwIfAny(`event for daemon ${daemon}`);
  if (event.payload.length > MAX_DAEMON_EVENT_BYTES)
    throw new DaemonEventTooLargeError(daemon, event.payload.length, MAX_DAEMON_EVENT_BYTES);
}
