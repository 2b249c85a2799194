import { describe, expect, it } from 'vitest';
import {
  ControlLeaseNotFoundError,
  ControlUnavailableError,
  type LeaseLoss,
} from '../../../src/control/index.js';
import { LeaseKeeper } from '../../../src/control/lease-keeper.js';
import { ManualClock, SeededRandom } from '../../../src/lib/index.js';

/** A store's renew call, answered by the test one call at a time. */
function scriptedRenew(): {
  renew: (id: number) => Promise<number>;
  calls: number;
  answer: (ttlSeconds: number) => void;
  fail: (error: Error) => void;
} {
  const pending: Array<{ resolve: (ttl: number) => void; reject: (error: Error) => void }> = [];
  const script = {
    calls: 0,
    renew: () =>
      new Promise<number>((resolve, reject) => {
        script.calls += 1;
        pending.push({ resolve, reject });
      }),
    answer: (ttlSeconds: number) => pending.shift()?.resolve(ttlSeconds),
    fail: (error: Error) => pending.shift()?.reject(error),
  };
  return script;
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

/** A keeper of lease 7 on a manual clock, its renewals scripted by the test. */
function startKeeper() {
  const clock = new ManualClock();
  const script = scriptedRenew();
  const losses: LeaseLoss[] = [];
  const kept = new LeaseKeeper(7, {
    renew: script.renew,
    clock,
    random: new SeededRandom(1),
    onLost: (loss) => losses.push(loss),
    onEnd: () => {},
  });
  return { clock, script, losses, kept };
}

describe('LeaseKeeper', () => {
  it('renews at a third of the TTL and counts renewals', async () => {
    const { clock, script, losses, kept } = startKeeper();
    expect(script.calls).toBe(1);
    script.answer(9);
    await settle();
    clock.advance(2_999);
    expect(script.calls).toBe(1);
    clock.advance(1);
    expect(script.calls).toBe(2);
    script.answer(9);
    await settle();
    expect(kept.renewals).toBe(2);
    expect(losses).toEqual([]);
    kept.stop();
  });

  it('reports not-found at once when the store no longer has the lease', async () => {
    const { script, losses, kept } = startKeeper();
    script.fail(new ControlLeaseNotFoundError(7));
    const loss = await kept.lost;
    expect(loss.reason).toBe('not-found');
    expect(losses).toHaveLength(1);
  });

  it('retries failed renewals and reports deadline-passed when none succeeds within the TTL', async () => {
    const { clock, script, losses, kept } = startKeeper();
    script.answer(3);
    await settle();
    // The renewal at 1 s and every retry fail; the TTL runs out 3 s after the renewal was sent.
    for (let step = 0; step < 60 && losses.length === 0; step++) {
      clock.advance(50);
      script.fail(new ControlUnavailableError('no leader'));
      await settle();
    }
    expect(script.calls).toBeGreaterThan(3);
    expect(losses.map((loss) => loss.reason)).toEqual(['deadline-passed']);
    expect(clock.nowMs()).toBe(3_000);
    expect((await kept.lost).error.message).toContain('no leader');
  });

  it('tells nobody after stop, and renews no more', async () => {
    const { clock, script, losses, kept } = startKeeper();
    script.answer(3);
    await settle();
    kept.stop();
    clock.advance(10_000);
    expect(script.calls).toBe(1);
    expect(losses).toEqual([]);
  });
});
