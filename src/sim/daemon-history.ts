/**
 * What the simulated senders of daemon events saw, and the check of every member's journal
 * against it (docs/SIMULATION.md "Daemons"). The history file follows
 * /work/shared/HISTORY_FORMAT.md where it fits, as the multi-process daemon tests write it: JSON
 * Lines, op `send`, `key` the daemon, `value` the payload (unique in the run), `status` `ok` /
 * `fail` / `info`.
 */

import { replicaForKey } from '../daemons/replica-routing.js';
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
  /** A replica group's event: its routing key (absent: routed by the client id). */
  readonly key?: string;
  /** A replica group's event: the member the acknowledgement named (`ok` only). */
  readonly memberIndex?: number;
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
          ...(operation.key === undefined ? {} : { routing_key: operation.key }),
          ...(operation.memberIndex === undefined ? {} : { member: operation.memberIndex }),
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

/** The member of a replica group of `memberCount` an event goes to: by its key, else its client id. */
export function routedMember(operation: DaemonSendOperation, memberCount: number): number {
  return replicaForKey(operation.key ?? operation.client, memberCount);
}

/**
 * Every problem with the journals of member `member` of replica group `daemon` (one journal per
 * node running that member): the events routed to it (by key, else client id) checked as a
 * standby group's are (`daemonJournalProblems`), no event routed elsewhere, each acknowledgement
 * naming this member, and per key the order in which events were acknowledged and sent.
 */
export function replicaJournalProblems(
  daemon: string,
  member: number,
  memberCount: number,
  operations: readonly DaemonSendOperation[],
  journals: ReadonlyMap<string, readonly string[]>,
): string[] {
  const own = operations.filter(
    (operation) => operation.daemon === daemon && routedMember(operation, memberCount) === member,
  );
  const label = `${daemon} member ${member}`;
  const problems: string[] = [];
  const routedElsewhere = new Map(
    operations
      .filter((operation) => operation.daemon === daemon && routedMember(operation, memberCount) !== member)
      .map((operation) => [operation.payload, operation]),
  );
  for (const [name, journal] of journals) {
    for (const payload of journal) {
      const elsewhere = routedElsewhere.get(payload);
      if (elsewhere !== undefined)
        problems.push(
          `${label}: ${name} holds ${payload}, routed to member ${routedMember(elsewhere, memberCount)}`,
        );
    }
    problems.push(...keyOrderProblems(`${label}: ${name}`, own, journal));
  }
  for (const operation of own)
    if (operation.status === 'ok' && operation.memberIndex !== member)
      problems.push(
        `${label}: ${operation.payload} was acknowledged by member ${operation.memberIndex}, not the member its ${operation.key === undefined ? 'client id' : 'key'} routes to`,
      );
  // Payloads routed elsewhere are reported above; the standby check sees only this member's.
  const ownJournals = new Map(
    [...journals].map(([name, journal]) => [
      name,
      journal.filter((payload) => !routedElsewhere.has(payload)),
    ]),
  );
  problems.push(...daemonJournalProblems(daemon, own, ownJournals));
  return problems;
}

/** What the per-key order check reads of a send (the multi-process tests' sends map to it). */
export interface KeyedSend {
  readonly payload: string;
  readonly key?: string | undefined;
  readonly status: AppendStatus;
  /** Nanoseconds (any origin, the same for every send). */
  readonly callTs: number;
  readonly returnTs?: number | undefined;
}

/**
 * Per key, real-time order: an event acknowledged before another event of its key was sent is
 * before it in `journal` (events of one key from several senders are ordered only that way).
 */
export function keyOrderProblems(
  label: string,
  operations: readonly KeyedSend[],
  journal: readonly string[],
): string[] {
  const position = new Map(journal.map((payload, index) => [payload, index]));
  const byKey = new Map<string, Array<{ operation: KeyedSend; index: number }>>();
  for (const operation of operations) {
    const index = position.get(operation.payload);
    if (operation.key === undefined || index === undefined) continue;
    const events = byKey.get(operation.key) ?? [];
    events.push({ operation, index });
    byKey.set(operation.key, events);
  }
  const problems: string[] = [];
  for (const [key, events] of byKey)
    for (const before of events) {
      const returnTs = before.operation.returnTs;
      if (before.operation.status !== 'ok' || returnTs === undefined) continue;
      for (const after of events)
        if (after.operation.callTs > returnTs && after.index < before.index)
          problems.push(
            `${label}: key ${key}'s ${after.operation.payload} (sent after ${before.operation.payload} was acknowledged) is at entry ${after.index}, before it at ${before.index}`,
          );
    }
  return problems;
}

/**
 * Every problem with the journals of fork group `daemon`: each starts with `parentPrefix` (the
 * parent's journal as it was at the fork point) and the rest is the fork's own events, checked
 * as a standby group's are.
 */
export function forkJournalProblems(
  daemon: string,
  operations: readonly DaemonSendOperation[],
  journals: ReadonlyMap<string, readonly string[]>,
  parentPrefix: readonly string[],
): string[] {
  const problems: string[] = [];
  for (const [name, journal] of journals) {
    const index = parentPrefix.findIndex((payload, at) => journal[at] !== payload);
    if (index >= 0)
      problems.push(
        `${daemon}: member ${name}'s entry ${index} is ${journal[index] ?? 'nothing'}, the parent's was ${parentPrefix[index]} at the fork point`,
      );
  }
  const own = new Map([...journals].map(([name, journal]) => [name, journal.slice(parentPrefix.length)]));
  problems.push(...daemonJournalProblems(daemon, operations, own));
  return problems;
}
