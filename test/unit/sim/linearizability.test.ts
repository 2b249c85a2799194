import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/lib/index.js';
import {
  checkHistory,
  formatHistory,
  type HistoryOperation,
  parseHistory,
} from '../../../src/sim/linearizability/index.js';

function put(client: number, key: string, value: string, call: number, ret?: number): HistoryOperation {
  return ret === undefined
    ? { client, op: 'put', key, value, status: 'info', call_ts: call }
    : { client, op: 'put', key, value, call_ts: call, return_ts: ret };
}
function get(client: number, key: string, value: string | null, call: number, ret: number): HistoryOperation {
  return { client, op: 'get', key, value, call_ts: call, return_ts: ret };
}
function cas(
  client: number,
  key: string,
  expected: string | null,
  value: string,
  ok: boolean | 'info',
  call: number,
  ret?: number,
): HistoryOperation {
  if (ok === 'info') return { client, op: 'cas', key, expected, value, status: 'info', call_ts: call };
  return { client, op: 'cas', key, expected, value, ok, call_ts: call, return_ts: ret ?? call + 1 };
}

describe('linearizability checker: legal histories', () => {
  it('accepts a sequential history', () => {
    const result = checkHistory([
      put(0, 'x', '0-1', 0, 10),
      get(1, 'x', '0-1', 20, 30),
      get(1, 'y', null, 31, 32),
    ]);
    expect(result.verdict).toBe('linearizable');
    expect(result.keys.map((key) => key.key)).toEqual(['x', 'y']);
  });

  it('accepts a read concurrent with a write seeing either value', () => {
    const base = [put(0, 'x', 'a', 0, 10), put(1, 'x', 'b', 20, 40)];
    expect(checkHistory([...base, get(2, 'x', 'a', 25, 30)]).verdict).toBe('linearizable');
    expect(checkHistory([...base, get(2, 'x', 'b', 25, 30)]).verdict).toBe('linearizable');
  });

  it('accepts an info put that took effect late, long after its call', () => {
    const history = [
      put(0, 'x', 'a', 0, 10),
      put(1, 'x', 'late', 20),
      get(2, 'x', 'a', 30, 40),
      get(2, 'x', 'late', 500, 510),
    ];
    expect(checkHistory(history).verdict).toBe('linearizable');
  });

  it('accepts an info put that never took effect', () => {
    const history = [
      put(0, 'x', 'a', 0, 10),
      put(1, 'x', 'lost', 20),
      get(2, 'x', 'a', 30, 40),
      get(2, 'x', 'a', 50, 60),
    ];
    expect(checkHistory(history).verdict).toBe('linearizable');
  });

  it('accepts cas chains including a failed compare and an info cas that swapped', () => {
    const history = [
      put(0, 'x', 'a', 0, 10),
      cas(1, 'x', 'a', 'b', true, 20, 30),
      cas(2, 'x', 'a', 'c', false, 40, 50),
      cas(3, 'x', 'b', 'd', 'info', 60),
      get(4, 'x', 'd', 100, 110),
    ];
    expect(checkHistory(history).verdict).toBe('linearizable');
  });

  it('ignores failed operations and info reads', () => {
    const history: HistoryOperation[] = [
      put(0, 'x', 'a', 0, 10),
      { client: 1, op: 'put', key: 'x', value: 'never', status: 'fail', call_ts: 11, return_ts: 12 },
      { client: 2, op: 'get', key: 'x', value: null, status: 'info', call_ts: 13 },
      get(3, 'x', 'a', 20, 30),
    ];
    expect(checkHistory(history).verdict).toBe('linearizable');
  });
});

describe('linearizability checker: illegal histories', () => {
  it('rejects a stale read and explains it', () => {
    const history = [put(0, 'x', 'a', 0, 10), put(0, 'x', 'b', 20, 30), get(1, 'x', 'a', 40, 50)];
    const result = checkHistory(history);
    expect(result.verdict).toBe('illegal');
    expect(result.counterexample).toContain('key "x"');
    expect(result.counterexample).toContain('get -> "a"');
  });

  it('rejects a lost acknowledged write', () => {
    const history = [put(0, 'x', 'a', 0, 10), get(1, 'x', null, 20, 30)];
    expect(checkHistory(history).verdict).toBe('illegal');
  });

  it('rejects a cas anomaly: two swaps from the same expected value', () => {
    const history = [
      put(0, 'x', 'a', 0, 10),
      cas(1, 'x', 'a', 'b', true, 20, 30),
      cas(2, 'x', 'a', 'c', true, 40, 50),
    ];
    expect(checkHistory(history).verdict).toBe('illegal');
  });

  it('rejects a cas that reports a failed compare although the value matched', () => {
    const history = [put(0, 'x', 'a', 0, 10), cas(1, 'x', 'a', 'b', false, 20, 30), get(2, 'x', 'a', 40, 50)];
    expect(checkHistory(history).verdict).toBe('illegal');
  });

  it('rejects a value read before the info put that wrote it was called', () => {
    const history = [put(0, 'x', 'a', 0, 10), get(1, 'x', 'late', 20, 30), put(2, 'x', 'late', 40)];
    expect(checkHistory(history).verdict).toBe('illegal');
  });

  it('rejects a value flip-flop after an info put took effect', () => {
    const history = [
      put(0, 'x', 'a', 0, 10),
      put(1, 'x', 'b', 20),
      get(2, 'x', 'b', 30, 40),
      get(2, 'x', 'a', 50, 60),
    ];
    expect(checkHistory(history).verdict).toBe('illegal');
  });

  it('reports only the illegal key when others are fine', () => {
    const history = [
      put(0, 'y', 'a', 0, 10),
      get(1, 'y', 'a', 20, 30),
      put(0, 'x', 'a', 0, 10),
      get(1, 'x', 'z', 20, 30),
    ];
    const result = checkHistory(history);
    expect(result.verdict).toBe('illegal');
    expect(result.keys.find((key) => key.key === 'y')?.verdict).toBe('linearizable');
    expect(result.keys.find((key) => key.key === 'x')?.verdict).toBe('illegal');
  });
});

describe('linearizability checker: budget', () => {
  it('answers unknown, not a guess, when the step budget runs out', () => {
    const history: HistoryOperation[] = [];
    for (let client = 0; client < 12; client++) history.push(put(client, 'x', `v${client}`, 0, 100));
    history.push(get(99, 'x', 'absent-value', 200, 300));
    expect(checkHistory(history, { maxStepsPerKey: 50 }).verdict).toBe('unknown');
    expect(checkHistory(history).verdict).toBe('illegal');
  });
});

describe('history format', () => {
  it('round-trips through JSON Lines', () => {
    const history = [put(0, 'x', 'a', 0, 10), put(1, 'x', 'b', 20), cas(2, 'x', null, 'c', false, 30, 40)];
    expect(parseHistory(formatHistory(history))).toEqual(history);
  });

  it('reports every problem of a malformed history at once', () => {
    const text = [
      '{"client":0,"op":"frob","key":"x","value":"1","call_ts":0,"return_ts":1}',
      'not json',
      '{"client":0,"op":"put","key":"x","value":"1","call_ts":5}',
    ].join('\n');
    try {
      parseHistory(text);
      expect.unreachable('parseHistory should have thrown');
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).problems).toHaveLength(3);
    }
  });
});

/**
 * Runs operations one at a time against a register and gives each an interval around the
 * instant it took effect; any such history is linearizable by construction.
 */
const sequentialHistory = fc
  .array(
    fc.record({
      kind: fc.constantFrom('put', 'get', 'cas-hit', 'cas-miss', 'info-put'),
      key: fc.constantFrom('a', 'b'),
      client: fc.integer({ min: 0, max: 4 }),
      before: fc.integer({ min: 0, max: 30 }),
      after: fc.integer({ min: 0, max: 30 }),
    }),
    { maxLength: 40 },
  )
  .map((steps) => {
    const values = new Map<string, string | null>();
    const history: HistoryOperation[] = [];
    steps.forEach((step, index) => {
      const instant = (index + 1) * 10;
      const call = Math.max(0, instant - step.before);
      const ret = instant + step.after;
      const current = values.get(step.key) ?? null;
      const fresh = `${step.client}-${index}`;
      switch (step.kind) {
        case 'put':
          values.set(step.key, fresh);
          history.push(put(step.client, step.key, fresh, call, ret));
          break;
        case 'info-put':
          values.set(step.key, fresh);
          history.push(put(step.client, step.key, fresh, call));
          break;
        case 'get':
          history.push(get(step.client, step.key, current, call, ret));
          break;
        case 'cas-hit':
          values.set(step.key, fresh);
          history.push(cas(step.client, step.key, current, fresh, true, call, ret));
          break;
        case 'cas-miss':
          history.push(cas(step.client, step.key, `never-${index}`, fresh, false, call, ret));
          break;
      }
    });
    return history;
  });

describe('linearizability checker: property', () => {
  it('judges every history produced by a sequential register execution linearizable', () => {
    fc.assert(
      fc.property(sequentialHistory, (history) => {
        expect(checkHistory(history).verdict).toBe('linearizable');
      }),
      { numRuns: 150 },
    );
  });
});
