/**
 * A failed daemons call as a typed client error (service-errors.ts), and when it is sent again.
 * Reads are retried after any transport failure and any failure that changed nothing. A change
 * (deploy, move, remove) and a send are retried only when the table says nothing was applied
 * (`DAEMON_UNAVAILABLE`) or the call never left the client. A send whose event carries a client
 * id and sequence is also retried when its outcome is unknown (`DAEMON_EVENT_OUTCOME_UNKNOWN`, a
 * call cut off after it was sent): the daemon answers a repeat of (clientId, sequence) with the
 * first answer and does not apply it again.
 */
import { DAEMON_ERRORS } from '../protocol/index.js';
import type { MeshClientError } from './errors.js';
import { serviceErrorFromGrpc } from './service-errors.js';

/** A read, a change (deploy, move, remove), a send, or a send its client id and sequence make safe to repeat. */
export type DaemonCallKind = 'read' | 'change' | 'send' | 'deduplicated-send';

const CUT_OFF_CODES: Readonly<Record<DaemonCallKind, string | undefined>> = {
  read: undefined,
  change: 'DAEMON_OUTCOME_UNKNOWN',
  send: 'DAEMON_EVENT_OUTCOME_UNKNOWN',
  'deduplicated-send': 'DAEMON_EVENT_OUTCOME_UNKNOWN',
};

export function daemonErrorFromGrpc(error: unknown, endpoint: string, kind: DaemonCallKind): MeshClientError {
  const repeatable = kind === 'read' || kind === 'deduplicated-send';
  return serviceErrorFromGrpc(error, endpoint, {
    retryable: (code) => {
      const row = DAEMON_ERRORS[code];
      return row !== undefined && (row.notApplied || (repeatable && row.outcomeUnknown));
    },
    cutOffCode: CUT_OFF_CODES[kind],
    retryCutOff: kind === 'deduplicated-send',
  });
}
