import { describe, expect, it } from 'vitest';
import {
  ChainHostMessageError,
  decodeHostFrame,
  encodeAnswerFrame,
  encodeReplicaFrame,
  encodeRequestFrame,
  type HostAnswer,
  type HostRequest,
} from '../../../src/chains/host-messages.js';

describe('chains channel frames', () => {
  it('round-trips every request and answer, and passes replica bodies through untouched', () => {
    const requests: HostRequest[] = [
      {
        type: 'append',
        chain: 'orders',
        payloads: [new Uint8Array([1, 2]), new Uint8Array()],
        timeoutMs: 900,
      },
      { type: 'read', chain: 'orders', fromOffset: 7, maxRecords: 10, maxBytes: 4096, waitMs: 1000 },
      { type: 'status', chain: 'orders' },
    ];
    for (const [index, request] of requests.entries())
      expect(decodeHostFrame(encodeRequestFrame(index + 1, request))).toEqual({
        kind: 'request',
        id: index + 1,
        request,
      });
    const answers: HostAnswer[] = [
      { type: 'append', epoch: 3, firstOffset: 10, lastOffset: 11 },
      {
        type: 'read',
        commitOffset: 9,
        entries: [
          { offset: 4, epoch: 2, kind: 'epoch-start', appendedAtMs: 5, payload: new Uint8Array() },
          { offset: 5, epoch: 2, kind: 'data', appendedAtMs: 6, payload: new Uint8Array([9]) },
        ],
      },
      { type: 'status', json: '{"a":1}' },
      { type: 'error', code: 'CHAIN_NOT_LEADER', message: 'not the leader' },
    ];
    for (const answer of answers)
      expect(decodeHostFrame(encodeAnswerFrame(42, answer))).toEqual({ kind: 'answer', id: 42, answer });
    expect(decodeHostFrame(encodeReplicaFrame(new Uint8Array([5, 6])))).toEqual({
      kind: 'replica',
      body: new Uint8Array([5, 6]),
    });
  });

  it('refuses malformed frames with a typed error', () => {
    for (const bytes of [new Uint8Array(), new Uint8Array([9, 1]), new Uint8Array([1, 1, 99, 0])]) {
      expect(() => decodeHostFrame(bytes)).toThrow(ChainHostMessageError);
    }
    const frame = encodeRequestFrame(1, { type: 'status', chain: 'x' });
    expect(() => decodeHostFrame(new Uint8Array([...frame, 0]))).toThrow(ChainHostMessageError);
  });
});
