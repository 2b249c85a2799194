/** 64-bit integer fields: decimal strings on the wire, safe integers (or bigints for ids) inside. */
import { InvalidRequestError } from '../kv/index.js';
import { type InputProblems, type NodeId, nodeIdFromText } from '../lib/index.js';
import type { Int64In } from '../protocol/index.js';

const DECIMAL = /^-?\d+$/;

/**
 * A signed 64-bit field as a safe integer. Values beyond 2^53-1 cannot name any revision, lease
 * or count we hold, so they are refused rather than rounded.
 */
export function int64ToNumber(field: string, value: Int64In | number | undefined): number {
  if (value === undefined || value === '') return 0;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new InvalidRequestError(`${field} is not a safe integer`);
    return value;
  }
  if (!DECIMAL.test(value)) throw new InvalidRequestError(`${field} is not a decimal integer`);
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed)) {
    throw new InvalidRequestError(`${field} ${value} is beyond the largest supported value 2^53-1`);
  }
  return parsed;
}

/** An unsigned 64-bit id (cluster, member) as a bigint. */
export function uint64ToBigint(field: string, value: Int64In | number | undefined): bigint {
  if (value === undefined || value === '') return 0n;
  const text = String(value);
  if (!/^\d+$/.test(text)) throw new InvalidRequestError(`${field} is not an unsigned decimal integer`);
  return BigInt(text);
}

/**
 * An unsigned 64-bit member id from the wire as the `NodeId` MeshOS names members by, or
 * undefined when it is 0 or beyond 2^53-1 (an id from another system, or none): the caller
 * answers with its own typed error.
 */
export function uint64ToNodeId(field: string, value: Int64In | number | undefined): NodeId | undefined {
  return nodeIdFromText(uint64ToBigint(field, value).toString());
}

/** Unsigned 64-bit ids go out as decimal strings so every bit survives. */
export function uint64Out(value: bigint | number): string {
  return typeof value === 'bigint' ? BigInt.asUintN(64, value).toString() : String(value);
}

/**
 * An unsigned 64-bit field of a MeshOS service request as a safe integer; a value past 2^53-1 is
 * recorded as a problem (and answered 0) so one refusal names every problem of the request.
 */
export function safeIntegerField(
  problems: InputProblems,
  field: string,
  value: Int64In | number | undefined,
): number {
  if (value === undefined || value === '') return 0;
  const parsed = typeof value === 'number' ? value : /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (Number.isSafeInteger(parsed) && parsed >= 0) return parsed;
  problems.add(`${field} ${String(value)} is not an integer from 0 to 2^53-1`);
  return 0;
}

/** A request's `name`, recorded as a problem when empty. */
export function requiredName(problems: InputProblems, name: string): string {
  if (name === '') problems.add('name is empty');
  return name;
}
