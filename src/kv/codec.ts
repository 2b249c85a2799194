import { BinaryReader, BinaryWriter, encodeWithScratch } from '../lib/index.js';
/**
 * Compact, deterministic binary encoding of commands and results. Layout: a format version byte,
 * a kind byte, then the kind's fields as varints, flag bytes and length-prefixed bytes. Absent
 * optional fields encode as zero / empty, so equal requests always give equal bytes.
 */
import { KvCodecError, type KvError, kvCodecError, kvErrorFromCode, numericDetails } from './errors.js';
import { MAX_TXN_DEPTH } from './limits.js';
import type {
  AlarmMember,
  AlarmRequest,
  AlarmType,
  Compare,
  CompareResult,
  CompareTarget,
  KeyValue,
  KvCommand,
  KvResult,
  PutRequest,
  RequestOp,
  ResponseOp,
  SortOrder,
  SortTarget,
  TxnRequest,
  TxnResponse,
} from './types.js';

export const KV_CODEC_VERSION = 1;

const COMMAND_KINDS = [
  'range',
  'put',
  'deleteRange',
  'txn',
  'compact',
  'leaseGrant',
  'leaseRevoke',
  'alarm',
] as const;
const RESULT_KINDS = [
  'range',
  'put',
  'deleteRange',
  'txn',
  'compact',
  'leaseGrant',
  'leaseRevoke',
  'error',
  'alarm',
] as const;
const ALARM_ACTIONS: readonly AlarmRequest['action'][] = ['activate', 'deactivate'];
const ALARM_TYPES: readonly AlarmType[] = ['NOSPACE'];
const SORT_ORDERS: readonly SortOrder[] = ['none', 'ascend', 'descend'];
const SORT_TARGETS: readonly SortTarget[] = ['key', 'version', 'create', 'mod', 'value'];
const COMPARE_TARGETS: readonly CompareTarget[] = ['value', 'version', 'create', 'mod', 'lease'];
const COMPARE_RESULTS: readonly CompareResult[] = ['equal', 'notEqual', 'less', 'greater'];
const EMPTY = new Uint8Array(0);

function flags(...bits: (boolean | undefined)[]): number {
  let value = 0;
  bits.forEach((bit, index) => {
    if (bit === true) value |= 1 << index;
  });
  return value;
}

function indexOf<T>(reader: BinaryReader, table: readonly T[], what: string): T {
  const index = reader.byte();
  const value = table[index];
  if (value === undefined) reader.fail(`unknown ${what} ${index}`);
  return value;
}

function checkFlags(reader: BinaryReader, value: number, bitCount: number): number {
  if (value >> bitCount !== 0) reader.fail(`unknown flag bits ${value}`);
  return value;
}

function writeOp(writer: BinaryWriter, op: KvCommand, depth: number): void {
  writer.byte(COMMAND_KINDS.indexOf(op.type));
  switch (op.type) {
    case 'range':
      writer
        .byte(flags(op.prefix, op.keysOnly, op.countOnly, op.serializable))
        .bytes(op.key)
        .bytes(op.rangeEnd ?? EMPTY)
        .varuint(op.limit ?? 0)
        .varuint(op.revision ?? 0)
        .byte(SORT_ORDERS.indexOf(op.sortOrder ?? 'none'))
        .byte(SORT_TARGETS.indexOf(op.sortTarget ?? 'key'))
        .varuint(op.minModRevision ?? 0)
        .varuint(op.maxModRevision ?? 0)
        .varuint(op.minCreateRevision ?? 0)
        .varuint(op.maxCreateRevision ?? 0);
      return;
    case 'put':
      writer
        .byte(flags(op.prevKv, op.ignoreValue, op.ignoreLease))
        .bytes(op.key)
        .bytes(op.value)
        .varuint(op.lease ?? 0);
      return;
    case 'deleteRange':
      writer
        .byte(flags(op.prefix, op.prevKv))
        .bytes(op.key)
        .bytes(op.rangeEnd ?? EMPTY);
      return;
    case 'txn':
      writeTxn(writer, op, depth);
      return;
    case 'compact':
      writer.byte(flags(op.physical)).varuint(op.revision);
      return;
    case 'leaseGrant':
      writer.varuint(op.id).varuint(op.ttlSeconds);
      return;
    case 'leaseRevoke':
      writer.varuint(op.id);
      return;
    case 'alarm':
      writer.byte(ALARM_ACTIONS.indexOf(op.action)).varuint(op.memberId).byte(ALARM_TYPES.indexOf(op.alarm));
      return;
  }
}

function writeTxn(writer: BinaryWriter, txn: TxnRequest, depth: number): void {
  if (depth >= MAX_TXN_DEPTH) throw new KvCodecError('command', `txn nested deeper than ${MAX_TXN_DEPTH}`);
  writer.varuint(txn.compare.length);
  for (const compare of txn.compare) {
    writer
      .byte(COMPARE_TARGETS.indexOf(compare.target))
      .byte(COMPARE_RESULTS.indexOf(compare.result))
      .bytes(compare.key)
      .bytes(compare.rangeEnd ?? EMPTY);
    if (compare.target === 'value') writer.bytes(compare.value ?? EMPTY);
    else writer.varuint(compare.number ?? 0);
  }
  for (const branch of [txn.success, txn.failure]) {
    writer.varuint(branch.length);
    for (const op of branch) writeOp(writer, op, depth + 1);
  }
}

export function encodeKvCommand(command: KvCommand): Uint8Array {
  return encodeWithScratch(BinaryWriter.scratch(), (writer) => writeKvCommand(writer, command));
}

/** Appends `command` as `encodeKvCommand` encodes it, for a caller that frames it in its own bytes. */
export function writeKvCommand(writer: BinaryWriter, command: KvCommand): void {
  writer.byte(KV_CODEC_VERSION);
  writeOp(writer, command, 0);
}

function optional(value: Uint8Array): Uint8Array | undefined {
  return value.length === 0 ? undefined : value;
}

/** Builds an object leaving out fields that are absent, as `exactOptionalPropertyTypes` wants. */
function compact<T extends object>(fields: Record<string, unknown>): T {
  const result: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined || value === false || value === 0) continue;
    result[name] = value;
  }
  return result as T;
}

function readOp(reader: BinaryReader, depth: number): KvCommand {
  const type = indexOf(reader, COMMAND_KINDS, 'command kind');
  switch (type) {
    case 'range': {
      const bits = checkFlags(reader, reader.byte(), 4);
      const key = reader.bytes();
      const rangeEnd = optional(reader.bytes());
      const limit = reader.varuint();
      const revision = reader.varuint();
      const sortOrder = indexOf(reader, SORT_ORDERS, 'sort order');
      const sortTarget = indexOf(reader, SORT_TARGETS, 'sort target');
      return compact({
        type,
        key,
        rangeEnd,
        prefix: (bits & 1) !== 0,
        keysOnly: (bits & 2) !== 0,
        countOnly: (bits & 4) !== 0,
        serializable: (bits & 8) !== 0,
        limit,
        revision,
        sortOrder: sortOrder === 'none' ? undefined : sortOrder,
        sortTarget: sortTarget === 'key' ? undefined : sortTarget,
        minModRevision: reader.varuint(),
        maxModRevision: reader.varuint(),
        minCreateRevision: reader.varuint(),
        maxCreateRevision: reader.varuint(),
      });
    }
    case 'put': {
      // The hot path: built field by field rather than through `compact`.
      const bits = checkFlags(reader, reader.byte(), 3);
      const key = reader.bytes();
      const value = reader.bytes();
      const lease = reader.varuint();
      const put: { -readonly [name in keyof PutRequest]: PutRequest[name] } = { type, key, value };
      if (lease !== 0) put.lease = lease;
      if ((bits & 1) !== 0) put.prevKv = true;
      if ((bits & 2) !== 0) put.ignoreValue = true;
      if ((bits & 4) !== 0) put.ignoreLease = true;
      return put;
    }
    case 'deleteRange': {
      const bits = checkFlags(reader, reader.byte(), 2);
      return compact({
        type,
        key: reader.bytes(),
        rangeEnd: optional(reader.bytes()),
        prefix: (bits & 1) !== 0,
        prevKv: (bits & 2) !== 0,
      });
    }
    case 'txn':
      return readTxn(reader, depth);
    case 'compact': {
      const bits = checkFlags(reader, reader.byte(), 1);
      return { ...compact({ type, physical: (bits & 1) !== 0 }), revision: reader.varuint() } as KvCommand;
    }
    case 'leaseGrant':
      return { type, id: reader.varuint(), ttlSeconds: reader.varuint() };
    case 'leaseRevoke':
      return { type, id: reader.varuint() };
    case 'alarm': {
      const action = indexOf(reader, ALARM_ACTIONS, 'alarm action');
      const memberId = reader.varuint();
      return { type, action, memberId, alarm: indexOf(reader, ALARM_TYPES, 'alarm type') };
    }
  }
}

function readTxn(reader: BinaryReader, depth: number): TxnRequest {
  if (depth >= MAX_TXN_DEPTH) reader.fail(`txn nested deeper than ${MAX_TXN_DEPTH}`);
  const compareCount = reader.count(4);
  const compares: Compare[] = [];
  for (let index = 0; index < compareCount; index++) {
    const target = indexOf(reader, COMPARE_TARGETS, 'compare target');
    const result = indexOf(reader, COMPARE_RESULTS, 'compare result');
    const key = reader.bytes();
    const rangeEnd = optional(reader.bytes());
    const operand = target === 'value' ? { value: reader.bytes() } : { number: reader.varuint() };
    compares.push({ target, result, key, ...(rangeEnd === undefined ? {} : { rangeEnd }), ...operand });
  }
  const branches: RequestOp[][] = [];
  for (let branch = 0; branch < 2; branch++) {
    const count = reader.count(2);
    const ops: RequestOp[] = [];
    for (let index = 0; index < count; index++) {
      const op = readOp(reader, depth + 1);
      if (
        op.type === 'compact' ||
        op.type === 'leaseGrant' ||
        op.type === 'leaseRevoke' ||
        op.type === 'alarm'
      ) {
        reader.fail(`${op.type} is not allowed inside a txn`);
      }
      ops.push(op);
    }
    branches.push(ops);
  }
  return { type: 'txn', compare: compares, success: branches[0] ?? [], failure: branches[1] ?? [] };
}

/** Decodes a command; any malformed input gives a `KvCodecError`, never another exception. */
export function decodeKvCommand(bytes: Uint8Array): KvCommand {
  const reader = new BinaryReader(bytes, 'command', kvCodecError);
  const version = reader.byte();
  if (version !== KV_CODEC_VERSION) reader.fail(`unsupported format version ${version}`);
  const command = readOp(reader, 0);
  reader.end();
  return command;
}

function writeKeyValue(writer: BinaryWriter, kv: KeyValue): void {
  writer
    .bytes(kv.key)
    .bytes(kv.value)
    .varuint(kv.createRevision)
    .varuint(kv.modRevision)
    .varuint(kv.version)
    .varuint(kv.lease);
}

function readKeyValue(reader: BinaryReader): KeyValue {
  return {
    key: reader.bytes(),
    value: reader.bytes(),
    createRevision: reader.varuint(),
    modRevision: reader.varuint(),
    version: reader.varuint(),
    lease: reader.varuint(),
  };
}

function writeResult(writer: BinaryWriter, result: KvResult, depth: number): void {
  writer.byte(RESULT_KINDS.indexOf(result.type)).varuint(result.header.revision);
  switch (result.type) {
    case 'range':
      writer.byte(flags(result.more)).varuint(result.count).varuint(result.kvs.length);
      for (const kv of result.kvs) writeKeyValue(writer, kv);
      return;
    case 'put':
      writer.byte(flags(result.prevKv !== undefined));
      if (result.prevKv !== undefined) writeKeyValue(writer, result.prevKv);
      return;
    case 'deleteRange':
      writer.varuint(result.deleted).varuint(result.prevKvs.length);
      for (const kv of result.prevKvs) writeKeyValue(writer, kv);
      return;
    case 'txn':
      if (depth >= MAX_TXN_DEPTH) throw new KvCodecError('result', `txn nested deeper than ${MAX_TXN_DEPTH}`);
      writer.byte(flags(result.succeeded)).varuint(result.responses.length);
      for (const response of result.responses) writeResult(writer, response, depth + 1);
      return;
    case 'compact':
    case 'leaseRevoke':
      return;
    case 'leaseGrant':
      writer.varuint(result.id).varuint(result.ttlSeconds);
      return;
    case 'alarm':
      writer.varuint(result.alarms.length);
      for (const member of result.alarms)
        writer.varuint(member.memberId).byte(ALARM_TYPES.indexOf(member.alarm));
      return;
    case 'error': {
      writer.text(result.error.code).text(result.error.message);
      const details = Object.entries(numericDetails(result.error)).sort(([left], [right]) =>
        left < right ? -1 : left > right ? 1 : 0,
      );
      writer.varuint(details.length);
      for (const [name, value] of details) writer.text(name).varuint(value);
      return;
    }
  }
}

export function encodeKvResult(result: KvResult): Uint8Array {
  return encodeWithScratch(BinaryWriter.scratch(), (writer) => writeKvResult(writer, result));
}

/** Appends `result` as `encodeKvResult` encodes it, for a caller that chooses where the bytes go. */
export function writeKvResult(writer: BinaryWriter, result: KvResult): void {
  writer.byte(KV_CODEC_VERSION);
  writeResult(writer, result, 0);
}

function readResult(reader: BinaryReader, depth: number): KvResult {
  const type = indexOf(reader, RESULT_KINDS, 'result kind');
  const header = { revision: reader.varuint() };
  switch (type) {
    case 'range': {
      const more = (checkFlags(reader, reader.byte(), 1) & 1) !== 0;
      const count = reader.varuint();
      const length = reader.count(6);
      const kvs: KeyValue[] = [];
      for (let index = 0; index < length; index++) kvs.push(readKeyValue(reader));
      return { type, header, kvs, more, count };
    }
    case 'put': {
      const hasPrevious = (checkFlags(reader, reader.byte(), 1) & 1) !== 0;
      return hasPrevious ? { type, header, prevKv: readKeyValue(reader) } : { type, header };
    }
    case 'deleteRange': {
      const deleted = reader.varuint();
      const length = reader.count(6);
      const prevKvs: KeyValue[] = [];
      for (let index = 0; index < length; index++) prevKvs.push(readKeyValue(reader));
      return { type, header, deleted, prevKvs };
    }
    case 'txn': {
      if (depth >= MAX_TXN_DEPTH) reader.fail(`txn nested deeper than ${MAX_TXN_DEPTH}`);
      const succeeded = (checkFlags(reader, reader.byte(), 1) & 1) !== 0;
      const length = reader.count(2);
      const responses: ResponseOp[] = [];
      for (let index = 0; index < length; index++) {
        const response = readResult(reader, depth + 1);
        if (response.type !== 'range' && response.type !== 'put' && response.type !== 'deleteRange') {
          if (response.type !== 'txn') reader.fail(`${response.type} result inside a txn`);
        }
        responses.push(response as ResponseOp);
      }
      const txn: TxnResponse = { type, header, succeeded, responses };
      return txn;
    }
    case 'compact':
    case 'leaseRevoke':
      return { type, header };
    case 'leaseGrant':
      return { type, header, id: reader.varuint(), ttlSeconds: reader.varuint() };
    case 'alarm': {
      const length = reader.count(2);
      const alarms: AlarmMember[] = [];
      for (let index = 0; index < length; index++)
        alarms.push({ memberId: reader.varuint(), alarm: indexOf(reader, ALARM_TYPES, 'alarm type') });
      return { type, header, alarms };
    }
    case 'error': {
      const code = reader.text();
      const message = reader.text();
      const count = reader.count(2);
      const details: Record<string, number> = {};
      for (let index = 0; index < count; index++) details[reader.text()] = reader.varuint();
      const error: KvError = kvErrorFromCode(code, details, message);
      return { type, header, error };
    }
  }
}

export function decodeKvResult(bytes: Uint8Array): KvResult {
  const reader = new BinaryReader(bytes, 'result', kvCodecError);
  const version = reader.byte();
  if (version !== KV_CODEC_VERSION) reader.fail(`unsupported format version ${version}`);
  const result = readResult(reader, 0);
  reader.end();
  return result;
}
