import { describe, expect, it } from 'vitest';
import { type KvCommand, KvStateMachine, utf8 } from '../../../src/kv/index.js';
import { HELD_DROP_STEP_RECORDS } from '../../../src/kv/limits.js';
import { MvccStore } from '../../../src/kv/mvcc.js';

const KEYS = 50;
const ROUNDS = 40;

/** `rounds` puts of every key, one revision each, with a tombstone for every tenth key at the end. */
function writeHistory(store: MvccStore, rounds = ROUNDS): void {
  for (let round = 0; round < rounds; round++) {
    for (let key = 0; key < KEYS; key++) {
      store.begin();
      store.put(`key-${key}`, utf8(`value-${round}`), 0);
      store.commit();
    }
  }
  for (let key = 0; key < KEYS; key += 10) {
    store.begin();
    store.delete(`key-${key}`);
    store.commit();
  }
}

function liveAt(store: MvccStore, revision: number): string[] {
  const seen: string[] = [];
  store.scan({ start: '', end: null, single: false }, revision, (record) => {
    seen.push(`${record.key}=${new TextDecoder().decode(record.value as Uint8Array)}@${record.modRevision}`);
    return true;
  });
  return seen;
}

describe('dropping held history a step at a time', () => {
  it('drops what a view held back in bounded steps, reads unchanged between them, and ends where compacting at once ends', () => {
    const held = new MvccStore();
    const direct = new MvccStore();
    writeHistory(held);
    writeHistory(direct);
    const view = held.openView();
    const target = held.currentRevision - 3;
    held.compact(target);
    direct.compact(target);
    // Nothing is dropped while the view is open.
    expect(held.storedRecordCount).toBe(KEYS * ROUNDS + KEYS / 10);
    view.close();
    expect(held.heldHistoryPending).toBe(true);
    const reads = liveAt(held, target);
    const stepRecords = 100;
    let steps = 0;
    let previousCount = held.storedRecordCount;
    while (!held.dropHeldHistory(stepRecords)) {
      steps++;
      expect(held.storedRecordCount).toBeLessThanOrEqual(previousCount);
      previousCount = held.storedRecordCount;
      expect(liveAt(held, target)).toEqual(reads);
      expect(liveAt(held, held.currentRevision)).toEqual(liveAt(direct, direct.currentRevision));
    }
    // Each step walked at most `stepRecords` of the changes at or below the target.
    expect(steps).toBeGreaterThanOrEqual(Math.floor((target - 1) / stepRecords));
    expect(held.heldHistoryPending).toBe(false);
    expect(held.storedRecordCount).toBe(direct.storedRecordCount);
    expect(held.storedBytes).toBe(direct.storedBytes);
    expect(held.index.size).toBe(direct.index.size);
    expect(liveAt(held, target)).toEqual(liveAt(direct, target));
  });

  it('takes in a compaction that arrives mid-drop, including a tombstone at the earlier target', () => {
    const held = new MvccStore();
    const direct = new MvccStore();
    const write = (group: (store: MvccStore) => void): void => {
      for (const store of [held, direct]) {
        store.begin();
        group(store);
        store.commit();
      }
    };
    for (let round = 0; round < 4; round++) {
      for (let key = 0; key < KEYS; key++)
        write((store) => store.put(`key-${key}`, utf8(`value-${round}`), 0));
    }
    const changesBefore = 4 * KEYS;
    // One revision: a tombstone of key-0, then a put of key-1.
    write((store) => {
      store.delete('key-0');
      store.put('key-1', utf8('same revision'), 0);
    });
    const view = held.openView();
    const firstTarget = held.currentRevision;
    held.compact(firstTarget);
    direct.compact(firstTarget);
    view.close();
    // The walk passes key-0's tombstone (at exactly the target: kept) but not the put after it.
    expect(held.dropHeldHistory(changesBefore + 1)).toBe(false);
    expect(held.index.get('key-0')).toBeDefined();
    write((store) => store.put('key-2', utf8('later'), 0));
    // A later compaction: the tombstone of key-0 is now older than the target and must go.
    held.compact(held.currentRevision);
    direct.compact(direct.currentRevision);
    while (!held.dropHeldHistory(7)) {}
    expect(held.index.get('key-0')).toBeUndefined();
    expect(held.storedRecordCount).toBe(direct.storedRecordCount);
    expect(held.storedBytes).toBe(direct.storedBytes);
    expect(held.index.size).toBe(direct.index.size);
  });

  it('a view opened while a drop is unfinished finishes it first', () => {
    const store = new MvccStore();
    writeHistory(store);
    const view = store.openView();
    store.compact(store.currentRevision - 1);
    view.close();
    expect(store.dropHeldHistory(10)).toBe(false);
    const next = store.openView();
    expect(store.heldHistoryPending).toBe(false);
    expect(next.keyCount).toBe(store.index.size);
    next.close();
  });

  it('a compaction meeting an unfinished drop adds one bounded step instead of finishing it', () => {
    const store = new MvccStore();
    for (let round = 0; round < 3; round++) {
      for (let key = 0; key < HELD_DROP_STEP_RECORDS; key++) {
        store.begin();
        store.put(`key-${key}`, utf8(`value-${round}`), 0);
        store.commit();
      }
    }
    const view = store.openView();
    store.compact(store.currentRevision - 1);
    view.close();
    const before = store.storedRecordCount;
    store.compact(store.currentRevision);
    // One step walked at most HELD_DROP_STEP_RECORDS changes, each dropping at most two records.
    expect(before - store.storedRecordCount).toBeGreaterThan(0);
    expect(store.heldHistoryPending).toBe(true);
    while (!store.dropHeldHistory(HELD_DROP_STEP_RECORDS)) {}
    expect(store.storedRecordCount).toBe(HELD_DROP_STEP_RECORDS);
  });
});

describe('a snapshot task drops the history it held', () => {
  it('in its last steps, leaving what compacting without a snapshot leaves', () => {
    const busy = new KvStateMachine();
    const plain = new KvStateMachine();
    const apply = (command: KvCommand): void => {
      busy.applyCommand(busy.appliedIndex + 1, command);
      plain.applyCommand(plain.appliedIndex + 1, command);
    };
    // Every key written twice: the walk meets the first writes (each now droppable) first.
    const stepRecords = 100;
    const keys = 2.5 * stepRecords;
    for (let round = 0; round < 2; round++) {
      for (let key = 0; key < keys; key++)
        apply({ type: 'put', key: utf8(`key-${key}`), value: utf8(`v${round}`) });
    }
    const task = busy.startSnapshot({ keys: 1_000, bytes: 1_000_000, heldDropRecords: stepRecords });
    apply({ type: 'compact', revision: busy.revision - 1 });
    // 250 droppable first writes: three steps of at most 100 changes walked drop them.
    let dropSteps = 0;
    let stored = busy.storedBytes;
    while (!task.step()) {
      if (busy.storedBytes < stored) dropSteps++;
      stored = busy.storedBytes;
    }
    if (busy.storedBytes < stored) dropSteps++;
    expect(dropSteps).toBe(3);
    // The encoder wrote the state it started at; the held history is gone by the task's end.
    expect(busy.storedBytes).toBe(plain.storedBytes);
    expect(busy.snapshot()).toEqual(plain.snapshot());
  });
});
