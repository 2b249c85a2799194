import { describe, expect, it } from 'vitest';
import type { Entry, Ready } from '../../../src/raft/index.js';
import { READY_PHASES, ReadyStretchTrace } from '../../../src/server/ready-stretch-trace.js';

function entries(count: number, bytes: number): Entry[] {
  return Array.from({ length: count }, (_, slot) => ({
    term: 1,
    index: slot + 1,
    kind: 'normal',
    data: new Uint8Array(bytes),
  }));
}

function ready(parts: Partial<Ready>): Ready {
  return {
    entries: [],
    messages: [],
    messagesAfterPersist: [],
    committedEntries: [],
    readStates: [],
    ...parts,
  } as unknown as Ready;
}

describe('ReadyStretchTrace', () => {
  it('adds up what the Readys of a stretch carried and the time of each phase', () => {
    const trace = new ReadyStretchTrace();
    trace.countReady(ready({ entries: entries(3, 10), committedEntries: entries(5, 1) }));
    trace.countReady(ready({ committedEntries: entries(2, 1), readStates: [{ requestId: 'r1', index: 7 }] }));
    let atMs = trace.phase('send', 100, 104);
    atMs = trace.phase('apply', atMs, 130);
    trace.phase('send', atMs, 131);
    expect(trace.details()).toMatchObject({
      readys: 2,
      applied: 7,
      appliedBytes: 7,
      appended: 3,
      appendedBytes: 30,
      readStates: 1,
      sendMs: 5,
      applyMs: 26,
      flushMs: 0,
    });
  });

  it('starts each stretch from nothing', () => {
    const trace = new ReadyStretchTrace();
    trace.countReady(ready({ committedEntries: entries(4, 1) }));
    trace.phase('flush', 0, 60);
    trace.reset();
    const details = trace.details();
    expect(details.readys).toBe(0);
    for (const phase of READY_PHASES) expect(details[`${phase}Ms`]).toBe(0);
  });
});
