import { describe, expect, it } from 'vitest';
import { NodePicker } from '../../../src/reconcile/node-picker.js';

const candidate = (
  id: number,
  held: number,
  options: { zone?: string; load?: number; capacity?: number } = {},
) => ({
  id,
  zone: options.zone ?? 'a',
  load: options.load ?? 0,
  held,
  capacity: options.capacity ?? 10,
});

describe('node picker', () => {
  it('picks the node holding fewest, then the least loaded, then the smallest id, counting each pick', () => {
    const picker = new NodePicker([
      candidate(3, 1),
      candidate(2, 0, { load: 0.4 }),
      candidate(5, 0, { load: 0.1 }),
    ]);
    const none = new Set<number>();
    const zones = new Set<string>();
    expect([
      picker.pick(none, zones),
      picker.pick(none, zones),
      picker.pick(none, zones),
      picker.pick(none, zones),
    ]).toEqual([5, 2, 3, 5]);
  });

  it('skips excluded nodes and full nodes, and answers undefined once none has room', () => {
    const picker = new NodePicker([
      candidate(1, 0, { capacity: 1 }),
      candidate(2, 0),
      candidate(3, 5, { capacity: 5 }),
    ]);
    expect(picker.pick(new Set([1]), new Set())).toBe(2);
    expect(picker.pick(new Set(), new Set())).toBe(1);
    expect(picker.pick(new Set([2]), new Set())).toBeUndefined();
  });

  it('prefers a zone the group does not use among the first candidates', () => {
    const picker = new NodePicker([
      candidate(1, 0, { zone: 'a' }),
      candidate(2, 0, { zone: 'a' }),
      candidate(3, 1, { zone: 'b' }),
    ]);
    expect(picker.pick(new Set(), new Set(['a']))).toBe(3);
  });
});
