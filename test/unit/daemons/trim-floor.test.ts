import { describe, expect, it } from 'vitest';
import {
  daemonTrimFloor,
  decodeTrimOffset,
  encodeTrimOffset,
  trimCheckpointKey,
  trimFloorKey,
  trimmedInboundChain,
} from '../../../src/daemons/trim-floor.js';

describe('daemonTrimFloor', () => {
  it('is the lowest checkpoint offset over the members', () => {
    expect(
      daemonTrimFloor(
        [1, 2, 3],
        new Map([
          [1, 400],
          [2, 250],
          [3, 900],
        ]),
      ),
    ).toBe(250);
  });

  it('is pinned at 0 by a member without a checkpoint', () => {
    expect(
      daemonTrimFloor(
        [1, 2, 3],
        new Map([
          [1, 400],
          [3, 900],
        ]),
      ),
    ).toBe(0);
  });

  it('ignores checkpoints of nodes that are no longer members', () => {
    expect(
      daemonTrimFloor(
        [1, 2],
        new Map([
          [1, 400],
          [2, 500],
          [7, 3],
        ]),
      ),
    ).toBe(400);
  });

  it('is at most every pin (a fork being built)', () => {
    expect(
      daemonTrimFloor(
        [1, 2],
        new Map([
          [1, 400],
          [2, 500],
        ]),
        [120, 300],
      ),
    ).toBe(120);
  });

  it('is 0 with no members', () => {
    expect(daemonTrimFloor([], new Map([[1, 400]]))).toBe(0);
  });
});

describe('trim offsets in the control plane', () => {
  it('round-trip, and their byte order is the offsets order', () => {
    for (const offset of [0, 9, 10, 123_456, Number.MAX_SAFE_INTEGER]) {
      expect(decodeTrimOffset(encodeTrimOffset(offset))).toBe(offset);
    }
    const bytes = (offset: number) => Buffer.from(encodeTrimOffset(offset));
    expect(Buffer.compare(bytes(9), bytes(10))).toBe(-1);
    expect(Buffer.compare(bytes(99_999), bytes(100_000))).toBe(-1);
  });

  it('refuse anything else', () => {
    for (const text of ['', '12', '-0000000000000000001', 'x0000000000000000000', '99999999999999999999']) {
      expect(decodeTrimOffset(new TextEncoder().encode(text))).toBeUndefined();
    }
  });

  it('keys sit under chain-trim/ per chain', () => {
    expect(trimFloorKey('daemon.c.inbound')).toBe('chain-trim/daemon.c.inbound/floor');
    expect(trimCheckpointKey('daemon.c.inbound', 3)).toBe('chain-trim/daemon.c.inbound/checkpoints/3');
  });

  it('apply to a group shared inbound chain, not to replica groups', () => {
    expect(trimmedInboundChain({ name: 'c', group: 'standby' })).toBe('daemon.c.inbound');
    expect(trimmedInboundChain({ name: 'c', group: 'single' })).toBe('daemon.c.inbound');
    expect(trimmedInboundChain({ name: 'c', group: 'replica' })).toBeUndefined();
  });
});
