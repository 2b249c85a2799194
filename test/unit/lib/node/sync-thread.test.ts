/**
 * The sync thread's state word carries the sync's sequence, so a Done mark left late (after the
 * event loop stopped waiting, took the outcome and handed over the next sync) can only land on
 * the sync it was meant for.
 */
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SyncState, SyncThread, syncStateWord } from '../../../../src/lib/node/sync-thread.js';

const ROUNDS = 20;
const WAIT_MS = 1_000;
const MARKS_TRIED = 0;
const MARKS_LANDED = 1;

// On each sync it sees asked (its Waiting word), does what the thread of the sync before does
// when it marks late: Waiting -> Done for that earlier sequence, then notify. Counts the marks
// it tried and those that landed.
const LATE_MARKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const word = new Int32Array(workerData.shared);
const marks = new Int32Array(workerData.marks);
const { waitingWords, doneWords } = workerData;
let marked = -1;
parentPort.postMessage('marking');
for (;;) {
  const value = Atomics.load(word, 0);
  const sequence = waitingWords.indexOf(value);
  if (sequence <= 0 || sequence === marked) {
    Atomics.wait(word, 0, value);
    continue;
  }
  marked = sequence;
  const earlier = sequence - 1;
  Atomics.add(marks, ${MARKS_TRIED}, 1);
  if (Atomics.compareExchange(word, 0, waitingWords[earlier], doneWords[earlier]) === waitingWords[earlier]) {
    Atomics.add(marks, ${MARKS_LANDED}, 1);
  }
  Atomics.notify(word, 0);
}
`;

/** The seams the tests drive: the shared words and the last sequence handed over. */
function insides(thread: SyncThread): { word: Int32Array; sequence: number } {
  return thread as unknown as { word: Int32Array; sequence: number };
}

let directory: string;
let fileDescriptor: number;
beforeEach(() => {
  directory = mkdtempSync(path.join(os.tmpdir(), 'sync-thread-'));
  fileDescriptor = openSync(path.join(directory, 'file'), 'w');
});
afterEach(() => {
  closeSync(fileDescriptor);
  rmSync(directory, { recursive: true, force: true });
});

describe('SyncThread state word', () => {
  it('keeps the Done mark of an earlier sync off a later one', async () => {
    const thread = new SyncThread();
    const { word } = insides(thread);
    const sequences = Array.from({ length: ROUNDS + 1 }, (_, sequence) => sequence);
    const marks = new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
    const marker = new Worker(LATE_MARKER_SOURCE, {
      eval: true,
      workerData: {
        shared: word.buffer,
        marks: marks.buffer,
        waitingWords: sequences.map((sequence) => syncStateWord(sequence, SyncState.Waiting)),
        doneWords: sequences.map((sequence) => syncStateWord(sequence, SyncState.Done)),
      },
    });
    try {
      await once(marker, 'message');
      // Alternately left as a promise and waited for: the thread's own late mark of a sync
      // left as a promise also meets the next sync. A mark that landed would end a sync with
      // no outcome on the port (an AssertionError) or with the earlier sync's outcome.
      for (let round = 1; round <= ROUNDS; round++) {
        writeSync(fileDescriptor, `round ${round}\n`);
        expect(thread.busy).toBe(false);
        await thread.sync(fileDescriptor, round % 2 === 0 ? WAIT_MS : 0);
        expect(Atomics.load(word, 0)).toBe(syncStateWord(round, SyncState.Idle));
      }
      expect(Atomics.load(marks, MARKS_TRIED)).toBeGreaterThan(0);
      expect(Atomics.load(marks, MARKS_LANDED)).toBe(0);
    } finally {
      await marker.terminate();
    }
  });

  it('syncs on across the wrap of the sequence', async () => {
    const thread = new SyncThread();
    const seams = insides(thread);
    // Two below the wrap: the sequences handed over are 2^30 - 2, 2^30 - 1, 0, 1 (the words of
    // the first two are negative Int32s).
    seams.sequence = 2 ** 30 - 3;
    for (const expected of [2 ** 30 - 2, 2 ** 30 - 1, 0, 1]) {
      writeSync(fileDescriptor, `sequence ${expected}\n`);
      await thread.sync(fileDescriptor, WAIT_MS);
      expect(thread.busy).toBe(false);
      expect(Atomics.load(seams.word, 0)).toBe(syncStateWord(expected, SyncState.Idle));
    }
  });
});
