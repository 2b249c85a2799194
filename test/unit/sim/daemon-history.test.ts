import { describe, expect, it } from 'vitest';
import { type DaemonSendOperation, daemonJournalProblems } from '../../../src/sim/daemon-history.js';

function sent(client: string, sequence: number, status: DaemonSendOperation['status']): DaemonSendOperation {
  return { client, daemon: 'd', sequence, payload: `${client}:${sequence}`, status, attempts: 1, callTs: 0 };
}

const HISTORY = [
  sent('a', 1, 'ok'),
  sent('a', 2, 'info'),
  sent('a', 3, 'ok'),
  sent('b', 1, 'fail'),
  sent('b', 2, 'ok'),
];

function journals(...entries: Array<readonly string[]>): Map<string, readonly string[]> {
  return new Map(entries.map((journal, index) => [`member-${index}`, journal]));
}

describe('daemonJournalProblems', () => {
  it('accepts journals that hold every acknowledged event once, in each sender order', () => {
    expect(
      daemonJournalProblems('d', HISTORY, journals(['a:1', 'b:2', 'a:3'], ['a:1', 'b:2', 'a:3'])),
    ).toEqual([]);
    // An event of unknown outcome may be there, once.
    expect(daemonJournalProblems('d', HISTORY, journals(['a:1', 'a:2', 'b:2', 'a:3']))).toEqual([]);
  });

  it('reports an event applied twice', () => {
    expect(daemonJournalProblems('d', HISTORY, journals(['a:1', 'b:2', 'a:1', 'a:3']))).toContainEqual(
      expect.stringMatching(/applied a:1 twice/),
    );
  });

  it('reports a lost acknowledged event, a failed one applied and one never sent', () => {
    const problems = daemonJournalProblems('d', HISTORY, journals(['a:1', 'b:1', 'b:2', 'c:9']));
    expect(problems).toContainEqual(expect.stringMatching(/lost acknowledged a:3/));
    expect(problems).toContainEqual(expect.stringMatching(/holds b:1, whose send failed/));
    expect(problems).toContainEqual(expect.stringMatching(/holds c:9, which no sender sent/));
  });

  it("reports a sender's events out of order and members that differ", () => {
    expect(daemonJournalProblems('d', HISTORY, journals(['a:3', 'a:1', 'b:2']))).toContainEqual(
      expect.stringMatching(/sequence 1 after 3/),
    );
    expect(
      daemonJournalProblems('d', HISTORY, journals(['a:1', 'b:2', 'a:3'], ['a:1', 'a:3', 'b:2'])),
    ).toContainEqual(expect.stringMatching(/member-1's journal differs from member-0's at entry 1/));
  });
});
