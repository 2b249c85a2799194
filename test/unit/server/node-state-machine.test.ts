import { describe, expect, it } from 'vitest';
import type { AuthCommand } from '../../../src/auth/index.js';
import { isMeshError } from '../../../src/lib/index.js';
import { MAX_SHARED_ENTRY_DATA_BYTES } from '../../../src/raft/entry-columns.js';
import type { Entry } from '../../../src/raft/index.js';
import {
  decodeNodeCommand,
  encodeNodeCommand,
  type NodeCommand,
  NodeStateMachine,
} from '../../../src/server/index.js';
import { rootAndAlice } from '../auth/fixtures.js';

const bytes = (text: string) => new TextEncoder().encode(text);

function entry(index: number, command: NodeCommand): Entry {
  return { term: 1, index, kind: 'normal', data: encodeNodeCommand(command) };
}

function put(key: string, value: string, session?: { clientId: string; sequence: number }): NodeCommand {
  return {
    type: 'kv',
    command: { type: 'put', key: bytes(key), value: bytes(value) },
    ...(session ? { session } : {}),
  };
}

describe('NodeStateMachine', () => {
  it('restores a snapshot that encodes to the same bytes, members and sessions included', () => {
    const machine = new NodeStateMachine();
    machine.apply(entry(1, put('a', '1', { clientId: 'c', sequence: 1 })));
    machine.apply(
      entry(2, { type: 'setMember', member: { id: 1, name: 'n1', peerUrls: ['http://p'], clientUrls: [] } }),
    );
    machine.apply({ term: 1, index: 3, kind: 'noop', data: new Uint8Array(0) });
    const snapshot = machine.snapshot();
    const restored = new NodeStateMachine();
    restored.restore(snapshot);
    expect(restored.snapshot()).toEqual(snapshot);
    expect(restored.members.get(1)?.name).toBe('n1');
    expect(restored.kv.appliedIndex).toBe(3);
  });

  it('decodes member changes that name a NodeId and refuses one that names anything else', () => {
    const remove: NodeCommand = { type: 'removeMember', id: 2 ** 40 };
    expect(decodeNodeCommand(encodeNodeCommand(remove))).toEqual(remove);
    const member = { id: 3, name: 'n3', peerUrls: [], clientUrls: [] };
    expect(decodeNodeCommand(encodeNodeCommand({ type: 'setMember', member }))).toEqual({
      type: 'setMember',
      member,
    });
    for (const id of [0, -1, 1.5, 2 ** 53]) {
      for (const command of [
        { type: 'removeMember', id },
        { type: 'setMember', member: { ...member, id } },
      ] as NodeCommand[]) {
        expect(() => decodeNodeCommand(encodeNodeCommand(command))).toThrow(/not a node id/);
      }
    }
    const stringId = new TextEncoder().encode('\u0003{"type":"removeMember","id":"2"}');
    expect(() => decodeNodeCommand(stringId)).toThrow(/not a node id/);
  });

  it('encodes every command behind the headroom asked for, the same bytes as without it', () => {
    const commands: NodeCommand[] = [
      put('app/a', 'value'),
      { type: 'kv', command: { type: 'put', key: bytes('app/a'), value: bytes('v') }, user: '' },
      put('app/b', 'value', { clientId: 'c', sequence: 4 }),
      { type: 'removeMember', id: 7 },
    ];
    for (const command of commands) {
      const plain = encodeNodeCommand(command);
      const forwardable = encodeNodeCommand(command, 1);
      expect(forwardable.byteLength).toBe(plain.byteLength + 1);
      expect([...forwardable.subarray(1)]).toEqual([...plain]);
      expect(decodeNodeCommand(forwardable.subarray(1))).toEqual(command);
    }
  });

  it('gives a command too large for the log to copy a buffer of its own (pooled bytes are only for small ones)', () => {
    // The Raft log copies entries up to MAX_SHARED_ENTRY_DATA_BYTES and keeps larger ones as
    // given: those must not be a slice of a shared pool chunk.
    const large = encodeNodeCommand({
      type: 'kv',
      command: { type: 'put', key: bytes('app/large'), value: new Uint8Array(MAX_SHARED_ENTRY_DATA_BYTES) },
    });
    expect(large.byteLength).toBeGreaterThan(MAX_SHARED_ENTRY_DATA_BYTES);
    expect(large.buffer.byteLength).toBe(large.byteLength);
  });

  it('answers a retried request from its session and a stale one with an error result, applying neither', () => {
    const machine = new NodeStateMachine();
    const first = machine.apply(entry(1, put('k', 'v1', { clientId: 'c', sequence: 2 })));
    const retry = machine.apply(entry(2, put('k', 'v1', { clientId: 'c', sequence: 2 })));
    expect(retry).toEqual(first);
    const stale = machine.apply(entry(3, put('k', 'old', { clientId: 'c', sequence: 1 })));
    expect(stale?.type).toBe('error');
    expect(stale?.type === 'error' && stale.error.code).toBe('STALE_REQUEST');
    expect(machine.kv.range({ type: 'range', key: bytes('k') }).kvs[0]?.version).toBe(1);
  });

  it('refuses a snapshot whose header or section lengths are wrong', () => {
    const snapshot = new NodeStateMachine().snapshot();
    const badMagic = snapshot.slice();
    badMagic[0] = 0;
    const truncated = snapshot.subarray(0, snapshot.byteLength - 1);
    for (const bad of [badMagic, truncated, new Uint8Array(3)]) {
      let caught: unknown;
      try {
        new NodeStateMachine().restore(bad);
      } catch (error) {
        caught = error;
      }
      expect(isMeshError(caught, 'SNAPSHOT_CORRUPT')).toBe(true);
    }
  });
});

const setUp: AuthCommand[] = [
  ...rootAndAlice('writer', 'readwrite'),
  { type: 'authEnable', tokenSecret: 'ab' },
];

function machineWithAuth(): { machine: NodeStateMachine; next: number } {
  const machine = new NodeStateMachine();
  let index = 1;
  for (const command of setUp)
    expect(machine.apply(entry(index++, { type: 'auth', command }))).toBeUndefined();
  return { machine, next: index };
}

const putAs = (user: string, key: string, session?: { clientId: string; sequence: number }): NodeCommand => ({
  type: 'kv',
  command: { type: 'put', key: bytes(key), value: bytes('v') },
  user,
  ...(session === undefined ? {} : { session }),
});

describe('NodeStateMachine with auth', () => {
  it('refuses, once auth is on, a client write its member took while it still saw auth off', () => {
    const { machine, next } = machineWithAuth();
    const anonymous: NodeCommand = {
      type: 'kv',
      command: { type: 'put', key: bytes('app/x'), value: bytes('v') },
      user: '',
    };
    expect(decodeNodeCommand(encodeNodeCommand(anonymous))).toEqual(anonymous);
    const withSession = { ...anonymous, session: { clientId: 'c', sequence: 1 } };
    expect(decodeNodeCommand(encodeNodeCommand(withSession))).toEqual(withSession);
    const refused = machine.apply(entry(next, anonymous));
    expect(refused?.type === 'error' && refused.error.code).toBe('AUTH_USER_EMPTY');
    // The node's own writes (no user at all) are not checked.
    const own: NodeCommand = { type: 'kv', command: { type: 'put', key: bytes('app/x'), value: bytes('v') } };
    expect(machine.apply(entry(next + 1, own))?.type).toBe('put');
  });

  it('carries the user of a key-value command, with or without a session, through the log encoding', () => {
    for (const command of [putAs('alice', 'app/x'), putAs('ålice', 'app/x', { clientId: 'c', sequence: 3 })])
      expect(decodeNodeCommand(encodeNodeCommand(command))).toEqual(command);
  });

  it('applies auth changes in log order, answering a refused one with its error and no change', () => {
    const { machine, next } = machineWithAuth();
    const revision = machine.auth.revision;
    const refused = machine.apply(
      entry(next, { type: 'auth', command: { type: 'roleAdd', name: 'writer' } }),
    );
    expect(refused?.type === 'error' && refused.error.code).toBe('AUTH_ROLE_EXISTS');
    expect(machine.auth.revision).toBe(revision);
    expect(machine.kv.appliedIndex).toBe(next);
  });

  it('checks a user-tagged write as it applies: permitted until the revoke entry, refused after it', () => {
    const { machine, next } = machineWithAuth();
    expect(machine.apply(entry(next, putAs('alice', 'app/x')))?.type).toBe('put');
    expect(machine.apply(entry(next + 1, putAs('alice', 'other/x')))).toMatchObject({
      type: 'error',
      error: { code: 'AUTH_PERMISSION_DENIED' },
    });
    machine.apply(
      entry(next + 2, { type: 'auth', command: { type: 'userRevokeRole', name: 'alice', role: 'writer' } }),
    );
    const afterRevoke = machine.apply(
      entry(next + 3, putAs('alice', 'app/x', { clientId: 'c', sequence: 1 })),
    );
    expect(afterRevoke?.type === 'error' && afterRevoke.error.code).toBe('AUTH_PERMISSION_DENIED');
    // The retried request gets the same refusal from its session.
    const retried = machine.apply(entry(next + 4, putAs('alice', 'app/x', { clientId: 'c', sequence: 1 })));
    expect(retried?.type === 'error' && [retried.error.code, retried.error.message]).toEqual(
      afterRevoke?.type === 'error' && [afterRevoke.error.code, afterRevoke.error.message],
    );
    expect(machine.kv.range({ type: 'range', key: bytes('app/x') }).kvs[0]?.version).toBe(1);
    expect(machine.kv.range({ type: 'range', key: bytes('other/x') }).count).toBe(0);
  });

  it('keeps the auth state in its snapshot, and restores a version-1 snapshot (before auth) as auth off', () => {
    const { machine } = machineWithAuth();
    const snapshot = machine.snapshot();
    const restored = new NodeStateMachine();
    restored.restore(snapshot);
    expect(restored.snapshot()).toEqual(snapshot);
    expect(restored.auth.enabled).toBe(true);
    expect(restored.auth.user('alice')?.roles).toEqual(['writer']);

    // Version 1: magic "MSN1", three section lengths, no auth section.
    const empty = new NodeStateMachine().snapshot();
    const view = new DataView(empty.buffer, empty.byteOffset);
    const kvBytes = view.getUint32(4);
    const sessionBytes = view.getUint32(8);
    const memberBytes = view.getUint32(12);
    const v1 = new Uint8Array(16 + kvBytes + sessionBytes + memberBytes);
    const v1View = new DataView(v1.buffer);
    v1View.setUint32(0, 0x4d534e31);
    v1View.setUint32(4, kvBytes);
    v1View.setUint32(8, sessionBytes);
    v1View.setUint32(12, memberBytes);
    v1.set(empty.subarray(20, 20 + kvBytes + sessionBytes + memberBytes), 16);
    restored.restore(v1);
    expect(restored.auth.enabled).toBe(false);
    expect(restored.auth.users()).toEqual([]);
  });
});
