/**
 * Checks a command against the request limits before it touches the store. The same checks run in
 * `apply` (so every replica rejects the same commands) and may run on the server before proposing.
 */
import { isNodeId } from '../lib/index.js';
import { bytesToBinary, prefixRangeEnd } from './bytes.js';
import {
  DuplicateKeyError,
  EmptyKeyError,
  InvalidRangeError,
  InvalidRequestError,
  LeaseTtlTooLargeError,
  TooManyOperationsError,
} from './errors.js';
import { MAX_LEASE_TTL_SECONDS, MAX_TXN_DEPTH, MAX_TXN_OPERATIONS } from './limits.js';
import type { KvCommand, RequestOp, TxnRequest } from './types.js';

/** A resolved key range: [start, end), `end` null for no upper bound, `single` for one key. */
export interface KeyRange {
  readonly start: string;
  readonly end: string | null;
  readonly single: boolean;
}

/** Resolves key / rangeEnd / prefix as etcd does; throws the typed error for a bad range. */
export function resolveRange(
  key: Uint8Array,
  rangeEnd: Uint8Array | undefined,
  prefix: boolean | undefined,
): KeyRange {
  if (prefix === true && rangeEnd !== undefined) {
    throw new InvalidRequestError('prefix and rangeEnd are both given');
  }
  if (prefix === true) {
    if (key.length === 0) return { start: '', end: null, single: false };
    const end = prefixRangeEnd(key);
    return { start: bytesToBinary(key), end: isAllKeys(end) ? null : bytesToBinary(end), single: false };
  }
  if (key.length === 0) throw new EmptyKeyError();
  const start = bytesToBinary(key);
  if (rangeEnd === undefined || rangeEnd.length === 0) return { start, end: start, single: true };
  if (isAllKeys(rangeEnd)) return { start, end: null, single: false };
  const end = bytesToBinary(rangeEnd);
  if (end < start) throw new InvalidRangeError();
  return { start, end, single: false };
}

function isAllKeys(rangeEnd: Uint8Array): boolean {
  return rangeEnd.length === 1 && rangeEnd[0] === 0;
}

export function rangeContains(range: KeyRange, key: string): boolean {
  if (range.single) return key === range.start;
  return key >= range.start && (range.end === null || key < range.end);
}

function checkNumber(name: string, value: number | undefined): void {
  if (value === undefined) return;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidRequestError(`${name} must be a non-negative safe integer, got ${value}`);
  }
}

/** Throws the first typed error the command has; returns normally if it is well formed. */
export function validateKvCommand(command: KvCommand): void {
  switch (command.type) {
    case 'compact':
      checkNumber('revision', command.revision);
      return;
    case 'leaseGrant':
      checkNumber('id', command.id);
      checkNumber('ttlSeconds', command.ttlSeconds);
      if (command.ttlSeconds > MAX_LEASE_TTL_SECONDS) throw new LeaseTtlTooLargeError(MAX_LEASE_TTL_SECONDS);
      return;
    case 'leaseRevoke':
      checkNumber('id', command.id);
      return;
    case 'alarm':
      if (!isNodeId(command.memberId)) {
        throw new InvalidRequestError(
          `memberId must be a node id (a positive safe integer), got ${command.memberId}`,
        );
      }
      return;
    default:
      validateOp(command, MAX_TXN_OPERATIONS, 0);
      if (command.type === 'txn') {
        collectWrites(command.success);
        collectWrites(command.failure);
      }
  }
}

function validateOp(op: RequestOp, operationBudget: number, depth: number): void {
  switch (op.type) {
    case 'range':
      resolveRange(op.key, op.rangeEnd, op.prefix);
      for (const name of [
        'limit',
        'revision',
        'minModRevision',
        'maxModRevision',
        'minCreateRevision',
        'maxCreateRevision',
      ] as const) {
        checkNumber(name, op[name]);
      }
      return;
    case 'put':
      if (op.key.length === 0) throw new EmptyKeyError();
      checkNumber('lease', op.lease);
      if (op.ignoreValue === true && op.value.length > 0) throw new InvalidRequestError('value is provided');
      if (op.ignoreLease === true && (op.lease ?? 0) !== 0)
        throw new InvalidRequestError('lease is provided');
      return;
    case 'deleteRange':
      resolveRange(op.key, op.rangeEnd, op.prefix);
      return;
    case 'txn':
      validateTxn(op, operationBudget, depth);
      return;
  }
}

function validateTxn(txn: TxnRequest, operationBudget: number, depth: number): void {
  if (depth >= MAX_TXN_DEPTH) throw new InvalidRequestError(`txn nested deeper than ${MAX_TXN_DEPTH}`);
  const operations = Math.max(txn.compare.length, txn.success.length, txn.failure.length);
  if (operations > operationBudget) throw new TooManyOperationsError(MAX_TXN_OPERATIONS);
  for (const compare of txn.compare) {
    if (compare.key.length === 0) throw new EmptyKeyError();
    resolveRange(compare.key, compare.rangeEnd, undefined);
    if (compare.target !== 'value') checkNumber(compare.target, compare.number);
  }
  for (const op of [...txn.success, ...txn.failure]) validateOp(op, operationBudget - operations, depth + 1);
}

interface Writes {
  readonly puts: Set<string>;
  readonly deletes: KeyRange[];
}

function deletedByAny(deletes: readonly KeyRange[], key: string): boolean {
  return deletes.some((range) => rangeContains(range, key));
}

/**
 * The keys one branch writes; throws `DuplicateKeyError` when a key is put twice or put inside a
 * range the same branch deletes. Only one branch of a nested txn runs, so its two branches may
 * write the same key, but neither may collide with the enclosing branch.
 */
function collectWrites(ops: readonly RequestOp[]): Writes {
  const puts = new Set<string>();
  const deletes: KeyRange[] = [];
  for (const op of ops) {
    if (op.type === 'put') {
      const key = bytesToBinary(op.key);
      if (puts.has(key)) throw new DuplicateKeyError();
      puts.add(key);
    } else if (op.type === 'deleteRange') {
      deletes.push(resolveRange(op.key, op.rangeEnd, op.prefix));
    }
  }
  for (const key of puts) if (deletedByAny(deletes, key)) throw new DuplicateKeyError();
  for (const op of ops) {
    if (op.type !== 'txn') continue;
    const branches = [collectWrites(op.success), collectWrites(op.failure)];
    for (const branch of branches) {
      for (const key of branch.puts)
        if (puts.has(key) || deletedByAny(deletes, key)) throw new DuplicateKeyError();
      for (const key of puts) if (deletedByAny(branch.deletes, key)) throw new DuplicateKeyError();
    }
    for (const branch of branches) {
      for (const key of branch.puts) puts.add(key);
      deletes.push(...branch.deletes);
    }
  }
  return { puts, deletes };
}
