/**
 * What the senders of a multi-process daemons test saw, as a HISTORY_FORMAT file (op `send`,
 * key: the daemon; a replica group's sends add `routing_key` and the answering `member`), and the check of a journal daemon's entries against it: every acknowledged
 * event exactly once, nothing that failed, an event of unknown outcome at most once, nothing
 * never sent, and each sender's events in the order it sent them.
 */

export interface DaemonSendOperation {
  readonly client: number;
  readonly daemon: string;
  /** `<client>-<counter>`: never sent twice in a run. */
  readonly value: string;
  readonly counter: number;
  /** The event's routing key (replica groups route by it). */
  readonly key?: string;
  readonly status: 'ok' | 'fail' | 'info';
  /** The member that answered (acknowledged sends). */
  readonly memberIndex?: number;
  readonly inboundOffset?: number;
  readonly callTs: number;
  readonly returnTs?: number;
}

export function daemonHistoryLines(operations: readonly DaemonSendOperation[]): string {
  return operations
    .map((operation) =>
      JSON.stringify({
        client: operation.client,
        op: 'send',
        key: operation.daemon,
        value: operation.value,
        ...(operation.key === undefined ? {} : { routing_key: operation.key }),
        ...(operation.memberIndex === undefined ? {} : { member: operation.memberIndex }),
        ...(operation.inboundOffset === undefined ? {} : { inbound_offset: operation.inboundOffset }),
        ...(operation.status === 'ok' ? {} : { status: operation.status }),
        call_ts: operation.callTs,
        ...(operation.returnTs === undefined ? {} : { return_ts: operation.returnTs }),
      }),
    )
    .map((line) => `${line}\n`)
    .join('');
}

/** Every way `journal` (a journal daemon's entries, in order) disagrees with the senders' history. */
export function journalProblems(
  operations: readonly DaemonSendOperation[],
  journal: readonly string[],
): string[] {
  const problems: string[] = [];
  const sent = new Map(operations.map((operation) => [operation.value, operation]));
  const counts = new Map<string, number>();
  const lastCounter = new Map<number, number>();
  for (const value of journal) {
    counts.set(value, (counts.get(value) ?? 0) + 1);
    const operation = sent.get(value);
    if (operation === undefined) {
      problems.push(`${value} is in the journal but was never sent`);
      continue;
    }
    const previous = lastCounter.get(operation.client);
    if (previous !== undefined && operation.counter <= previous)
      problems.push(`${value} comes after counter ${previous} of client ${operation.client}: out of order`);
    lastCounter.set(operation.client, operation.counter);
  }
  for (const [value, count] of counts) {
    if (count > 1) problems.push(`${value} is in the journal ${count} times`);
  }
  for (const operation of operations) {
    const count = counts.get(operation.value) ?? 0;
    if (operation.status === 'ok' && count === 0) problems.push(`acknowledged ${operation.value} is missing`);
    if (operation.status === 'fail' && count > 0) problems.push(`failed ${operation.value} was applied`);
  }
  return problems;
}
