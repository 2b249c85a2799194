import { describe, expect, it } from 'vitest';
import { AssertionError, isMeshError } from '../../../src/lib/index.js';
import { MAX_SHARED_ENTRY_DATA_BYTES } from '../../../src/raft/entry-columns.js';
import { ENTRY_DATA_SLAB_BYTES } from '../../../src/raft/entry-data-slabs.js';
import { type Entry, MemoryRaftStorage } from '../../../src/raft/index.js';
import { Inflights } from '../../../src/raft/inflights.js';
import { Progress } from '../../../src/raft/progress.js';
import { quorumIndex, voteResult } from '../../../src/raft/quorum.js';

const entry = (index: number, term: number): Entry => ({
  index,
  term,
  kind: 'normal',
  data: new Uint8Array(10),
});

describe('MemoryRaftStorage', () => {
  it('bootstraps founders with committed configuration entries', () => {
    const storage = new MemoryRaftStorage({ voters: [1, 2], learners: [3], outgoingVoters: [] });
    expect(storage.lastIndex()).toBe(2);
    expect(storage.initialState().hardState).toEqual({ term: 1, vote: 0, commit: 2 });
    expect(storage.entries(1, 3).map((item) => item.kind)).toEqual(['config', 'config']);
  });

  it('append drops the conflicting suffix it replaces', () => {
    const storage = new MemoryRaftStorage();
    storage.append([entry(1, 1), entry(2, 1), entry(3, 1)]);
    storage.append([entry(2, 2)]);
    expect(storage.lastIndex()).toBe(2);
    expect(storage.term(2)).toBe(2);
    expect(() => storage.append([entry(5, 2)])).toThrow(AssertionError);
  });

  it('keeps the data of small entries appended together in one buffer, larger ones in their own', () => {
    const storage = new MemoryRaftStorage();
    const filled = (index: number, bytes: number): Entry => ({
      index,
      term: 1,
      kind: 'normal',
      data: new Uint8Array(bytes).fill(index),
    });
    const appended = [filled(1, 300), filled(2, 0), filled(3, 7), filled(4, MAX_SHARED_ENTRY_DATA_BYTES + 1)];
    storage.append(appended);
    appended[0]!.data.fill(0); // the log keeps its own copy of what it was given
    const stored = storage.entries(1, 5);
    expect(stored.map((item) => [...item.data])).toEqual([
      new Array(300).fill(1),
      [],
      new Array(7).fill(3),
      new Array(MAX_SHARED_ENTRY_DATA_BYTES + 1).fill(4),
    ]);
    expect(stored[0]!.data.buffer).toBe(stored[2]!.data.buffer);
    expect(stored[0]!.data.buffer.byteLength).toBe(ENTRY_DATA_SLAB_BYTES);
    expect(stored[3]!.data).toBe(appended[3]!.data);
    // A replaced suffix gives way to new data; what stays keeps its bytes.
    storage.append([filled(3, 5), filled(4, 5)]);
    expect(storage.entries(1, 5).map((item) => [...item.data])).toEqual([
      new Array(300).fill(1),
      [],
      new Array(5).fill(3),
      new Array(5).fill(4),
    ]);
    // Views handed out before keep their bytes: truncated space is not written again.
    expect([...stored[2]!.data]).toEqual(new Array(7).fill(3));
  });

  it('compacts behind a snapshot and reports compacted and unavailable indexes with typed errors', () => {
    const storage = new MemoryRaftStorage();
    storage.append([entry(1, 1), entry(2, 1), entry(3, 2), entry(4, 2)]);
    storage.createSnapshot(3, { voters: [1], learners: [], outgoingVoters: [] }, 1);
    storage.compact(3);
    expect(storage.firstIndex()).toBe(4);
    expect(storage.term(3)).toBe(2);
    expect(storage.entries(4, 5, 1)).toHaveLength(1);
    const codeOf = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        return isMeshError(error) ? error.code : 'other';
      }
      return 'none';
    };
    expect(codeOf(() => storage.entries(2, 4))).toBe('LOG_COMPACTED');
    expect(codeOf(() => storage.term(9))).toBe('LOG_UNAVAILABLE');
    expect(
      codeOf(() => storage.createSnapshot(2, { voters: [1], learners: [], outgoingVoters: [] }, 0)),
    ).toBe('SNAPSHOT_OUT_OF_DATE');
  });

  it('reads back every entry as it was appended after compaction and replaced suffixes', () => {
    const storage = new MemoryRaftStorage();
    const made = (index: number, term: number, kind: Entry['kind'] = 'normal'): Entry => ({
      index,
      term,
      kind,
      data: new TextEncoder().encode(`entry ${index} of term ${term}`),
    });
    storage.append([made(1, 1), made(2, 1, 'config'), made(3, 1)]);
    storage.append([made(4, 2), made(5, 2)]);
    storage.append([made(5, 3), made(6, 3, 'noop')]);
    storage.createSnapshot(2, { voters: [1], learners: [], outgoingVoters: [] }, 1);
    storage.compact(2);
    expect(storage.term(2)).toBe(1);
    expect(storage.entries(3, 7)).toEqual([made(3, 1), made(4, 2), made(5, 3), made(6, 3, 'noop')]);
    expect(storage.entries(3, 7, 1)).toEqual([made(3, 1)]);
  });

  it('limits entries by bytes but always returns at least one', () => {
    const storage = new MemoryRaftStorage();
    storage.append([entry(1, 1), entry(2, 1), entry(3, 1)]);
    expect(storage.entries(1, 4, 1)).toHaveLength(1);
    expect(storage.entries(1, 4, 60)).toHaveLength(2);
    expect(storage.entries(1, 4)).toHaveLength(3);
  });
});

describe('Inflights', () => {
  it('is bounded by count and by bytes and frees in order', () => {
    const window = new Inflights(3, 100);
    window.add(5, 10);
    window.add(7, 10);
    expect(window.full()).toBe(false);
    window.add(9, 10);
    expect(window.full()).toBe(true);
    expect(() => window.add(10, 1)).toThrow(AssertionError);
    window.freeThrough(7);
    expect(window.count).toBe(1);
    expect(window.bytes).toBe(10);
    window.add(12, 95);
    expect(window.full()).toBe(true);
    window.freeFirst();
    expect(window.count).toBe(1);
    window.freeThrough(100);
    expect(window.count).toBe(0);
  });
});

describe('Progress', () => {
  it('probe sends one message at a time; replicate pipelines until the window fills', () => {
    const progress = new Progress(11, false, 2, 1000);
    expect(progress.isPaused()).toBe(false);
    progress.sentEntries(12, 2, 20);
    expect(progress.isPaused()).toBe(true);
    expect(progress.maybeUpdate(12)).toBe(true);
    progress.becomeReplicate();
    expect(progress.next).toBe(13);
    progress.sentEntries(14, 2, 20);
    progress.sentEntries(16, 2, 20);
    expect(progress.next).toBe(17);
    expect(progress.isPaused()).toBe(true);
  });

  it('ignores stale rejections and moves next back on a fresh one, never below match + 1', () => {
    const progress = new Progress(11, false, 4, 1000);
    progress.maybeUpdate(5);
    progress.becomeReplicate();
    progress.sentEntries(8, 3, 30);
    expect(progress.maybeDecreaseTo(4, 3)).toBe(false);
    expect(progress.maybeDecreaseTo(7, 3)).toBe(true);
    expect(progress.state).toBe('probe');
    expect(progress.next).toBe(6);
    expect(progress.maybeDecreaseTo(9, 3)).toBe(false);
  });
});

describe('quorum', () => {
  const simple = { voters: [1, 2, 3], learners: [4], outgoingVoters: [] };
  const joint = { voters: [1, 2, 4], learners: [], outgoingVoters: [1, 2, 3] };

  it('commits what a majority of each voter set has', () => {
    const match = new Map([
      [1, 10],
      [2, 8],
      [3, 5],
      [4, 2],
    ]);
    expect(quorumIndex(simple, (node) => match.get(node) ?? 0)).toBe(8);
    const jointMatch = new Map([
      [1, 10],
      [2, 3],
      [3, 9],
      [4, 9],
    ]);
    expect(quorumIndex(joint, (node) => jointMatch.get(node) ?? 0)).toBe(9);
    jointMatch.set(3, 1);
    expect(quorumIndex(joint, (node) => jointMatch.get(node) ?? 0)).toBe(3);
  });

  it('an election in joint consensus needs both majorities', () => {
    expect(
      voteResult(
        joint,
        new Map([
          [1, true],
          [4, true],
        ]),
      ),
    ).toBe('pending');
    expect(
      voteResult(
        joint,
        new Map([
          [1, true],
          [4, true],
          [3, true],
        ]),
      ),
    ).toBe('won');
    expect(
      voteResult(
        joint,
        new Map([
          [1, true],
          [2, false],
          [3, false],
        ]),
      ),
    ).toBe('lost');
  });
});
