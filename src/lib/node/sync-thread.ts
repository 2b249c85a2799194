import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { assert } from '../errors.js';

/**
 * One thread that runs fdatasync for the event loop, which waits for it only a bounded time.
 *
 * An inline fdatasync finishes a small persist in the same turn (a trip through Node's thread
 * pool costs a turn of the event loop, milliseconds on a busy node), but the device decides
 * how long it takes: usually well under a millisecond, sometimes 50-270 ms when three nodes
 * sync on one disk, and all of that is a stall of the node. So the event loop hands the sync
 * to this thread and sleeps on a shared word for at most `waitMs`: a quick sync still ends in
 * the same turn, and a slow one stalls the loop no longer than the bound, after which its
 * result arrives as a message like any other IO.
 *
 * One request at a time: a caller that finds the thread busy uses the thread pool instead.
 *
 * A sync that ends within the wait sends no message: the thread marks the word Done (and a
 * failure in a shared word, with its message posted first), so the event loop is not woken a
 * second time for it (a post wakes the loop through its async handle, and takes a lock the
 * loop shares). Only a sync the event loop stopped waiting for, or a failed one, is posted.
 */

/** A sync's states, in the state word's low two bits. */
export const SyncState = { Idle: 0, Waiting: 1, Done: 2, Detached: 3 } as const;
export type SyncState = (typeof SyncState)[keyof typeof SyncState];
const STATE_BITS = 2;
const STATE_MASK = (1 << STATE_BITS) - 1;
/** Sequences wrap within the word's other 30 bits, so a word stays one Int32. */
const SEQUENCE_MASK = (1 << (32 - STATE_BITS)) - 1;
/** The shared words: the sync's sequence and state, the file to sync, and whether it failed. */
const STATE = 0;
const FILE_DESCRIPTOR = 1;
const FAILED = 2;
const SHARED_WORDS = 3;

/**
 * The state word of sync `sequence` in `state`. The sequence ties a mark to one sync: a mark
 * the thread makes late (after the event loop stopped waiting, took the outcome and handed over
 * the next sync) can then only fail, never land on the next sync.
 */
export function syncStateWord(sequence: number, state: SyncState): number {
  return ((sequence & SEQUENCE_MASK) << STATE_BITS) | state;
}

/** How a sync ended, as the thread posts it. */
interface SyncOutcome {
  readonly sequence: number;
  readonly code?: string;
  readonly message?: string;
}

// CommonJS, evaluated by the worker: waits for the word of a sequence it has not synced, asked
// (Waiting) or already given up on by the event loop (Detached), and syncs. A failure is
// posted and flagged first. Then it marks that same sequence Done, which ends the event loop's
// wait; when the loop stopped waiting instead (Detached), the outcome is posted for it.
const THREAD_SOURCE = `
const { workerData } = require('node:worker_threads');
const { fdatasyncSync } = require('node:fs');
const word = new Int32Array(workerData.shared);
const port = workerData.port;
let synced = 0;
for (;;) {
  const value = Atomics.load(word, ${STATE});
  const sequence = value >>> ${STATE_BITS};
  const state = value & ${STATE_MASK};
  if (sequence === synced || (state !== ${SyncState.Waiting} && state !== ${SyncState.Detached})) {
    Atomics.wait(word, ${STATE}, value);
    continue;
  }
  synced = sequence;
  let outcome = { sequence };
  let failed = false;
  try {
    fdatasyncSync(Atomics.load(word, ${FILE_DESCRIPTOR}));
  } catch (error) {
    failed = true;
    outcome = { sequence, code: error && error.code, message: String(error && error.message) };
    port.postMessage(outcome);
  }
  Atomics.store(word, ${FAILED}, failed ? 1 : 0);
  const waiting = (value & ~${STATE_MASK}) | ${SyncState.Waiting};
  const done = (value & ~${STATE_MASK}) | ${SyncState.Done};
  if (Atomics.compareExchange(word, ${STATE}, waiting, done) === waiting) Atomics.notify(word, ${STATE});
  else if (!failed) port.postMessage(outcome);
}
`;

/** An fdatasync that failed on the sync thread, carrying the system's error code. */
class SyncThreadError extends Error {
  constructor(
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'SyncThreadError';
  }
}

/** Ends sync `sequence` with `outcome`, which must be that sync's own. */
function settle(sequence: number, outcome: SyncOutcome): void {
  assert(
    outcome.sequence === sequence,
    () => `the sync thread answered sync ${outcome.sequence} to sync ${sequence}`,
  );
  if (outcome.message !== undefined) throw new SyncThreadError(outcome.code, outcome.message);
}

export class SyncThread {
  private readonly word = new Int32Array(new SharedArrayBuffer(SHARED_WORDS * Int32Array.BYTES_PER_ELEMENT));
  private readonly port: MessagePort;
  private readonly worker: Worker;
  private sequence = 0;

  constructor() {
    const channel = new MessageChannel();
    this.port = channel.port1;
    this.worker = new Worker(THREAD_SOURCE, {
      eval: true,
      workerData: { shared: this.word.buffer, port: channel.port2 },
      transferList: [channel.port2],
      // The source is CommonJS whatever the parent was started with (--input-type, loaders).
      execArgv: [],
      // A sync thread needs next to no heap.
      resourceLimits: { maxOldGenerationSizeMb: 8 },
    });
    // Neither the thread nor its port keeps the process alive while no sync is detached.
    this.worker.unref();
    this.port.unref();
    this.worker.on('error', (error) =>
      this.end(new SyncThreadError(undefined, `the sync thread failed: ${error.message}`)),
    );
    this.worker.once('exit', (exitCode) =>
      this.end(new SyncThreadError(undefined, `the sync thread exited with code ${exitCode}`)),
    );
  }

  /** Set once the thread has exited: every later sync goes another way. */
  private ended: Error | undefined;
  private rejectDetached: ((error: Error) => void) | undefined;

  private end(error: Error): void {
    this.ended ??= error;
    this.rejectDetached?.(error);
    this.rejectDetached = undefined;
  }

  /** Whether the thread cannot take a sync now (one in flight, or the thread gone). */
  get busy(): boolean {
    return this.ended !== undefined || (Atomics.load(this.word, STATE) & STATE_MASK) !== SyncState.Idle;
  }

  /**
   * Syncs `fileDescriptor` on the thread, waiting up to `waitMs` on the calling thread.
   * Returns `undefined` when the sync finished within the wait (it threw if it failed), or a
   * promise of its end otherwise. The caller checks `busy` first.
   */
  sync(fileDescriptor: number, waitMs: number): Promise<void> | undefined {
    assert(!this.busy, 'a sync was handed to a busy sync thread');
    const sequence = (this.sequence + 1) & SEQUENCE_MASK;
    this.sequence = sequence;
    const waiting = syncStateWord(sequence, SyncState.Waiting);
    Atomics.store(this.word, FILE_DESCRIPTOR, fileDescriptor);
    Atomics.store(this.word, STATE, waiting);
    Atomics.notify(this.word, STATE);
    if (waitMs > 0) Atomics.wait(this.word, STATE, waiting, waitMs);
    const previous = Atomics.compareExchange(
      this.word,
      STATE,
      waiting,
      syncStateWord(sequence, SyncState.Detached),
    );
    if (previous === waiting) return this.detached(sequence);
    // Only the thread moves the word on from Waiting, and only to this sequence's Done.
    assert(
      previous === syncStateWord(sequence, SyncState.Done),
      () => `sync ${sequence} found the state word at ${previous}`,
    );
    const failed = Atomics.load(this.word, FAILED) === 1;
    // A failure was posted before the word was marked: its outcome is on the port now.
    const received = failed ? receiveMessageOnPort(this.port) : undefined;
    assert(!failed || received !== undefined, () => `sync ${sequence} failed without its outcome`);
    Atomics.store(this.word, STATE, syncStateWord(sequence, SyncState.Idle));
    if (received !== undefined) settle(sequence, received.message as SyncOutcome);
    return undefined;
  }

  private detached(sequence: number): Promise<void> {
    this.port.ref();
    return new Promise<void>((resolve, reject) => {
      this.rejectDetached = reject;
      this.port.once('message', (outcome: SyncOutcome) => {
        this.rejectDetached = undefined;
        this.port.unref();
        Atomics.store(this.word, STATE, syncStateWord(sequence, SyncState.Idle));
        try {
          settle(sequence, outcome);
          resolve();
        } catch (error) {
          reject(error);
        }
      });
    });
  }
}
