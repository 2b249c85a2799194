/**
 * What the simulated senders of daemon events saw, and the check of every member's journal
 * against it (docs/SIMULATION.md "Daemons"). The history file follows
 * /work/shared/HISTORY_FORMAT.md where it fits, as the multi-process daemon tests write it: JSON
 * Lines, op `send`, `key` the daemon, `value` the payload (unique in the run), `status` `ok` /
 * `fail` / `info`.
 */

import type { AppendStatus } from './chain-history.js';

export interface DaemonSendOperation {
  /** The sender's client id (also the event's `clientId`). */
  readonly client: string;
  readonly daemon: string;
  readonly sequence: number;
  /** The event's payload as text: unique in the run. */
  readonly payload: string;
  /**
   * `ok`: acknowledged; `fail`: every attempt proved it was not applied; `info`: unknown (an
   * attempt got no answer or an answer that leaves it open).
   */
  readonly status: AppendStatus;
  readonly attempts: number;
  /** The inbound offset the acknowledgement named (`ok` only). */
  readonly inboundOffset?: number;
  /** Nanoseconds from the start of the run. */
  readonly callTs: number;
  readonly returnTs?: number;
}

export function daemonHistoryLines(operations: readonly DaemonSendOperation[]): string {
  return operations
    .map(
      (operation) =>
        `${JSON.stringify({
          client: operation.client,
          op: 'send',
          key: operation.daemon,
          value: operation.payload,
          sequence: operation.sequence,
          attempts: operation.attempts,
          ...(operation.inboundOffset === undefined ? {} : { inbound_offset: operation.inboundOffset }),
          ...(operation.status === 'ok' ? {} : { status: operation.status }),
          call_ts: operation.callTs,
          ...(operation.returnTs === undefined ? {} : { return_ts: operation.returnTs }),
        })}\n`,
    )
    .join('');
}

/**
 * Every problem with the members' journals of `daemon` given what its senders saw (empty when
 * none): the journals are identical; no payload is there twice (applied twice); every payload
 * was sent and its send did not fail; every acknowledged one is there; and each sender's events
 * are there in the order it sent them (one at a time, so in increasing sequence).
 */
export function daemonJournalProblems(
  daemon: string,
  operations: readonly DaemonSendOperation[],
  journals: ReadonlyMap<string, readonly string[]>,
): string[] {
  const problems: string[] = [];
  const sent = new Map(
    operations
      .filter((operation) => operation.daemon === daemon)
      .map((operation) => [operation.payload, operation]),
  );
  const copies = [...journals];
  const [first] = copies;
  if (first === undefined) return [`${daemon}: no member's journal to check`];
  const [firstName, firstJournal] = first;
  for (const [name, journal] of copies.slice(1)) {
    const length = Math.max(journal.length, firstJournal.length);
    for (let index = 0; index < length; index++) {
      if (journal[index] !== firstJournal[index]) {
        problems.push(
          `${daemon}: member ${name}'s journal differs from ${firstName}'s at entry ${index}: ${journal[index] ?? 'nothing'} vs ${firstJournal[index] ?? 'nothing'}`,
        );
        break;
      }
    }
  }
  for (const [name, journal] of copies) {
    const seenAt = new Map<string, number>();
    const lastSequence = new Map<string, number>();
    journal.forEach((payload, index) => {
      const earlier = seenAt.get(payload);
      if (earlier !== undefined)
        problems.push(`${daemon}: member ${name} applied ${payload} twice (entries ${earlier} and ${index})`);
      seenAt.set(payload, index);
      const operation = sent.get(payload);
      if (operation === undefined) {
        problems.push(`${daemon}: member ${name} holds ${payload}, which no sender sent`);
        return;
      }
      if (operation.status === 'fail')
        problems.push(`${daemon}: member ${name} holds ${payload}, whose send failed`);
      const previous = lastSequence.get(operation.client);
      // The same sequence again is the same payload: reported above as applied twice.
      if (previous !== undefined && operation.sequence < previous)
        problems.push(
          `${daemon}: member ${name} applied ${operation.client}'s sequence ${operation.sequence} after ${previous}`,
        );
      lastSequence.set(operation.client, operation.sequence);
    });
    for (const operation of sent.values())
      if (operation.status === 'ok' && !seenAt.has(operation.payload))
        problems.push(`${daemon}: member ${name} lost acknowledged ${operation.payload}`);
  }
  return problems;
}
