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
  readonly resolve: (result: Result) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Callers waiting for their proposals to be applied, by log index. An entry applied at that
 * index with another term means the proposal was overwritten and never applied.
 */
export class ProposalWaiters<Result> {
  private readonly waiting = new Map<number, ProposalWaiter<Result>>();

  get size(): number {
    return this.waiting.size;
  }

  add(index: number, term: number): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.waiting.get(index)?.reject(new ProposalDroppedError(index, 'another proposal took its place'));
      this.waiting.set(index, { term, resolve, reject });
    });
  }

  applied(index: number, term: number, result: Result): void {
    const waiter = this.waiting.get(index);
    if (waiter === undefined) return;
    this.waiting.delete(index);
    if (waiter.term === term) waiter.resolve(result);
    else waiter.reject(new ProposalDroppedError(index, `the leader of term ${term} replaced it`));
  }

  /** Rejects every waiter at or below `index` not yet settled (a snapshot jumped over them). */
  skippedThrough(index: number): void {
    for (const [waitingIndex, waiter] of this.waiting) {
      if (waitingIndex > index) continue;
      this.waiting.delete(waitingIndex);
      waiter.reject(new ProposalDroppedError(waitingIndex, 'a snapshot replaced the log'));
    }
  }

  rejectAll(error: unknown): void {
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
  }

  /** Answers every waiter with an unknown outcome: this node no longer leads. */
  leadershipLost(): void {
    for (const [index, waiter] of this.waiting) waiter.reject(new LeaderChangedError(index));
    this.waiting.clear();
  }
}

interface ReadWaiter {
  index: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** Linearizable reads: first waiting for the read index, then for the apply to reach it. */
export class ReadWaiters {
  private readonly pending = new Map<string, ReadWaiter>();
  private nextId = 1;

  get size(): number {
    return this.pending.size;
  }

  add(): { requestId: string; done: Promise<void> } {
    const requestId = `r${this.nextId++}`;
    const done = new Promise<void>((resolve, reject) => {
      this.pending.set(requestId, { index: Number.POSITIVE_INFINITY, resolve, reject });
    });
    return { requestId, done };
  }

  confirmed(requestId: string, index: number, appliedIndex: number): void {
    const waiter = this.pending.get(requestId);
    if (waiter === undefined) return;
    waiter.index = index;
    this.releaseThrough(appliedIndex);
  }

  releaseThrough(appliedIndex: number): void {
    for (const [requestId, waiter] of this.pending) {
      if (waiter.index > appliedIndex) continue;
      this.pending.delete(requestId);
      waiter.resolve();
    }
  }

  dropped(requestId: string): void {
    const waiter = this.pending.get(requestId);
    if (waiter === undefined) return;
    this.pending.delete(requestId);
    waiter.reject(new ReadDroppedError('leadership was lost or the leader refused'));
  }

  forget(requestId: string): void {
    this.pending.delete(requestId);
  }

  rejectAll(error: unknown): void {
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}
