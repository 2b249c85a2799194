import { describe, expect, it } from 'vitest';
import { ReadDroppedError, ReadWaiters } from '../../../src/server/waiters.js';
import { type PromiseState, track } from './promise-state.js';

/** 'dropped' for a read that failed with READ_DROPPED, else how it settled. */
const outcomeOf = (state: PromiseState): string =>
  state.outcome === 'rejected' && state.error instanceof ReadDroppedError ? 'dropped' : state.outcome;

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('ReadWaiters', () => {
  it('serves every read queued before a request with that one request', async () => {
    const reads = new ReadWaiters();
    const first = track(reads.wait());
    const second = track(reads.wait());
    expect(reads.size).toBe(2);
    const requestId = reads.issue();
    expect(requestId).toBeDefined();
    expect(reads.size).toBe(2);
    reads.confirmed(requestId!, 10, 9);
    await settle();
    expect([outcomeOf(first), outcomeOf(second)]).toEqual(['pending', 'pending']);
    reads.releaseThrough(10);
    await settle();
    expect([outcomeOf(first), outcomeOf(second)]).toEqual(['resolved', 'resolved']);
    expect(reads.size).toBe(0);
  });

  it('keeps a read that arrives while a request is in flight for the next request', async () => {
    const reads = new ReadWaiters();
    const early = track(reads.wait());
    const firstRequest = reads.issue()!;
    const late = track(reads.wait());
    expect(reads.issue()).toBeUndefined();
    reads.confirmed(firstRequest, 5, 5);
    await settle();
    expect(outcomeOf(early)).toBe('resolved');
    expect(outcomeOf(late)).toBe('pending');
    const secondRequest = reads.issue();
    expect(secondRequest).toBeDefined();
    expect(secondRequest).not.toBe(firstRequest);
    reads.confirmed(secondRequest!, 6, 6);
    await settle();
    expect(outcomeOf(late)).toBe('resolved');
  });

  it('fails a dropped batch and lets the next one go out', async () => {
    const reads = new ReadWaiters();
    const read = track(reads.wait());
    const requestId = reads.issue()!;
    reads.dropped(requestId);
    await settle();
    expect(outcomeOf(read)).toBe('dropped');
    expect(reads.size).toBe(0);
    expect(reads.inFlightRequest()).toBeUndefined();
    track(reads.wait());
    expect(reads.issue()).toBeDefined();
  });

  it('requeues a batch ahead of newer reads and ignores a late answer to the old request', async () => {
    const reads = new ReadWaiters();
    const old = track(reads.wait());
    const oldRequest = reads.issue()!;
    const newer = track(reads.wait());
    reads.requeue(oldRequest);
    const retry = reads.issue()!;
    expect(retry).not.toBe(oldRequest);
    reads.confirmed(oldRequest, 100, 100);
    await settle();
    expect([outcomeOf(old), outcomeOf(newer)]).toEqual(['pending', 'pending']);
    reads.confirmed(retry, 7, 7);
    await settle();
    expect([outcomeOf(old), outcomeOf(newer)]).toEqual(['resolved', 'resolved']);
  });

  it('rejects queued, in-flight and confirmed reads on rejectAll', async () => {
    const reads = new ReadWaiters();
    const confirmed = track(reads.wait());
    const first = reads.issue()!;
    reads.confirmed(first, 50, 1);
    const inFlight = track(reads.wait());
    reads.issue();
    const queued = track(reads.wait());
    reads.rejectAll(new Error('stopped'));
    await settle();
    expect([outcomeOf(confirmed), outcomeOf(inFlight), outcomeOf(queued)]).toEqual([
      'rejected',
      'rejected',
      'rejected',
    ]);
    expect(reads.size).toBe(0);
  });
});
