/**
 * The end-of-run checks of the multi-process daemons tests: the senders' history written per
 * HISTORY_FORMAT, and a journal that holds every acknowledged event exactly once (each sender's in
 * its order, no failed event, unknown outcomes at most once) with its outputs once each, in order.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { expect } from 'vitest';
import { decodeJournalState, replicaForKey } from '../../src/daemons/index.js';
import { keyOrderProblems } from '../../src/sim/daemon-history.js';
import { type DaemonSendOperation, daemonHistoryLines, journalProblems } from '../support/daemon-history.js';
import { eventually } from './chain-cluster.js';
import { textOf } from './daemon-cluster.js';
import type { RawDaemonsClient } from './raw-daemons-client.js';

const CALL_TIMEOUT_MS = 5_000;

/** Writes `operations` to `artifacts/cluster/<fileName>`; a one-line summary naming the file. */
export function writeSendHistory(fileName: string, operations: readonly DaemonSendOperation[]): string {
  const directory = path.resolve('artifacts', 'cluster');
  mkdirSync(directory, { recursive: true });
  const historyFile = path.join(directory, fileName);
  writeFileSync(historyFile, daemonHistoryLines(operations));
  const count = (status: string) => operations.filter((operation) => operation.status === status).length;
  return `${operations.length} sends: ${count('ok')} ok, ${count('fail')} fail, ${count('info')} info, written to ${historyFile}`;
}

/** Member `member`'s journal, read through `client` (retried while the mesh settles). */
export async function journalOf(
  client: RawDaemonsClient,
  daemon: string,
  member?: number,
): Promise<string[]> {
  const state = await eventually(`member ${member ?? 'active'}'s state`, () =>
    client.state(daemon, member, CALL_TIMEOUT_MS),
  );
  return decodeJournalState(state.state).map(textOf);
}

/**
 * `journal` holds every acknowledged event of `operations` exactly once, in each sender's order,
 * and the output stream (read through `client`) each journal entry's output (its index) once, in
 * order: the active wrote outputs of every applied event although it changed.
 */
export async function expectEveryEventOnce(
  client: RawDaemonsClient,
  daemon: string,
  operations: readonly DaemonSendOperation[],
  journal: readonly string[],
): Promise<void> {
  expect(journalProblems(operations, journal)).toEqual([]);
  // The active writes outputs after it answered an event: wait for all of them.
  const outputs = await eventually(`${journal.length} outputs`, async () => {
    const read = await client.outputs(daemon, CALL_TIMEOUT_MS);
    return read.length >= journal.length ? read : undefined;
  });
  expect(outputs.map((output) => output.payload)).toEqual(journal.map((_, index) => String(index)));
}

/**
 * Each member of replica group `daemon` (of `memberCount`) holds exactly the events whose keys
 * hash to it: every acknowledged one once, no failed one, any of unknown outcome at most once,
 * each sender's in its order, and per key in real-time order (an event acknowledged before
 * another of its key was sent comes first); every acknowledgement names that member; and each
 * member's own output chain holds its outputs once, in order. Journals and outputs are read
 * through `clientFor(member)`.
 */
export async function expectReplicaJournals(
  clientFor: (member: number) => RawDaemonsClient,
  daemon: string,
  memberCount: number,
  operations: readonly DaemonSendOperation[],
): Promise<void> {
  for (let member = 0; member < memberCount; member++) {
    const mine = operations.filter((operation) => replicaForKey(operation.key!, memberCount) === member);
    expect(mine.length).toBeGreaterThan(0);
    for (const operation of mine.filter((candidate) => candidate.status === 'ok'))
      expect(operation.memberIndex).toBe(member);
    const journal = await journalOf(clientFor(member), daemon, member);
    // Anything sent to another member shows up here as "never sent".
    expect(journalProblems(mine, journal)).toEqual([]);
    const keyed = mine.map((operation) => ({ ...operation, payload: operation.value }));
    expect(keyOrderProblems(`member ${member}`, keyed, journal)).toEqual([]);
    const outputs = await eventually(`member ${member}'s ${journal.length} outputs`, async () => {
      const read = await clientFor(member).outputs(daemon, CALL_TIMEOUT_MS, member);
      return read.length >= journal.length ? read : undefined;
    });
    expect(outputs.map((output) => output.payload)).toEqual(journal.map((_, index) => String(index)));
  }
}
