import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';

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
 */

/** The shared word's states. */
const State = { Idle: 0, Waiting: 1, Done: 2, Detached: 3 } as const;
const STATE = 0;
const FILE_DESCRIPTOR = 1;
const SEQUENCE = 2;

/** How a sync ended, as the thread posts it. */
interface SyncOutcome {
  readonly code?: string;
  readonly message?: string;
}

// CommonJS, evaluated by the worker: waits for a request, syncs, posts the outcome, then
// marks the word Done unless the event loop stopped waiting (Detached) and needs the message.
const THREAD_SOURCE = `
const { workerData } = require('node:worker_threads');
const { fdatasyncSync } = require('node:fs');
const word = new Int32Array(workerData.shared);
const port = workerData.port;
let seen = 0;
for (;;) {
  Atomics.wait(word, ${SEQUENCE}, seen);
  seen = Atomics.load(word, ${SEQUENCE});
  let outcome = {};
  try {
    fdatasyncSync(Atomics.load(word, ${FILE_DESCRIPTOR}));
  } catch (error) {
    outcome = { code: error && error.code, message: String(error && error.message) };
  }
  port.postMessage(outcome);
  Atomics.compareExchange(word, ${STATE}, ${State.Waiting}, ${State.Done});
  Atomics.notify(word, ${STATE});
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

function settle(outcome: SyncOutcome): void {
  if (outcome.message !== undefined) throw new SyncThreadError(outcome.code, outcome.message);
}

export class SyncThread {
  private readonly word = new Int32Array(new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT));
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
    return this.ended !== undefined || Atomics.load(this.word, STATE) !== State.Idle;
  }

  /**
   * Syncs `fileDescriptor` on the thread, waiting up to `waitMs` on the calling thread.
   * Returns `undefined` when the sync finished within the wait (it threw if it failed), or a
   * promise of its end otherwise. The caller checks `busy` first.
   */
  sync(fileDescriptor: number, waitMs: number): Promise<void> | undefined {
    Atomics.store(this.word, FILE_DESCRIPTOR, fileDescriptor);
    Atomics.store(this.word, STATE, State.Waiting);
    this.sequence = (this.sequence + 1) | 0;
    Atomics.store(this.word, SEQUENCE, this.sequence);
    Atomics.notify(this.word, SEQUENCE);
    if (waitMs > 0) Atomics.wait(this.word, STATE, State.Waiting, waitMs);
    const previous = Atomics.compareExchange(this.word, STATE, State.Waiting, State.Detached);
    if (previous === State.Done) {
      // The thread posted before it marked the word: the outcome is on the port now.
      const received = receiveMessageOnPort(this.port);
      if (received === undefined) {
        // A Done left by the previous, detached sync: the thread marks the word after it posts,
        // and the event loop may have taken that post and started this sync in between. This
        // sync's outcome is still to come, as a message.
        Atomics.store(this.word, STATE, State.Detached);
        return this.detached();
      }
      Atomics.store(this.word, STATE, State.Idle);
      settle(received.message as SyncOutcome);
      return undefined;
    }
    return this.detached();
  }

  private detached(): Promise<void> {
    this.port.ref();
    return new Promise<void>((resolve, reject) => {
      this.rejectDetached = reject;
      this.port.once('message', (outcome: SyncOutcome) => {
        this.rejectDetached = undefined;
        this.port.unref();
        Atomics.store(this.word, STATE, State.Idle);
        try {
          settle(outcome);
          resolve();
        } catch (error) {
          reject(error);
        }
      });
    });
  }
}
