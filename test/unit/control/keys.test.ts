import { describe, expect, it } from 'vitest';
import {
  auditKey,
  ControlBadKeyError,
  ControlBadValueError,
  ControlKeys,
  ControlRecordDecodeError,
  chainKey,
  DEFAULT_CONTROL_ROOT,
  encodeRecord,
  MAX_CONTROL_KEY_BYTES,
  MAX_CONTROL_VALUE_BYTES,
  nodeIdOfKey,
  nodeKey,
  proximityKey,
  readRecord,
  rootProblems,
} from '../../../src/control/index.js';
import { isRecord } from '../../../src/lib/index.js';

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

describe('control-plane keys', () => {
  const keys = new ControlKeys(DEFAULT_CONTROL_ROOT);

  it('puts the root in front of every key and takes it off again', () => {
    const stored = keys.key('nodes/7');
    expect(text(stored)).toBe('/meshos/v1/nodes/7');
    expect(keys.relative(stored)).toBe('nodes/7');
  });

  it('turns a prefix into the range of keys starting with it', () => {
    const range = keys.prefix('nodes/');
    expect(text(range.start)).toBe('/meshos/v1/nodes/');
    expect(text(range.end ?? new Uint8Array())).toBe('/meshos/v1/nodes0');
  });

  it('starts a page just after the previous page last key', () => {
    const range = keys.prefixAfter('nodes/', 'nodes/7');
    expect([...range.start]).toEqual([...keys.key('nodes/7'), 0]);
  });

  it('refuses empty, over-long and unsafe keys with CONTROL_BAD_KEY', () => {
    expect(() => keys.key('')).toThrow(ControlBadKeyError);
    const room = MAX_CONTROL_KEY_BYTES - DEFAULT_CONTROL_ROOT.length;
    expect(text(keys.key('k'.repeat(room)))).toHaveLength(MAX_CONTROL_KEY_BYTES);
    expect(() => keys.key('k'.repeat(room + 1))).toThrow(ControlBadKeyError);
    expect(() => keys.key('a\u0000b')).toThrow(ControlBadKeyError);
    expect(() => keys.key('a\ud800')).toThrow(ControlBadKeyError);
    expect(text(keys.key('emoji-\ud83d\ude00'))).toBe('/meshos/v1/emoji-\ud83d\ude00');
  });

  it('checks the root', () => {
    expect(rootProblems('/meshos/v1/')).toEqual([]);
    expect(rootProblems('meshos')).toHaveLength(1);
    expect(rootProblems('/')).toHaveLength(1);
  });
});

describe('the keyspace', () => {
  it('builds each kind of key under its prefix', () => {
    expect(nodeKey(12)).toBe('nodes/12');
    expect(chainKey('orders.v2')).toBe('chains/orders.v2');
    expect(auditKey(42)).toBe('audit/0000000000000042');
    expect(auditKey(9) < auditKey(10)).toBe(true);
  });

  it('refuses names that would add a path segment or are not node ids', () => {
    expect(() => chainKey('a/b')).toThrow(ControlBadKeyError);
    expect(() => chainKey('')).toThrow(ControlBadKeyError);
    expect(() => nodeKey(0)).toThrow(ControlBadKeyError);
    expect(() => nodeKey(1.5)).toThrow(ControlBadKeyError);
  });

  it('reads the node id back from a node key', () => {
    expect(nodeIdOfKey(nodeKey(31))).toBe(31);
    expect(nodeIdOfKey(proximityKey(8))).toBe(8);
    expect(proximityKey(8)).toBe('proximity/8');
    expect(nodeIdOfKey('nodes/07')).toBeUndefined();
    expect(nodeIdOfKey('chains/3')).toBeUndefined();
  });
});

describe('JSON records', () => {
  const readNode = (value: unknown): { id: number } => {
    if (!isRecord(value) || typeof value.id !== 'number') throw new Error('id must be a number');
    return { id: value.id };
  };

  it('round-trips a record', () => {
    expect(readRecord('nodes/1', encodeRecord('nodes/1', { id: 1 }), readNode)).toEqual({ id: 1 });
  });

  it('gives a typed decode error for bytes that are not JSON or not the record', () => {
    expect(() => readRecord('k', new Uint8Array([0xff]), readNode)).toThrow(ControlRecordDecodeError);
    expect(() => readRecord('k', encodeRecord('k', { id: 'x' }), readNode)).toThrow(/id must be a number/);
  });

  it('refuses what is not JSON or too large with CONTROL_BAD_VALUE', () => {
    expect(() => encodeRecord('k', { size: 1n })).toThrow(ControlBadValueError);
    expect(() => encodeRecord('k', undefined)).toThrow(ControlBadValueError);
    expect(() => encodeRecord('k', 'x'.repeat(MAX_CONTROL_VALUE_BYTES))).toThrow(ControlBadValueError);
  });
});
