/** Client shapes <-> etcd protobuf messages, field by field. */

import type {
  PbDeleteRangeResponse,
  PbKeyValue,
  PbMember,
  PbPutResponse,
  PbRangeResponse,
  PbResponseHeader,
  PbResponseOp,
  PbStatusResponse,
  PbTxnResponse,
} from '../protocol/index.js';
import { ALL_KEYS_RANGE_END, bytesToText, EMPTY_BYTES, rangeEndFor, toBytes } from './bytes.js';
import type {
  Bytes,
  CompareOperator,
  CompareTarget,
  DeleteOptions,
  DeleteResult,
  EndpointStatus,
  KeyValue,
  Member,
  PutOptions,
  PutResult,
  RangeOptions,
  RangeResult,
  ResponseHeader,
  SortOrder,
  SortTarget,
  TxnCompare,
  TxnOp,
  TxnOpResult,
  TxnResult,
} from './types.js';

/** A decimal 64-bit field as a number (revisions, counts, lease ids all fit a safe integer). */
export function toNumber(value: string | number | undefined | null): number {
  if (value === undefined || value === null || value === '') return 0;
  return Number(value);
}

/** An unsigned 64-bit id (cluster, member) as a bigint, exact. */
function toId(value: string | number | undefined | null): bigint {
  if (value === undefined || value === null || value === '') return 0n;
  return BigInt.asUintN(64, BigInt(value));
}

/**
 * The `range_end` field of a request, left out for a single key. etcd 3.4 reads a range end
 * that is present but empty as "every key from `key` on", so an empty one must not be sent.
 */
export function rangeEndField(rangeEnd: Uint8Array): { range_end?: Uint8Array } {
  return rangeEnd.length === 0 ? {} : { range_end: rangeEnd };
}

/** A single key, or with `prefix` every key under it; the empty prefix is every key ("\0" .. "\0"). */
function keyAndRangeEnd(
  key: Bytes,
  options: { prefix?: boolean; rangeEnd?: Bytes },
): [Uint8Array, Uint8Array] {
  const start = toBytes(key);
  if (options.prefix === true && start.length === 0) return [ALL_KEYS_RANGE_END, ALL_KEYS_RANGE_END];
  return [start, rangeEndFor(start, options)];
}

const SORT_ORDERS: Readonly<Record<SortOrder, string>> = {
  none: 'None',
  ascend: 'Ascend',
  descend: 'Descend',
};
const SORT_TARGETS: Readonly<Record<SortTarget, string>> = {
  key: 'Key',
  version: 'Version',
  create: 'Create',
  mod: 'Mod',
  value: 'Value',
};

export function rangeRequestToPb(key: Bytes, options: RangeOptions = {}): Record<string, unknown> {
  const [start, rangeEnd] = keyAndRangeEnd(key, options);
  return {
    key: start,
    ...rangeEndField(rangeEnd),
    limit: options.limit ?? 0,
    revision: options.revision ?? 0,
    sort_order: SORT_ORDERS[options.sortOrder ?? 'none'],
    sort_target: SORT_TARGETS[options.sortTarget ?? 'key'],
    serializable: options.serializable ?? false,
    keys_only: options.keysOnly ?? false,
    count_only: options.countOnly ?? false,
  };
}

export function putRequestToPb(key: Bytes, value: Bytes, options: PutOptions = {}): Record<string, unknown> {
  return {
    key: toBytes(key),
    value: toBytes(value),
    lease: options.lease ?? 0,
    prev_kv: options.prevKv ?? false,
  };
}

export function deleteRequestToPb(key: Bytes, options: DeleteOptions = {}): Record<string, unknown> {
  const [start, rangeEnd] = keyAndRangeEnd(key, options);
  return { key: start, ...rangeEndField(rangeEnd), prev_kv: options.prevKv ?? false };
}

const COMPARE_RESULTS: Readonly<Record<CompareOperator, string>> = {
  '=': 'Equal',
  '!=': 'NotEqual',
  '<': 'Less',
  '>': 'Greater',
};
const COMPARE_TARGETS: Readonly<Record<CompareTarget, string>> = {
  value: 'Value',
  version: 'Version',
  create: 'Create',
  mod: 'Mod',
  lease: 'Lease',
};
/** The oneof member that carries the operand of each target. */
const COMPARE_FIELDS: Readonly<Record<CompareTarget, string>> = {
  value: 'value',
  version: 'version',
  create: 'create_revision',
  mod: 'mod_revision',
  lease: 'lease',
};

export function compareToPb(compare: TxnCompare): Record<string, unknown> {
  const given = compare.operand;
  const operand =
    compare.target === 'value'
      ? toBytes(typeof given === 'number' ? String(given) : given)
      : typeof given === 'number'
        ? given
        : Number(bytesToText(toBytes(given)));
  return {
    result: COMPARE_RESULTS[compare.operator],
    target: COMPARE_TARGETS[compare.target],
    key: toBytes(compare.key),
    ...rangeEndField(compare.rangeEnd === undefined ? EMPTY_BYTES : toBytes(compare.rangeEnd)),
    [COMPARE_FIELDS[compare.target]]: operand,
  };
}

export function requestOpToPb(op: TxnOp): Record<string, unknown> {
  switch (op.type) {
    case 'range':
      return { request_range: rangeRequestToPb(op.key, op.options) };
    case 'put':
      return { request_put: putRequestToPb(op.key, op.value, op.options) };
    case 'delete':
      return { request_delete_range: deleteRequestToPb(op.key, op.options) };
  }
}

export function headerFromPb(pb: PbResponseHeader | undefined | null): ResponseHeader {
  return {
    clusterId: toId(pb?.cluster_id),
    memberId: toId(pb?.member_id),
    revision: toNumber(pb?.revision),
    raftTerm: toNumber(pb?.raft_term),
  };
}

export function keyValueFromPb(pb: PbKeyValue): KeyValue {
  return {
    key: pb.key,
    value: pb.value,
    createRevision: toNumber(pb.create_revision),
    modRevision: toNumber(pb.mod_revision),
    version: toNumber(pb.version),
    lease: toNumber(pb.lease),
  };
}

export function rangeResultFromPb(pb: PbRangeResponse): RangeResult {
  return {
    header: headerFromPb(pb.header),
    kvs: pb.kvs.map(keyValueFromPb),
    more: pb.more,
    count: toNumber(pb.count),
  };
}

export function putResultFromPb(pb: PbPutResponse): PutResult {
  return {
    header: headerFromPb(pb.header),
    prevKv: pb.prev_kv === undefined || pb.prev_kv === null ? undefined : keyValueFromPb(pb.prev_kv),
  };
}

export function deleteResultFromPb(pb: PbDeleteRangeResponse): DeleteResult {
  return {
    header: headerFromPb(pb.header),
    deleted: toNumber(pb.deleted),
    prevKvs: pb.prev_kvs.map(keyValueFromPb),
  };
}

function opResultFromPb(pb: PbResponseOp): TxnOpResult {
  if (pb.response_range) return { type: 'range', ...rangeResultFromPb(pb.response_range) };
  if (pb.response_put) return { type: 'put', ...putResultFromPb(pb.response_put) };
  if (pb.response_delete_range) return { type: 'delete', ...deleteResultFromPb(pb.response_delete_range) };
  if (pb.response_txn) return { type: 'txn', ...txnResultFromPb(pb.response_txn) };
  throw new Error('txn response names no result');
}

export function txnResultFromPb(pb: PbTxnResponse): TxnResult {
  return {
    header: headerFromPb(pb.header),
    succeeded: pb.succeeded,
    responses: pb.responses.map(opResultFromPb),
  };
}

export function memberFromPb(pb: PbMember): Member {
  return {
    id: toId(pb.ID),
    name: pb.name,
    peerUrls: [...pb.peerURLs],
    clientUrls: [...pb.clientURLs],
    isLearner: pb.isLearner,
  };
}

export function statusFromPb(endpoint: string, pb: PbStatusResponse): EndpointStatus {
  const header = headerFromPb(pb.header);
  return {
    endpoint,
    header,
    memberId: header.memberId,
    leaderId: toId(pb.leader),
    version: pb.version,
    dbSizeBytes: toNumber(pb.dbSize),
    raftIndex: toNumber(pb.raftIndex),
    raftTerm: toNumber(pb.raftTerm),
    raftAppliedIndex: toNumber(pb.raftAppliedIndex),
    revision: header.revision,
    isLearner: pb.isLearner,
    errors: [...pb.errors],
  };
}
