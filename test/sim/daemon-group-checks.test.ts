import { describe, expect, it } from 'vitest';
import { replicaForKey } from '../../src/daemons/index.js';
import {
  type DaemonSendOperation,
  forkJournalProblems,
  replicaJournalProblems,
} from '../../src/sim/daemon-history.js';

const MEMBERS = 3;

/** An acknowledged send of `payload` with `key`, called at `callUs` and answered 10 us later. */
function sent(
  daemon: string,
  client: string,
  sequence: number,
  key: string | undefined,
  callUs: number,
  status: DaemonSendOperation['status'] = 'ok',
): DaemonSendOperation {
  const routed = replicaForKey(key ?? client, MEMBERS);
  return {
    client,
    daemon,
    sequence,
    payload: `${client}:${sequence}`,
    status,
    attempts: 1,
    ...(key === undefined ? {} : { key }),
    ...(status === 'ok' ? { memberIndex: routed, inboundOffset: sequence } : {}),
    callTs: callUs * 1_000,
    ...(status === 'info' ? {} : { returnTs: (callUs + 10) * 1_000 }),
  };
}

/** Two keys that route to the same member, and one key of another member. */
function keysOfOneMember(): { member: number; first: string; second: string; other: string } {
  const keys = Array.from({ length: 64 }, (_, index) => `key-${index}`);
  const member = replicaForKey(keys[0]!, MEMBERS);
  const second = keys.find((key, index) => index > 0 && replicaForKey(key, MEMBERS) === member)!;
  const other = keys.find((key) => replicaForKey(key, MEMBERS) !== member)!;
  return { member, first: keys[0]!, second, other };
}

/** Each member's journal holding the `ok` and `info` events routed to it, in call order. */
function journalsOf(operations: readonly DaemonSendOperation[]): Map<number, string[]> {
  const journals = new Map<number, string[]>();
  for (const operation of [...operations].sort((a, b) => a.callTs - b.callTs)) {
    if (operation.status === 'fail') continue;
    const member = replicaForKey(operation.key ?? operation.client, MEMBERS);
    journals.set(member, [...(journals.get(member) ?? []), operation.payload]);
  }
  return journals;
}

describe('the simulator checks of replica and fork groups catch planted violations', () => {
  const { member, first, second, other } = keysOfOneMember();
  // Two senders share key `first`; s1 also writes `second` (same member) and `other` (elsewhere);
  // s2 sends without a key (routed by its client id).
  const history: DaemonSendOperation[] = [
    sent('r', 's0', 1, first, 100),
    sent('r', 's1', 1, first, 200),
    sent('r', 's1', 2, second, 300),
    sent('r', 's1', 3, other, 400),
    sent('r', 's0', 2, first, 500, 'info'),
    sent('r', 's2', 1, undefined, 600),
    sent('r', 's0', 3, first, 700, 'fail'),
  ];
  const journals = journalsOf(history);
  const problemsOf = (journal: readonly string[], operations = history): string[] =>
    replicaJournalProblems('r', member, MEMBERS, operations, new Map([['m@node-1', journal]]));

  it('a correct member journal has no problem, and every member of the group holds its share', () => {
    for (let index = 0; index < MEMBERS; index++)
      expect(
        replicaJournalProblems('r', index, MEMBERS, history, new Map([['m', journals.get(index) ?? []]])),
      ).toEqual([]);
    expect(journals.get(member)).toContain('s1:2');
  });

  it('an acknowledged event missing, doubled, or in the wrong member is caught', () => {
    const own = journals.get(member)!;
    expect(problemsOf(own.filter((payload) => payload !== 's1:2')).join()).toMatch(/lost acknowledged s1:2/);
    expect(problemsOf([...own, 's1:2']).join()).toMatch(/applied s1:2 twice/);
    expect(problemsOf([...own, 's1:3']).join()).toMatch(/holds s1:3, routed to member/);
    expect(problemsOf([...own, 's0:3']).join()).toMatch(/s0:3, whose send failed/);
  });

  it('an event of a key before one acknowledged before it was sent is caught (per-key order)', () => {
    const own = journals.get(member)!;
    const swapped = [...own];
    const a = swapped.indexOf('s0:1');
    const b = swapped.indexOf('s1:1');
    [swapped[a], swapped[b]] = [swapped[b]!, swapped[a]!];
    expect(problemsOf(swapped).join()).toMatch(/key .*'s s1:1 \(sent after s0:1 was acknowledged\)/);
  });

  it('an acknowledgement naming another member is caught', () => {
    const wrong = history.map((operation) =>
      operation.payload === 's1:1' ? { ...operation, memberIndex: (member + 1) % MEMBERS } : operation,
    );
    expect(problemsOf(journals.get(member)!, wrong).join()).toMatch(/s1:1 was acknowledged by member/);
  });

  it("a fork's journal must start with its parent's at the fork point, then hold its own events", () => {
    const forkHistory = [sent('f', 'f0', 1, undefined, 100), sent('f', 'f0', 2, undefined, 200)];
    const prefix = ['p:1', 'p:2'];
    const check = (journal: readonly string[]) =>
      forkJournalProblems('f', forkHistory, new Map([['0@node-1', journal]]), prefix);
    expect(check(['p:1', 'p:2', 'f0:1', 'f0:2'])).toEqual([]);
    expect(check(['p:1', 'f0:1', 'f0:2']).join()).toMatch(/entry 1 is f0:1, the parent's was p:2/);
    expect(check(['p:1', 'p:2', 'p:3', 'f0:1', 'f0:2']).join()).toMatch(/p:3, which no sender sent/);
    expect(check(['p:1', 'p:2', 'f0:2', 'f0:1']).join()).toMatch(/sequence 1 after 2/);
  });
});
