import { assert, BinaryReader, BinaryWriter, encodeWithScratch } from '../lib/index.js';
import { MessageDecodeError } from '../raft/index.js';

function sessionDecodeError(what: string, problem: string): MessageDecodeError {
  return new MessageDecodeError(what, problem);
}

/** A session unused for this many log entries is forgotten (deterministically, by index). */
export const SESSION_EXPIRY_ENTRIES = 100_000;
/** Sessions kept at once; past this the least recently used one is forgotten. */
export const MAX_SESSIONS = 65_536;
/** Length of a client id, in UTF-16 code units. */
export const MAX_CLIENT_ID_LENGTH = 128;
/** Largest cached result of one request. */
export const MAX_SESSION_RESULT_BYTES = 1024 * 1024;

const SESSION_SNAPSHOT_VERSION = 1;
const ENVELOPE_MAGIC = 0x53;
const ENVELOPE_VERSION = 1;

export type Admission =
  | { readonly kind: 'apply' }
  | { readonly kind: 'duplicate'; readonly result: Uint8Array | undefined }
  | { readonly kind: 'stale' };

interface Session {
  lastSequence: number;
  result: Uint8Array | undefined;
  lastUsedIndex: number;
}

/**
 * Exactly-once apply for client requests (thesis section 6.3). Each client numbers its
 * requests; the table remembers the last applied sequence and its result per client. Every
 * replica runs the same admits at the same log indexes, so expiry by index is deterministic.
 * The map is kept in order of last use, so expiry and eviction only look at its front.
 */
export class SessionTable {
  private sessions = new Map<string, Session>();
  private lastIndex = 0;

  get size(): number {
    return this.sessions.size;
  }

  /** Decides what to do with request `sequence` of `clientId` found at log index `atIndex`. */
  admit(clientId: string, sequence: number, atIndex: number): Admission {
    assert(Number.isSafeInteger(sequence) && sequence > 0, 'sequence must be a positive integer');
    this.expire(atIndex);
    const session = this.sessions.get(clientId);
    if (session === undefined) return { kind: 'apply' };
    if (sequence < session.lastSequence) return { kind: 'stale' };
    this.touch(clientId, session, atIndex);
    if (sequence === session.lastSequence) return { kind: 'duplicate', result: session.result };
    return { kind: 'apply' };
  }

  /** Remembers the result of an applied request. */
  record(clientId: string, sequence: number, result: Uint8Array | undefined): void {
    assert(clientId.length <= MAX_CLIENT_ID_LENGTH, 'client id too long');
    const kept = result !== undefined && result.byteLength <= MAX_SESSION_RESULT_BYTES ? result : undefined;
    const session = this.sessions.get(clientId);
    if (session === undefined) {
      this.sessions.set(clientId, { lastSequence: sequence, result: kept, lastUsedIndex: this.lastIndex });
      if (this.sessions.size > MAX_SESSIONS) {
        const oldest = this.sessions.keys().next().value;
        if (oldest !== undefined) this.sessions.delete(oldest);
      }
      return;
    }
    if (sequence < session.lastSequence) return;
    session.lastSequence = sequence;
    session.result = kept;
    this.touch(clientId, session, this.lastIndex);
  }

  private touch(clientId: string, session: Session, atIndex: number): void {
    session.lastUsedIndex = Math.max(session.lastUsedIndex, atIndex);
    this.sessions.delete(clientId);
    this.sessions.set(clientId, session);
  }

  private expire(atIndex: number): void {
    if (atIndex > this.lastIndex) this.lastIndex = atIndex;
    for (const [clientId, session] of this.sessions) {
      if (this.lastIndex - session.lastUsedIndex < SESSION_EXPIRY_ENTRIES) break;
      this.sessions.delete(clientId);
    }
  }

  snapshot(): Uint8Array {
    const writer = new BinaryWriter(64 + this.sessions.size * 32);
    writer.byte(SESSION_SNAPSHOT_VERSION);
    writer.varuint(this.lastIndex);
    writer.varuint(this.sessions.size);
    for (const [clientId, session] of this.sessions) {
      writer.text(clientId);
      writer.varuint(session.lastSequence);
      writer.varuint(session.lastUsedIndex);
      if (session.result === undefined) {
        writer.byte(0);
      } else {
        writer.byte(1);
        writer.bytes(session.result);
      }
    }
    return writer.finish();
  }

  /** Replaces the table with one from `snapshot()`; throws MessageDecodeError, changing nothing, on bad bytes. */
  restore(bytes: Uint8Array): void {
    this.restoreDecoded(decodeSessionSnapshot(bytes));
  }

  restoreDecoded(decoded: DecodedSessions): void {
    this.sessions = decoded.sessions;
    this.lastIndex = decoded.lastIndex;
  }
}

/** A session table read from a snapshot, not yet in use (`SessionTable.restoreDecoded`). */
export interface DecodedSessions {
  readonly sessions: Map<string, Session>;
  readonly lastIndex: number;
}

export function decodeSessionSnapshot(bytes: Uint8Array): DecodedSessions {
  const reader = new BinaryReader(bytes, 'session table', sessionDecodeError);
  if (reader.byte() !== SESSION_SNAPSHOT_VERSION) reader.fail('unsupported version');
  const lastIndex = reader.varuint();
  const count = reader.count(4, MAX_SESSIONS);
  const sessions = new Map<string, Session>();
  for (let position = 0; position < count; position++) {
    const clientId = reader.text(MAX_CLIENT_ID_LENGTH);
    const lastSequence = reader.varuint();
    const lastUsedIndex = reader.varuint();
    const result = reader.boolean() ? reader.bytesCopy(MAX_SESSION_RESULT_BYTES) : undefined;
    sessions.set(clientId, { lastSequence, result, lastUsedIndex });
  }
  reader.end();
  return { sessions, lastIndex };
}

export interface SessionEnvelope {
  readonly clientId: string;
  readonly sequence: number;
  readonly payload: Uint8Array;
}

/** Wraps a proposal with its session: magic, version, client id, sequence, then the payload. */
export function encodeSessionEnvelope(envelope: SessionEnvelope): Uint8Array {
  assert(
    envelope.clientId.length > 0 && envelope.clientId.length <= MAX_CLIENT_ID_LENGTH,
    'client id length',
  );
  assert(Number.isSafeInteger(envelope.sequence) && envelope.sequence > 0, 'sequence must be positive');
  const capacity = envelope.payload.byteLength + envelope.clientId.length * 3 + 16;
  return encodeWithScratch(BinaryWriter.scratch(capacity), (writer) => {
    writer.byte(ENVELOPE_MAGIC);
    writer.byte(ENVELOPE_VERSION);
    writer.text(envelope.clientId);
    writer.varuint(envelope.sequence);
    writer.bytes(envelope.payload);
  });
}

export function decodeSessionEnvelope(bytes: Uint8Array): SessionEnvelope {
  const reader = new BinaryReader(bytes, 'session envelope', sessionDecodeError);
  if (reader.byte() !== ENVELOPE_MAGIC) reader.fail('not a session envelope');
  if (reader.byte() !== ENVELOPE_VERSION) reader.fail('unsupported version');
  const clientId = reader.text(MAX_CLIENT_ID_LENGTH);
  if (clientId.length === 0) reader.fail('empty client id');
  const sequence = reader.varuint();
  if (sequence === 0) reader.fail('sequence 0');
  const payload = reader.bytesCopy(Number.MAX_SAFE_INTEGER);
  reader.end();
  return { clientId, sequence, payload };
}
