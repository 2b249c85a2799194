import { describe, expect, it } from 'vitest';
import { isMeshError } from '../../../src/lib/index.js';
import type { Entry } from '../../../src/raft/index.js';
import {
  decodeNodeCommand,
  encodeNodeCommand,
  type NodeCommand,
  NodeStateMachine,
} from '../../../src/server/index.js';

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
