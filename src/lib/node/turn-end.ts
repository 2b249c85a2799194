/**
 * The end of the event loop's current turn, one per process, shared by the work that waits for
 * its company (a chain's group commit, a follower's acknowledgements, the appends a node forwards
 * together) and by the peer links' socket writes, so the writes come last: everything one turn
 * produced for a peer leaves in one write, and still in that turn.
 *
 * Why not each its own `setImmediate`: an immediate queued from inside the check phase (by another
 * immediate, which is where deferred work runs) waits for the next turn of the loop, behind that
 * turn's I/O; and a write made at once by each producer (as the chain code did) splits a turn's
 * messages to one peer into several writes. Here one immediate runs the turn's deferred work
 * (work deferred by that work joins the same round), then, after the promise reactions the work
 * started at once (an acknowledgement of writes already durable), the deferred writes.
 *
 * Before the loop blocks on an inline fdatasync, `writeNow` hands the sockets what waits: the
 * messages travel while the disk syncs (a leader's pushes, so the followers sync beside it).
 */
export class TurnEnd {
  private work: (() => void)[] = [];
  private writes: (() => void)[] = [];
  private armed = false;
  private writing = false;
  private lateWriteQueued = false;

  /** Runs `task` at the end of this turn, with the other work deferred to it. */
  defer(task: () => void): void {
    this.work.push(task);
    this.arm();
  }

  /** Runs `write` once this turn's deferred work is done (or before the loop blocks, `writeNow`). */
  deferWrite(write: () => void): void {
    this.writes.push(write);
    this.arm();
  }

  /** The loop is about to block (an inline fdatasync): the deferred writes run now. */
  writeNow(): void {
    if (this.writing) return;
    this.writing = true;
    try {
      runAll(this.writes);
    } finally {
      this.writing = false;
    }
  }

  /**
   * Runs the deferred writes still in this turn, once the promise reactions queued so far, and
   * those they queue in turn, have run. For work that ran in an immediate of its own (the Raft
   * drain, which settles proposals): what their reactions send (the answer to a write a follower
   * forwarded) would otherwise wait for this object's immediate, which, armed from inside the
   * check phase, runs in the next turn, behind that turn's I/O. A tick queued from a microtask
   * runs once the microtask queue is empty: Node runs ticks, then microtasks, until both are.
   */
  writeAfterReactions(): void {
    if (this.lateWriteQueued) return;
    this.lateWriteQueued = true;
    queueMicrotask(this.queueLateWrite);
  }

  private readonly queueLateWrite = (): void => {
    process.nextTick(this.lateWrite);
  };

  private readonly lateWrite = (): void => {
    this.lateWriteQueued = false;
    this.writeNow();
  };

  private arm(): void {
    if (this.armed) return;
    this.armed = true;
    setImmediate(this.runWork);
  }

  private readonly runWork = (): void => {
    runAll(this.work);
    queueMicrotask(this.finish);
  };

  private readonly finish = (): void => {
    while (this.work.length > 0 || this.writes.length > 0) {
      runAll(this.work);
      this.writeNow();
    }
    this.armed = false;
  };
}

/** Runs every task, those added meanwhile too, then empties the list; a throw surfaces apart. */
function runAll(tasks: (() => void)[]): void {
  for (let index = 0; index < tasks.length; index++) {
    const task = tasks[index] as () => void;
    try {
      task();
    } catch (error) {
      // As an uncaught error, the way a throwing `setImmediate` callback surfaces; the rest run.
      queueMicrotask(() => {
        throw error;
      });
    }
  }
  tasks.length = 0;
}

/** The process's one end of turn (there is one event loop). */
export const endOfTurn = new TurnEnd();
