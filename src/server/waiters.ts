import { MeshError } from '../lib/index.js';

export class ProposalDroppedError extends MeshError {
  constructor(index: number, reason: string) {
    super('PROPOSAL_DROPPED', `the proposal at index ${index} was not committed: ${reason}`, {
      details: { index },
    });
  }
}

/** This node stopped leading while the proposal was in flight: it may still commit, or not. */
export class LeaderChangedError extends MeshError {
  constructor(index: number) {
    super(
      'LEADER_CHANGED',
      `leadership changed while the proposal at index ${index} was in flight; outcome unknown`,
      {
        details: { index },
      },
    );
  }
}

export class ReadDroppedError extends MeshError {
  constructor(reason: string) {
    super('READ_DROPPED', `the linearizable read was not confirmed: ${reason}`);
  }
}

interface ProposalWaiter<Result> {
  readonly term: number;
  /** Told to `settled` when it ends (proposals of commands, not of membership changes). */
  readonly counted: boolean;
  readonly resolve: (result: Result) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Callers waiting for their proposals to be applied, by log index. An entry applied at that
 * index with another term means the proposal was overwritten and never applied.
 */
export class ProposalWaiters<Result> {
  private readonly waiting = new Map<number, ProposalWaiter<Result>>();

  /**
   * `settled` hears how each counted proposal ended, where it ends: a reaction chained on every
   * proposal's promise for it would cost a promise and two closures per put.
   */
  constructor(private readonly settled?: (applied: boolean) => void) {}

  get size(): number {
    return this.waiting.size;
  }

  add(index: number, term: number, counted = true): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      const replaced = this.waiting.get(index);
      if (replaced !== undefined)
        this.fail(replaced, new ProposalDroppedError(index, 'another proposal took its place'));
      this.waiting.set(index, { term, counted, resolve, reject });
    });
  }

  applied(index: number, term: number, result: Result): void {
    const waiter = this.waiting.get(index);
    if (waiter === undefined) return;
    this.waiting.delete(index);
    if (waiter.term !== term) {
      this.fail(waiter, new ProposalDroppedError(index, `the leader of term ${term} replaced it`));
      return;
    }
    if (waiter.counted) this.settled?.(true);
    waiter.resolve(result);
  }

  private fail(waiter: ProposalWaiter<Result>, error: unknown): void {
    if (waiter.counted) this.settled?.(false);
    waiter.reject(error);
  }

  /** Rejects every waiter at or below `index` not yet settled (a snapshot jumped over them). */
  skippedThrough(index: number): void {
    for (const [waitingIndex, waiter] of this.waiting) {
      if (waitingIndex > index) continue;
      this.waiting.delete(waitingIndex);
      this.fail(waiter, new ProposalDroppedError(waitingIndex, 'a snapshot replaced the log'));
    }
  }

  rejectAll(error: unknown): void {
    for (const waiter of this.waiting.values()) this.fail(waiter, error);
    this.waiting.clear();
  }

  /**
   * Answers the waiters proposed in `term` or earlier with an unknown outcome: this node stopped
   * leading when they were in flight and no later leader settled them. Later proposals (made in
   * a later term, after leading again) keep waiting.
   */
  leadershipLost(term: number): void {
    for (const [index, waiter] of this.waiting) {
      if (waiter.term > term) continue;
      this.waiting.delete(index);
      this.fail(waiter, new LeaderChangedError(index));
    }
  }
}

interface ReadBatch {
  /** Read index the leader confirmed; infinite until then. */
  index: number;
  readonly waiters: Array<{ readonly resolve: () => void; readonly reject: (error: unknown) => void }>;
}

/**
 * Linearizable reads, batched: every read that arrives while a ReadIndex request is in flight
 * waits for the next one, so one request (one heartbeat round on the leader) serves all reads
 * that queued meanwhile. A read may not ride on a request issued before it arrived: that
 * request's index could predate a write the reader has already seen. Once confirmed, a batch
 * waits for the apply to reach its index.
 */
export class ReadWaiters {
  private readonly batches = new Map<string, ReadBatch>();
  private queued: ReadBatch['waiters'] = [];
  private inFlight: string | undefined;
  private waitingReads = 0;
  private nextId = 1;

  /** Reads waiting, whatever their stage; kept as a count so checking it costs nothing. */
  get size(): number {
    return this.waitingReads;
  }

  /** Queues one read; it settles once a later-issued request is confirmed and applied. */
  wait(): Promise<void> {
    this.waitingReads++;
    return new Promise<void>((resolve, reject) => this.queued.push({ resolve, reject }));
  }

  /**
   * Moves the queued reads into a new batch when no request is in flight; returns its request
   * id for the caller to hand to Raft, or undefined when there is nothing to issue yet.
   */
  issue(): string | undefined {
    if (this.inFlight !== undefined || this.queued.length === 0) return undefined;
    const requestId = `r${this.nextId++}`;
    this.batches.set(requestId, { index: Number.POSITIVE_INFINITY, waiters: this.queued });
    this.queued = [];
    this.inFlight = requestId;
    return requestId;
  }

  /** The request currently in flight, if any (to time it out or drop it). */
  inFlightRequest(): string | undefined {
    return this.inFlight;
  }

  confirmed(requestId: string, index: number, appliedIndex: number): void {
    const batch = this.batches.get(requestId);
    if (batch === undefined) return;
    batch.index = index;
    if (this.inFlight === requestId) this.inFlight = undefined;
    this.releaseThrough(appliedIndex);
  }

  releaseThrough(appliedIndex: number): void {
    for (const [requestId, batch] of this.batches) {
      if (batch.index > appliedIndex) continue;
      this.batches.delete(requestId);
      this.waitingReads -= batch.waiters.length;
      for (const waiter of batch.waiters) waiter.resolve();
    }
  }

  /** Fails one batch (refused, dropped, timed out); its readers may retry. */
  failed(requestId: string, error: unknown): void {
    const batch = this.batches.get(requestId);
    if (batch === undefined) return;
    this.batches.delete(requestId);
    if (this.inFlight === requestId) this.inFlight = undefined;
    this.waitingReads -= batch.waiters.length;
    for (const waiter of batch.waiters) waiter.reject(error);
  }

  /** Puts a batch's reads back in front of the queue, to be issued again (to a new leader). */
  requeue(requestId: string): void {
    const batch = this.batches.get(requestId);
    if (batch === undefined) return;
    this.batches.delete(requestId);
    if (this.inFlight === requestId) this.inFlight = undefined;
    this.queued = [...batch.waiters, ...this.queued];
  }

  dropped(requestId: string): void {
    this.failed(requestId, new ReadDroppedError('leadership was lost or the leader refused'));
  }

  rejectAll(error: unknown): void {
    for (const batch of this.batches.values()) for (const waiter of batch.waiters) waiter.reject(error);
    for (const waiter of this.queued) waiter.reject(error);
    this.batches.clear();
    this.queued = [];
    this.inFlight = undefined;
    this.waitingReads = 0;
  }
}
