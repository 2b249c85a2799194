import { describe, expect, it } from 'vitest';
import { type SharedAppendResult, SharedAppends } from '../../../src/chains/index.js';
import { ManualClock, ValidationError } from '../../../src/lib/index.js';

/** A chain that refuses an empty append, as the server does, and numbers the records it takes. */
function fakeChain() {
  const calls: number[] = [];
  let end = 0;
  const send = async (_target: string, payloads: readonly Uint8Array[]): Promise<SharedAppendResult> => {
    calls.push(payloads.length);
    if (payloads.length === 0) throw new ValidationError('append', ['an append carries at least one record']);
    const firstOffset = end;
    end += payloads.length;
    return { epoch: 1, firstOffset, lastOffset: end - 1 };
  };
  const turns: (() => void)[] = [];
  const shared = new SharedAppends(send, new ManualClock(), (action) => turns.push(action));
  const endTurn = (): void => {
    for (const action of turns.splice(0)) action();
  };
  return { shared, calls, endTurn };
}

const record = new Uint8Array([1]);

describe('SharedAppends', () => {
  it('an empty append is sent alone and refused, not answered with offsets from a batch', async () => {
    const { shared, calls, endTurn } = fakeChain();
    const outcomes = Promise.allSettled([
      shared.append('chain', 'chain', [record], undefined),
      shared.append('chain', 'chain', [], undefined),
      shared.append('chain', 'chain', [record, record], undefined),
    ]);
    endTurn();
    const [first, empty, last] = await outcomes;
    expect(first).toEqual({ status: 'fulfilled', value: { epoch: 1, firstOffset: 0, lastOffset: 0 } });
    expect(empty?.status).toBe('rejected');
    expect((empty as PromiseRejectedResult).reason).toBeInstanceOf(ValidationError);
    expect(last).toEqual({ status: 'fulfilled', value: { epoch: 1, firstOffset: 1, lastOffset: 2 } });
    // The empty one on its own, the other two in one shared request.
    expect(calls).toEqual([0, 3]);
  });
});
