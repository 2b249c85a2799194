import { describe, expect, it } from 'vitest';
import {
  DEDUP_ENTRY_OVERHEAD_BYTES,
  type DedupEntry,
  DedupTable,
  decodeMemberSnapshot,
  encodeMemberSnapshot,
} from '../../../src/daemons/index.js';
import { isMeshError } from '../../../src/lib/index.js';
import { textEncoder } from './fixtures.js';

function applied(
  clientId: string,
  sequence: number,
  inboundOffset: number,
  output = `${clientId}:${sequence}`,
): DedupEntry {
  return {
    clientId,
    sequence,
    inboundOffset,
    outcome: { type: 'applied', outputs: [textEncoder.encode(output)] },
  };
}

function clients(table: DedupTable): string[] {
  return table.list().map((entry) => entry.clientId);
}

describe('the dedup table', () => {
  it('calls a higher sequence new, the last one a duplicate with its answer, a lower one stale', () => {
    const table = new DedupTable();
    expect(table.check('a', 1)).toEqual({ type: 'new' });
    table.record(applied('a', 5, 10));
    expect(table.check('a', 6)).toEqual({ type: 'new' });
    expect(table.check('a', 5)).toEqual({ type: 'duplicate', entry: applied('a', 5, 10) });
    let stale: unknown;
    try {
      table.check('a', 4);
    } catch (error) {
      stale = error;
    }
    expect(isMeshError(stale, 'DAEMON_SEQUENCE_STALE')).toBe(true);
    expect((stale as Error).message).toBe(
      'client "a" sent sequence 4, below its last applied 5; not applied',
    );
    expect(table.check('b', 0)).toEqual({ type: 'new' });
  });

  it('keeps only each client’s newest answer', () => {
    const table = new DedupTable();
    table.record(applied('a', 1, 0));
    table.record(applied('a', 2, 1));
    expect(table.size).toBe(1);
    expect(table.list()).toEqual([applied('a', 2, 1)]);
    expect(() => table.record(applied('a', 2, 2))).toThrow(/dedup record of a sequence 2 after 2/);
  });

  it('evicts the least recently applied client past its client limit; a lookup does not refresh', () => {
    const table = new DedupTable({ maxClients: 3, maxBytes: 1 << 20 });
    table.record(applied('a', 1, 0));
    table.record(applied('b', 1, 1));
    table.record(applied('c', 1, 2));
    table.record(applied('a', 2, 3));
    expect(table.check('b', 1).type).toBe('duplicate');
    table.record(applied('d', 1, 4));
    expect(clients(table)).toEqual(['c', 'a', 'd']);
    // The documented consequence: an evicted client's retry is new again.
    expect(table.check('b', 1)).toEqual({ type: 'new' });
  });

  it('evicts past its byte limit, counting outputs, client ids and the per-entry overhead', () => {
    const entryBytes = DEDUP_ENTRY_OVERHEAD_BYTES + 1 + 10;
    const table = new DedupTable({ maxClients: 100, maxBytes: 2 * entryBytes });
    table.record(applied('a', 1, 0, 'x'.repeat(10)));
    table.record(applied('b', 1, 1, 'y'.repeat(10)));
    expect(table.bytes).toBe(2 * entryBytes);
    table.record(applied('c', 1, 2, 'z'.repeat(10)));
    expect(clients(table)).toEqual(['b', 'c']);
    expect(table.bytes).toBe(2 * entryBytes);
  });

  it('travels in a member snapshot with its recency order, failures included', () => {
    const table = new DedupTable({ maxClients: 3, maxBytes: 1 << 20 });
    table.record(applied('a', 1, 0));
    table.record({
      clientId: 'b',
      sequence: 7,
      inboundOffset: 1,
      outcome: { type: 'failed', code: 'DAEMON_PROCESS_FAILED', message: 'boom' },
    });
    table.record(applied('c', 3, 2));
    table.record(applied('a', 2, 3));
    const state = textEncoder.encode('daemon state');
    const decoded = decodeMemberSnapshot(encodeMemberSnapshot({ appliedThrough: 4, dedup: table, state }), {
      maxClients: 3,
      maxBytes: 1 << 20,
    });
    expect(decoded.appliedThrough).toBe(4);
    expect(decoded.state).toEqual(state);
    expect(decoded.dedup.list()).toEqual(table.list());
    // Same order, so the same client goes next on both sides.
    decoded.dedup.record(applied('d', 1, 4));
    table.record(applied('d', 1, 4));
    expect(clients(decoded.dedup)).toEqual(clients(table));
    expect(clients(table)).toEqual(['c', 'a', 'd']);
  });

  it('refuses a member snapshot that is not one, with DAEMON_STATE_INVALID', () => {
    const table = new DedupTable();
    table.record(applied('a', 1, 0));
    const bytes = encodeMemberSnapshot({ appliedThrough: 1, dedup: table, state: new Uint8Array([1, 2]) });
    const bad = [
      new Uint8Array(),
      new Uint8Array([2, ...bytes.subarray(1)]),
      bytes.subarray(0, bytes.length - 1),
      new Uint8Array([...bytes, 0]),
    ];
    for (const input of bad) {
      expect(() => decodeMemberSnapshot(input)).toThrow(
        expect.objectContaining({ code: 'DAEMON_STATE_INVALID' }),
      );
    }
    const twice = new DedupTable();
    twice.record(applied('a', 1, 0));
    const one = encodeMemberSnapshot({ appliedThrough: 1, dedup: twice, state: new Uint8Array() });
    // Hand-build two entries of client 'a': count 2, then the one entry's bytes twice.
    const entry = one.subarray(3, one.length - 1);
    const doubled = new Uint8Array([1, 1, 2, ...entry, ...entry, 0]);
    expect(() => decodeMemberSnapshot(doubled)).toThrow(/client "a" appears twice/);
  });
});
