import { describe, expect, it } from 'vitest';
import { isMeshError } from '../../../src/lib/index.js';
import {
  decodeSessionEnvelope,
  encodeSessionEnvelope,
  SESSION_EXPIRY_ENTRIES,
  SessionTable,
} from '../../../src/server/index.js';

const result = (text: string) => new TextEncoder().encode(text);

describe('SessionTable', () => {
  it('applies a new request once and answers its retry with the recorded result', () => {
    const table = new SessionTable();
    expect(table.admit('client-a', 1, 10)).toEqual({ kind: 'apply' });
    table.record('client-a', 1, result('ok-1'));
    expect(table.admit('client-a', 1, 11)).toEqual({ kind: 'duplicate', result: result('ok-1') });
    expect(table.admit('client-a', 2, 12)).toEqual({ kind: 'apply' });
    table.record('client-a', 2, undefined);
    expect(table.admit('client-a', 1, 13)).toEqual({ kind: 'stale' });
    expect(table.admit('client-a', 2, 14)).toEqual({ kind: 'duplicate', result: undefined });
  });

  it('keeps clients apart', () => {
    const table = new SessionTable();
    table.admit('a', 1, 1);
    table.record('a', 1, result('a1'));
    expect(table.admit('b', 1, 2)).toEqual({ kind: 'apply' });
  });

  it('expires a session unused for SESSION_EXPIRY_ENTRIES log entries, deterministically by index', () => {
    const table = new SessionTable();
    table.admit('idle', 1, 1);
    table.record('idle', 1, result('r'));
    table.admit('busy', 1, 2);
    table.record('busy', 1, result('r'));
    table.admit('busy', 2, SESSION_EXPIRY_ENTRIES - 10);
    table.record('busy', 2, result('r'));
    expect(table.size).toBe(2);
    expect(table.admit('idle', 1, SESSION_EXPIRY_ENTRIES)).toEqual({
      kind: 'duplicate',
      result: result('r'),
    });
    const later = Math.floor(1.5 * SESSION_EXPIRY_ENTRIES);
    expect(table.admit('busy', 3, later)).toEqual({ kind: 'apply' });
    table.record('busy', 3, result('r3'));
    expect(table.size).toBe(2);
    // 'idle' was last used at SESSION_EXPIRY_ENTRIES: one entry past the window it is gone.
    expect(table.admit('busy', 3, 2 * SESSION_EXPIRY_ENTRIES + 1)).toEqual({
      kind: 'duplicate',
      result: result('r3'),
    });
    expect(table.size).toBe(1);
    // An expired client's retry looks new: the expiry window must exceed client retry time.
    expect(table.admit('idle', 1, 2 * SESSION_EXPIRY_ENTRIES + 2)).toEqual({ kind: 'apply' });
  });

  it('round-trips through snapshot() and restore()', () => {
    const table = new SessionTable();
    for (let client = 0; client < 5; client++) {
      table.admit(`c${client}`, client + 1, client);
      table.record(`c${client}`, client + 1, client % 2 === 0 ? result(`r${client}`) : undefined);
    }
    const copy = new SessionTable();
    copy.restore(table.snapshot());
    expect(copy.snapshot()).toEqual(table.snapshot());
    expect(copy.admit('c2', 3, 10)).toEqual({ kind: 'duplicate', result: result('r2') });
    expect(() => copy.restore(Uint8Array.of(1, 5))).toThrow(/malformed/);
  });
});

describe('session envelope', () => {
  it('round-trips and rejects malformed bytes with BAD_MESSAGE', () => {
    const envelope = { clientId: 'client-é', sequence: 123_456_789_012, payload: result('payload') };
    expect(decodeSessionEnvelope(encodeSessionEnvelope(envelope))).toEqual(envelope);
    const encoded = encodeSessionEnvelope(envelope);
    for (const bad of [encoded.subarray(0, encoded.length - 1), Uint8Array.of(0), new Uint8Array(0)]) {
      try {
        decodeSessionEnvelope(bad);
        expect.unreachable();
      } catch (error) {
        expect(isMeshError(error, 'BAD_MESSAGE')).toBe(true);
      }
    }
  });
});
