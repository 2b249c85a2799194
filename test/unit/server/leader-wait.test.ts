import { describe, expect, it } from 'vitest';
import { isMeshError, ManualClock } from '../../../src/lib/index.js';
import { NotLeaderError } from '../../../src/raft/index.js';
import {
  ForwardError,
  LEADER_RETRY_PAUSE_MS,
  LEADER_WAIT_ANSWER_MARGIN_MS,
  LEADER_WAIT_TIMEOUT_MS,
  LeaderChangedError,
  type LeaderInfo,
  LeaderWait,
  leaderWaitMs,
  MAX_LEADER_WAIT_MS,
  MAX_REQUESTS_WAITING_FOR_LEADER,
  neverProposed,
} from '../../../src/server/index.js';
import { track } from './promise-state.js';

async function settle(): Promise<void> {
  for (let turn = 0; turn < 10; turn++) await Promise.resolve();
}

/** A LeaderWait over a leader the test sets, on a manual clock. */
function setup(initial: LeaderInfo = { leaderId: 0, term: 1 }) {
  const clock = new ManualClock();
  let leader = initial;
  const wait = new LeaderWait(clock, () => leader);
  const change = (next: LeaderInfo): void => {
    leader = next;
    wait.leaderChanged(next);
  };
  return { clock, wait, change };
}

describe('LeaderWait', () => {
  it('answers at once when a leader is known', async () => {
    const { wait } = setup({ leaderId: 2, term: 3 });
    await expect(wait.known(0)).resolves.toEqual({ leaderId: 2, term: 3 });
  });

  it('holds a request without a leader until one is elected', async () => {
    const { clock, wait, change } = setup();
    const request = track(wait.known(clock.nowMs() + 1_000));
    clock.advance(900);
    await settle();
    expect(request.outcome).toBe('pending');
    change({ leaderId: 3, term: 2 });
    await settle();
    expect(request.outcome).toBe('resolved');
    expect(wait.size).toBe(0);
    expect(clock.pendingTimerCount()).toBe(0);
  });

  it('refuses with no leader (never proposed) once the deadline passes without one', async () => {
    const { clock, wait } = setup();
    const request = track(wait.known(clock.nowMs() + 1_000));
    clock.advance(1_000);
    await settle();
    expect(request.outcome).toBe('rejected');
    expect(isMeshError(request.error, 'NOT_LEADER')).toBe(true);
    expect((request.error as NotLeaderError).leaderId).toBe(0);
    expect(neverProposed(request.error)).toBe(true);
  });

  it('retries a refused write with the next leader and answers its result', async () => {
    const { clock, wait, change } = setup({ leaderId: 1, term: 1 });
    const tried: number[] = [];
    const result = track(
      wait.run(async (leader) => {
        tried.push(leader.leaderId);
        if (leader.leaderId === 1) throw new NotLeaderError(0);
        return 'applied';
      }, neverProposed),
    );
    await settle();
    expect(tried).toEqual([1]);
    // The old leader stepped down: no leader for a while, then node 2 wins.
    change({ leaderId: 0, term: 2 });
    clock.advance(LEADER_RETRY_PAUSE_MS);
    await settle();
    expect(result.outcome).toBe('pending');
    change({ leaderId: 2, term: 2 });
    await settle();
    expect(tried).toEqual([1, 2]);
    expect(result.outcome).toBe('resolved');
  });

  it('treats an attempt that throws at once like one that rejects: retried if refused, else answered', async () => {
    const { wait, change } = setup({ leaderId: 1, term: 1 });
    const tried: number[] = [];
    const retried = track(
      wait.run((leader) => {
        tried.push(leader.leaderId);
        if (leader.leaderId === 1) throw new NotLeaderError(2);
        return Promise.resolve('applied');
      }, neverProposed),
    );
    change({ leaderId: 2, term: 2 });
    await settle();
    expect(tried).toEqual([1, 2]);
    expect(retried.outcome).toBe('resolved');

    const failure = new LeaderChangedError(7);
    const answered = track(
      wait.run(() => {
        throw failure;
      }, neverProposed),
    );
    await settle();
    expect(answered.outcome).toBe('rejected');
    expect(answered.error).toBe(failure);
  });

  it('does not retry a proposal whose outcome is unknown: it answers leader changed', async () => {
    const { wait } = setup({ leaderId: 1, term: 1 });
    let attempts = 0;
    const result = track(
      wait.run(async () => {
        attempts++;
        throw new LeaderChangedError(7);
      }, neverProposed),
    );
    await settle();
    expect(result.outcome).toBe('rejected');
    expect(isMeshError(result.error, 'LEADER_CHANGED')).toBe(true);
    expect(attempts).toBe(1);
  });

  it('retries a leader it cannot reach every pause until the deadline, then gives the last refusal', async () => {
    const { clock, wait } = setup({ leaderId: 1, term: 1 });
    let attempts = 0;
    const result = track(
      wait.run(async () => {
        attempts++;
        throw new ForwardError('LEADER_UNREACHABLE', 'cannot reach node 1');
      }, neverProposed),
    );
    await settle();
    expect(attempts).toBe(1);
    clock.advance(LEADER_RETRY_PAUSE_MS);
    await settle();
    expect(attempts).toBe(2);
    for (
      let elapsed = LEADER_RETRY_PAUSE_MS;
      elapsed < LEADER_WAIT_TIMEOUT_MS;
      elapsed += LEADER_RETRY_PAUSE_MS
    ) {
      clock.advance(LEADER_RETRY_PAUSE_MS);
      await settle();
    }
    expect(result.outcome).toBe('rejected');
    expect(isMeshError(result.error, 'LEADER_UNREACHABLE')).toBe(true);
    expect(attempts).toBe(LEADER_WAIT_TIMEOUT_MS / LEADER_RETRY_PAUSE_MS + 1);
  });

  it('bounds the requests waiting for a leader', async () => {
    const { clock, wait } = setup();
    const waiting = Array.from({ length: MAX_REQUESTS_WAITING_FOR_LEADER }, () =>
      track(wait.known(clock.nowMs() + 1_000)),
    );
    const refused = track(wait.known(clock.nowMs() + 1_000));
    await settle();
    expect(refused.outcome).toBe('rejected');
    expect(isMeshError(refused.error, 'TOO_MANY_REQUESTS')).toBe(true);
    expect(waiting.every((request) => request.outcome === 'pending')).toBe(true);
    clock.advance(1_000);
    await settle();
    expect(wait.size).toBe(0);
  });

  it('fails the waiting requests when the node stops', async () => {
    const { clock, wait } = setup();
    const request = track(wait.run(async () => 'never', neverProposed));
    wait.close();
    await settle();
    expect(request.outcome).toBe('rejected');
    expect(isMeshError(request.error, 'NODE_STOPPED')).toBe(true);
    expect(clock.pendingTimerCount()).toBe(0);
  });
});

describe('leaderWaitMs (how long a request waits for a leader)', () => {
  it('waits the default without a client deadline', () => {
    expect(leaderWaitMs(undefined)).toBe(LEADER_WAIT_TIMEOUT_MS);
    expect(leaderWaitMs(Number.POSITIVE_INFINITY)).toBe(LEADER_WAIT_TIMEOUT_MS);
  });

  it("stops shortly before the client's deadline, shorter or longer than the default", () => {
    expect(leaderWaitMs(500)).toBe(500 - LEADER_WAIT_ANSWER_MARGIN_MS);
    // Longer deadlines keep a tenth of themselves for the answer to travel.
    expect(leaderWaitMs(1_000)).toBe(900);
    expect(leaderWaitMs(12_000)).toBe(10_800);
  });

  it('does not wait for a deadline already (nearly) passed, nor beyond the longest wait', () => {
    expect(leaderWaitMs(LEADER_WAIT_ANSWER_MARGIN_MS / 2)).toBe(0);
    expect(leaderWaitMs(-5)).toBe(0);
    expect(leaderWaitMs(10 * MAX_LEADER_WAIT_MS)).toBe(MAX_LEADER_WAIT_MS);
  });

  it('with no time to wait, still runs the request once when a leader is known', async () => {
    const { wait } = setup({ leaderId: 2, term: 1 });
    await expect(wait.run(async () => 'applied', neverProposed, 0)).resolves.toBe('applied');
  });
});
