/**
 * One record of the audit chain and how it is sealed: each record names the hash of the record
 * before it (`prev`) and carries its own hash, SHA-256 over a canonical encoding of every other
 * field (JSON with keys sorted, no spaces), so a changed, missing or reordered record breaks a
 * link that `verify` finds. The head (last seq and hash) and the anchor (the last trimmed
 * record's seq and hash) are stored beside the records.
 */
import { createHash } from 'node:crypto';
import { ControlRecordDecodeError, readRecord } from '../control/index.js';
import { assert, isNodeId, isRecord, type NodeId } from '../lib/index.js';
import { ACTION_KINDS, type ActionId, type ActionKind, type WireActionRecord } from '../reconcile/index.js';

/** The record layout's version, hashed with the record. */
export const AUDIT_RECORD_VERSION = 1;

/** `prev` of the chain's first record: nothing came before it. */
export const AUDIT_GENESIS_HASH = '0'.repeat(64);

const HASH_PATTERN = /^[0-9a-f]{64}$/;

/** Executor events (src/reconcile ExecutorEvent) as they are recorded. */
export const AUDIT_ACTION_EVENTS = [
  'queued',
  'duplicate',
  'refused',
  'deferred',
  'gated',
  'dispatched',
  'completed',
  'failed',
] as const;

export type AuditActionEvent = (typeof AUDIT_ACTION_EVENTS)[number];

const EVENTS_WITH_REASON: readonly AuditActionEvent[] = ['deferred', 'gated', 'failed'];

export type AuditEntry =
  /** A reconciler took the seat and continues the chain from here. */
  | { readonly type: 'term' }
  /** Reconcile emitted an action (its wall-clock form). */
  | { readonly type: 'emitted'; readonly action: WireActionRecord }
  | { readonly type: 'queued' | 'duplicate' | 'refused' | 'dispatched' | 'completed'; readonly id: ActionId }
  | { readonly type: 'deferred' | 'gated' | 'failed'; readonly id: ActionId; readonly reason: string }
  /** The recorder's buffer was full: `dropped` entries between these times were not recorded. */
  | {
      readonly type: 'gap';
      readonly dropped: number;
      readonly firstDroppedAtWallMs: number;
      readonly lastDroppedAtWallMs: number;
    };

export type AuditEntryType = AuditEntry['type'];

/** Who appends: the reconciler holding the seat, in one term of it. */
export interface AuditWriter {
  readonly node: NodeId;
  readonly leaseId: number;
  /** Grows with every term (the seat key's create revision), so a stale writer shows. */
  readonly epoch: number;
}

export interface AuditRecord extends AuditWriter {
  readonly v: typeof AUDIT_RECORD_VERSION;
  /** 1, 2, 3, ... with no gap while records are kept. */
  readonly seq: number;
  /** The hash of record `seq - 1` (AUDIT_GENESIS_HASH for seq 1). */
  readonly prev: string;
  readonly atWallMs: number;
  readonly entry: AuditEntry;
  /** SHA-256 (hex) of the canonical encoding of every other field. */
  readonly hash: string;
}

/** The last record appended: writers link to it and move it with a compare-and-swap. */
export interface AuditHead extends AuditWriter {
  readonly seq: number;
  readonly hash: string;
}

/** The last trimmed record: the first kept record links to it. */
export interface AuditAnchor {
  readonly seq: number;
  readonly hash: string;
}

/** Where an empty chain starts. */
export const AUDIT_EMPTY_ANCHOR: AuditAnchor = { seq: 0, hash: AUDIT_GENESIS_HASH };

/** JSON with object keys sorted and no spaces: one text per value, whatever order it was built in. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    assert(Number.isFinite(value), `a canonical number must be finite, got ${value}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  assert(isRecord(value), `a canonical value is JSON, got ${typeof value}`);
  const fields = Object.keys(value)
    .filter((key) => value[key] !== undefined)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`);
  return `{${fields.join(',')}}`;
}

/** The hash a record must carry: over everything but its `hash` field. */
export function auditRecordHash(record: Omit<AuditRecord, 'hash'> | AuditRecord): string {
  const { hash: _ignored, ...body } = record as AuditRecord;
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

/** A record with its hash filled in. */
export function sealAuditRecord(fields: Omit<AuditRecord, 'hash' | 'v'>): AuditRecord {
  const body = { v: AUDIT_RECORD_VERSION, ...fields } as const;
  return { ...body, hash: auditRecordHash(body) };
}

function checkHash(field: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || !HASH_PATTERN.test(value))
    throw new Error(`${field} must be 64 lowercase hex digits`);
}

function checkCount(field: string, value: unknown, min: number): asserts value is number {
  if (!Number.isSafeInteger(value) || (value as number) < min)
    throw new Error(`${field} must be an integer >= ${min}`);
}

function checkTime(field: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new Error(`${field} must be a finite number`);
}

function readWriter(value: Readonly<Record<string, unknown>>): AuditWriter {
  if (!isNodeId(value.node)) throw new Error('node must be a node id');
  checkCount('leaseId', value.leaseId, 0);
  checkCount('epoch', value.epoch, 0);
  return { node: value.node, leaseId: value.leaseId, epoch: value.epoch };
}

function readWireAction(value: unknown): WireActionRecord {
  if (!isRecord(value)) throw new Error('entry.action must be an object');
  checkCount('entry.action.id', value.id, 1);
  if (!isNodeId(value.emittedBy)) throw new Error('entry.action.emittedBy must be a node id');
  checkTime('entry.action.emittedAtWallMs', value.emittedAtWallMs);
  const action = value.action;
  if (!isRecord(action) || !ACTION_KINDS.includes(action.kind as ActionKind))
    throw new Error('entry.action.action must be an action with a known kind');
  return value as unknown as WireActionRecord;
}

function readEntry(value: unknown): AuditEntry {
  if (!isRecord(value) || typeof value.type !== 'string')
    throw new Error('entry must be an object with a type');
  const type = value.type;
  if (type === 'term') return { type };
  if (type === 'emitted') return { type, action: readWireAction(value.action) };
  if (type === 'gap') {
    checkCount('entry.dropped', value.dropped, 1);
    checkTime('entry.firstDroppedAtWallMs', value.firstDroppedAtWallMs);
    checkTime('entry.lastDroppedAtWallMs', value.lastDroppedAtWallMs);
    return {
      type,
      dropped: value.dropped,
      firstDroppedAtWallMs: value.firstDroppedAtWallMs,
      lastDroppedAtWallMs: value.lastDroppedAtWallMs,
    };
  }
  const event = AUDIT_ACTION_EVENTS.find((name) => name === type);
  if (event === undefined) throw new Error(`entry.type '${type}' is not an audit entry`);
  checkCount('entry.id', value.id, 1);
  if (!EVENTS_WITH_REASON.includes(event)) return { type: event, id: value.id } as AuditEntry;
  if (typeof value.reason !== 'string') throw new Error('entry.reason must be a string');
  return { type: event, id: value.id, reason: value.reason } as AuditEntry;
}

function readAuditRecord(value: unknown): AuditRecord {
  if (!isRecord(value)) throw new Error('an audit record must be an object');
  if (value.v !== AUDIT_RECORD_VERSION) throw new Error(`v must be ${AUDIT_RECORD_VERSION}`);
  checkCount('seq', value.seq, 1);
  checkHash('prev', value.prev);
  checkHash('hash', value.hash);
  checkTime('atWallMs', value.atWallMs);
  return {
    v: AUDIT_RECORD_VERSION,
    seq: value.seq,
    prev: value.prev,
    atWallMs: value.atWallMs,
    ...readWriter(value),
    entry: readEntry(value.entry),
    hash: value.hash,
  };
}

/**
 * A stored record, checked for shape (not for its hash: that is `verify`'s job). Fields the
 * layout does not have are refused, so an added field cannot hide from the hash.
 */
export function decodeAuditRecord(key: string, bytes: Uint8Array): AuditRecord {
  return readRecord(key, bytes, (value) => {
    const record = readAuditRecord(value);
    if (canonicalJson(value) !== canonicalJson(record))
      throw new Error('the record holds fields it should not');
    return record;
  });
}

export function decodeAuditHead(key: string, bytes: Uint8Array): AuditHead {
  return readRecord(key, bytes, (value) => {
    if (!isRecord(value)) throw new Error('the audit head must be an object');
    checkCount('seq', value.seq, 0);
    checkHash('hash', value.hash);
    return { seq: value.seq, hash: value.hash, ...readWriter(value) };
  });
}

export function decodeAuditAnchor(key: string, bytes: Uint8Array): AuditAnchor {
  return readRecord(key, bytes, (value) => {
    if (!isRecord(value)) throw new Error('the audit anchor must be an object');
    checkCount('seq', value.seq, 0);
    checkHash('hash', value.hash);
    return { seq: value.seq, hash: value.hash };
  });
}

/** What `read` decodes, or undefined when the stored bytes are not the record (CONTROL_RECORD_DECODE). */
export function decodedOrUndefined<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    if (error instanceof ControlRecordDecodeError) return undefined;
    throw error;
  }
}

/** The action an entry is about, if any. */
export function actionIdOf(entry: AuditEntry): ActionId | undefined {
  if (entry.type === 'emitted') return entry.action.id;
  return 'id' in entry ? entry.id : undefined;
}
