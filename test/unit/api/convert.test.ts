import { describe, expect, it } from 'vitest';
import { alarmCallFromPb, alarmMemberToPb } from '../../../src/api/convert-alarm.js';
import { memberId } from '../../../src/api/convert-cluster.js';
import {
  compareFromPb,
  rangeRequestFromPb,
  txnRequestFromPb,
  txnResponseToPb,
} from '../../../src/api/convert-kv.js';
import {
  int64ToNumber,
  uint64Out,
  uint64ToBigint,
  uint64ToNodeId,
} from '../../../src/api/convert-numbers.js';
import { watchCreateFromPb } from '../../../src/api/convert-watch.js';
import { MemberNotFoundError } from '../../../src/api/errors.js';
import { InvalidRequestError } from '../../../src/kv/index.js';
import type { PbCompare, PbRangeRequest, PbWatchCreateRequest } from '../../../src/protocol/index.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

function rangePb(overrides: Partial<PbRangeRequest> = {}): PbRangeRequest {
  return {
    key: bytes('a'),
    range_end: new Uint8Array(0),
    limit: '0',
    revision: '0',
    sort_order: 'None',
    sort_target: 'Key',
    serializable: false,
    keys_only: false,
    count_only: false,
    min_mod_revision: '0',
    max_mod_revision: '0',
    min_create_revision: '0',
    max_create_revision: '0',
    ...overrides,
  };
}

function watchPb(overrides: Partial<PbWatchCreateRequest> = {}): PbWatchCreateRequest {
  return {
    key: bytes('k'),
    range_end: new Uint8Array(0),
    start_revision: '0',
    progress_notify: false,
    filters: [],
    prev_kv: false,
    watch_id: '0',
    fragment: false,
    ...overrides,
  };
}

describe('64-bit numbers', () => {
  it('parses decimal strings and refuses what a safe integer cannot hold', () => {
    expect(int64ToNumber('limit', '42')).toBe(42);
    expect(int64ToNumber('limit', '')).toBe(0);
    expect(() => int64ToNumber('revision', '9007199254740993')).toThrow(InvalidRequestError);
    expect(() => int64ToNumber('revision', '1e3')).toThrow(InvalidRequestError);
  });

  it('sends unsigned ids with every bit', () => {
    expect(uint64Out(0xffff_ffff_ffff_ffffn)).toBe('18446744073709551615');
    expect(uint64ToBigint('ID', '18446744073709551615')).toBe(0xffff_ffff_ffff_ffffn);
  });
});

describe('member ids at the wire edge: uint64 outside, NodeId inside', () => {
  it('reads a member id that is a NodeId and answers MEMBER_NOT_FOUND for one no NodeId can hold', () => {
    expect(uint64ToNodeId('ID', '9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
    expect(memberId('42')).toBe(42);
    for (const noNode of ['0', '', '9007199254740992', '18446744073709551615']) {
      expect(uint64ToNodeId('ID', noNode)).toBeUndefined();
      expect(() => memberId(noNode)).toThrow(MemberNotFoundError);
    }
    expect(() => memberId('-1')).toThrow(InvalidRequestError);
    expect(new MemberNotFoundError('18446744073709551615').message).toBe(
      'member 18446744073709551615 not found',
    );
  });

  it('refuses an alarm for a member id that is no NodeId; NONE changes nothing whatever it names', () => {
    expect(alarmCallFromPb({ action: 'Activate', memberID: '7', alarm: 'Nospace' })).toEqual({
      action: 'activate',
      memberId: 7,
      alarm: 'NOSPACE',
    });
    for (const noNode of ['0', '18446744073709551615']) {
      expect(() => alarmCallFromPb({ action: 'Deactivate', memberID: noNode, alarm: 'Nospace' })).toThrow(
        InvalidRequestError,
      );
      expect(alarmCallFromPb({ action: 'Deactivate', memberID: noNode, alarm: 'None' })).toEqual({
        action: 'none',
      });
    }
    expect(alarmMemberToPb({ memberId: 9, alarm: 'NOSPACE' })).toEqual({ memberID: '9', alarm: 'Nospace' });
  });
});

describe('KV conversion', () => {
  it('maps a range request field by field', () => {
    const request = rangeRequestFromPb(
      rangePb({
        range_end: bytes('b'),
        limit: '3',
        revision: '7',
        sort_order: 'Descend',
        sort_target: 'Mod',
      }),
    );
    expect(request).toMatchObject({
      type: 'range',
      limit: 3,
      revision: 7,
      sortOrder: 'descend',
      sortTarget: 'mod',
    });
    expect(request.rangeEnd).toEqual(bytes('b'));
    expect('rangeEnd' in rangeRequestFromPb(rangePb())).toBe(false);
  });

  it('refuses an unknown enum value', () => {
    expect(() => rangeRequestFromPb(rangePb({ sort_order: 9 }))).toThrow(InvalidRequestError);
  });

  it('reads the compare operand named by the target, zero when unset', () => {
    const base: PbCompare = { result: 'Equal', target: 'Mod', key: bytes('k'), range_end: new Uint8Array(0) };
    expect(compareFromPb({ ...base, mod_revision: '12' })).toMatchObject({ target: 'mod', number: 12 });
    expect(compareFromPb(base)).toMatchObject({ target: 'mod', number: 0 });
    expect(compareFromPb({ ...base, target: 'Value', value: bytes('v') }).value).toEqual(bytes('v'));
  });

  it('converts nested txns both ways', () => {
    const txn = txnRequestFromPb({
      compare: [],
      success: [{ request: 'request_txn', request_txn: { compare: [], success: [], failure: [] } }],
      failure: [],
    });
    expect(txn.success[0]?.type).toBe('txn');
    expect(() => txnRequestFromPb({ compare: [], success: [{}], failure: [] })).toThrow(InvalidRequestError);
    const answer = txnResponseToPb(
      {
        type: 'txn',
        header: { revision: 5 },
        succeeded: true,
        responses: [{ type: 'deleteRange', header: { revision: 5 }, deleted: 2, prevKvs: [] }],
      },
      (revision) => ({ cluster_id: '1', member_id: '2', revision, raft_term: 3 }),
    );
    expect(answer.responses[0]).toEqual({
      response_delete_range: {
        header: { cluster_id: '1', member_id: '2', revision: 5, raft_term: 3 },
        deleted: 2,
        prev_kvs: [],
      },
    });
  });
});

describe('watch conversion', () => {
  it('turns an empty key into the smallest key and keeps "\\0" as the open end', () => {
    const created = watchCreateFromPb(watchPb({ key: new Uint8Array(0), range_end: new Uint8Array([0]) }));
    expect(created.request.key).toEqual(new Uint8Array([0]));
    expect(created.request.rangeEnd).toEqual(new Uint8Array([0]));
    expect(created.watchId).toBeUndefined();
  });

  it('refuses a range whose end does not sort after its key', () => {
    expect(() => watchCreateFromPb(watchPb({ key: bytes('b'), range_end: bytes('b') }))).toThrow(
      'mvcc: watcher range is empty',
    );
  });

  it('maps filters, the requested id and the start revision', () => {
    const created = watchCreateFromPb(
      watchPb({ filters: ['Noput', 'Nodelete'], watch_id: '9', start_revision: '4' }),
    );
    expect(created.request).toMatchObject({ noPut: true, noDelete: true, startRevision: 4 });
    expect(created.watchId).toBe('9');
    expect(created.startRevision).toBe(4);
  });
});
