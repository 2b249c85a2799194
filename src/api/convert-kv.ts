/** KV service messages <-> key-value state machine requests and results, field by field. */
import {
  type CompactRequest,
  type Compare,
  type CompareResult,
  type CompareTarget,
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  InvalidRequestError,
  type KeyValue,
  type PutRequest,
  type PutResponse,
  type RangeRequest,
  type RangeResponse,
  type RequestOp,
  type ResponseOp,
  type SortOrder,
  type SortTarget,
  type TxnRequest,
  type TxnResponse,
} from '../kv/index.js';
import type {
  Int64Out,
  PbCompactionRequest,
  PbCompare,
  PbDeleteRangeRequest,
  PbDeleteRangeResponse,
  PbKeyValue,
  PbPutRequest,
  PbPutResponse,
  PbRangeRequest,
  PbRangeResponse,
  PbRequestOp,
  PbResponseHeader,
  PbResponseOp,
  PbTxnRequest,
  PbTxnResponse,
} from '../protocol/index.js';
import { int64ToNumber } from './convert-numbers.js';

/** Builds the header of a response at a revision (nested txn responses get one each). */
export type HeaderAt = (revision: number) => PbResponseHeader<Int64Out>;

const SORT_ORDERS: Readonly<Record<string, SortOrder>> = {
  None: 'none',
  Ascend: 'ascend',
  Descend: 'descend',
};
const SORT_TARGETS: Readonly<Record<string, SortTarget>> = {
  Key: 'key',
  Version: 'version',
  Create: 'create',
  Mod: 'mod',
  Value: 'value',
};
const COMPARE_RESULTS: Readonly<Record<string, CompareResult>> = {
  Equal: 'equal',
  Greater: 'greater',
  Less: 'less',
  NotEqual: 'notEqual',
};
const COMPARE_TARGETS: Readonly<Record<string, CompareTarget>> = {
  Version: 'version',
  Create: 'create',
  Mod: 'mod',
  Value: 'value',
  Lease: 'lease',
};

function enumValue<T>(field: string, table: Readonly<Record<string, T>>, value: string | number): T {
  const found = typeof value === 'string' ? table[value] : undefined;
  if (found === undefined) throw new InvalidRequestError(`${field} has an unknown value ${String(value)}`);
  return found;
}

const EMPTY = new Uint8Array(0);

function bytes(value: Uint8Array | undefined): Uint8Array {
  return value ?? EMPTY;
}

export function rangeRequestFromPb(pb: PbRangeRequest): RangeRequest {
  const request: { -readonly [K in keyof RangeRequest]: RangeRequest[K] } = {
    type: 'range',
    key: bytes(pb.key),
    limit: int64ToNumber('limit', pb.limit),
    revision: int64ToNumber('revision', pb.revision),
    sortOrder: enumValue('sort_order', SORT_ORDERS, pb.sort_order),
    sortTarget: enumValue('sort_target', SORT_TARGETS, pb.sort_target),
    serializable: pb.serializable,
    keysOnly: pb.keys_only,
    countOnly: pb.count_only,
    minModRevision: int64ToNumber('min_mod_revision', pb.min_mod_revision),
    maxModRevision: int64ToNumber('max_mod_revision', pb.max_mod_revision),
    minCreateRevision: int64ToNumber('min_create_revision', pb.min_create_revision),
    maxCreateRevision: int64ToNumber('max_create_revision', pb.max_create_revision),
  };
  if (pb.range_end !== undefined && pb.range_end.length > 0) request.rangeEnd = pb.range_end;
  return request;
}

export function putRequestFromPb(pb: PbPutRequest): PutRequest {
  return {
    type: 'put',
    key: bytes(pb.key),
    value: bytes(pb.value),
    lease: int64ToNumber('lease', pb.lease),
    prevKv: pb.prev_kv,
    ignoreValue: pb.ignore_value,
    ignoreLease: pb.ignore_lease,
  };
}

export function deleteRangeRequestFromPb(pb: PbDeleteRangeRequest): DeleteRangeRequest {
  const request: { -readonly [K in keyof DeleteRangeRequest]: DeleteRangeRequest[K] } = {
    type: 'deleteRange',
    key: bytes(pb.key),
    prevKv: pb.prev_kv,
  };
  if (pb.range_end !== undefined && pb.range_end.length > 0) request.rangeEnd = pb.range_end;
  return request;
}

export function compareFromPb(pb: PbCompare): Compare {
  const target = enumValue('compare target', COMPARE_TARGETS, pb.target);
  const compare: { -readonly [K in keyof Compare]: Compare[K] } = {
    key: bytes(pb.key),
    target,
    result: enumValue('compare result', COMPARE_RESULTS, pb.result),
  };
  if (pb.range_end !== undefined && pb.range_end.length > 0) compare.rangeEnd = pb.range_end;
  // The target names which member of the operand union is read; an unset member reads as zero.
  switch (target) {
    case 'value':
      compare.value = bytes(pb.value);
      break;
    case 'version':
      compare.number = int64ToNumber('compare version', pb.version);
      break;
    case 'create':
      compare.number = int64ToNumber('compare create_revision', pb.create_revision);
      break;
    case 'mod':
      compare.number = int64ToNumber('compare mod_revision', pb.mod_revision);
      break;
    case 'lease':
      compare.number = int64ToNumber('compare lease', pb.lease);
      break;
  }
  return compare;
}

function requestOpFromPb(pb: PbRequestOp): RequestOp {
  switch (pb.request) {
    case 'request_range':
      if (pb.request_range !== undefined) return rangeRequestFromPb(pb.request_range);
      break;
    case 'request_put':
      if (pb.request_put !== undefined) return putRequestFromPb(pb.request_put);
      break;
    case 'request_delete_range':
      if (pb.request_delete_range !== undefined) return deleteRangeRequestFromPb(pb.request_delete_range);
      break;
    case 'request_txn':
      if (pb.request_txn !== undefined) return txnRequestFromPb(pb.request_txn);
      break;
  }
  throw new InvalidRequestError('a txn operation names no request');
}

export function txnRequestFromPb(pb: PbTxnRequest): TxnRequest {
  return {
    type: 'txn',
    compare: pb.compare.map(compareFromPb),
    success: pb.success.map(requestOpFromPb),
    failure: pb.failure.map(requestOpFromPb),
  };
}

export function compactRequestFromPb(pb: PbCompactionRequest): CompactRequest {
  return { type: 'compact', revision: int64ToNumber('revision', pb.revision), physical: pb.physical };
}

export function keyValueToPb(kv: KeyValue): PbKeyValue<Int64Out> {
  return {
    key: kv.key,
    create_revision: kv.createRevision,
    mod_revision: kv.modRevision,
    version: kv.version,
    value: kv.value,
    lease: kv.lease,
  };
}

export function rangeResponseToPb(response: RangeResponse, header: HeaderAt): PbRangeResponse<Int64Out> {
  return {
    header: header(response.header.revision),
    kvs: response.kvs.map(keyValueToPb),
    more: response.more,
    count: response.count,
  };
}

export function putResponseToPb(response: PutResponse, header: HeaderAt): PbPutResponse<Int64Out> {
  const pb: PbPutResponse<Int64Out> = { header: header(response.header.revision) };
  return response.prevKv === undefined ? pb : { ...pb, prev_kv: keyValueToPb(response.prevKv) };
}

export function deleteRangeResponseToPb(
  response: DeleteRangeResponse,
  header: HeaderAt,
): PbDeleteRangeResponse<Int64Out> {
  return {
    header: header(response.header.revision),
    deleted: response.deleted,
    prev_kvs: response.prevKvs.map(keyValueToPb),
  };
}

function responseOpToPb(response: ResponseOp, header: HeaderAt): PbResponseOp<Int64Out> {
  switch (response.type) {
    case 'range':
      return { response_range: rangeResponseToPb(response, header) };
    case 'put':
      return { response_put: putResponseToPb(response, header) };
    case 'deleteRange':
      return { response_delete_range: deleteRangeResponseToPb(response, header) };
    case 'txn':
      return { response_txn: txnResponseToPb(response, header) };
  }
}

export function txnResponseToPb(response: TxnResponse, header: HeaderAt): PbTxnResponse<Int64Out> {
  return {
    header: header(response.header.revision),
    succeeded: response.succeeded,
    responses: response.responses.map((child) => responseOpToPb(child, header)),
  };
}
