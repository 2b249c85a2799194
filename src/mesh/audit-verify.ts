/**
 * Verifies the audit chain as stored: fed every key under `audit/` in key order (as one listing
 * at one revision), it recomputes each record's hash and checks each link, from the anchor (the
 * last trimmed record) to the head, and reports the first record that was changed, is missing,
 * was moved, or does not link to the one before it. Pure: the reader does the IO.
 */
import { auditSequenceOfKey, ControlRecordDecodeError } from '../control/index.js';
import {
  AUDIT_EMPTY_ANCHOR,
  type AuditAnchor,
  type AuditHead,
  auditRecordHash,
  decodeAuditRecord,
} from './audit-record.js';

export type AuditProblemKind =
  /** A key under `audit/` that is no record key, or a record below the anchor (trimmed already). */
  | 'stray-key'
  /** The stored value is not an audit record. */
  | 'undecodable'
  /** The record's content does not hash to the hash it carries. */
  | 'changed'
  /** An intact record at another record's place. */
  | 'reordered'
  /** No record at a seq between the anchor and the head. */
  | 'missing'
  /** The record does not name the hash of the record before it (or of the anchor). */
  | 'broken-link'
  /** The record's writer epoch is older than the record before it: a stale writer appended. */
  | 'epoch-regressed'
  /** The head key is missing, or names another last record than the one stored. */
  | 'head-mismatch'
  /**
   * The record at a seq the caller saved a hash of has another hash: the chain was rewritten from
   * there (every record after it and the head included, or a link would have broken).
   */
  | 'rewritten';

/** A record's hash saved elsewhere (say, the head hash an earlier verify printed), to compare. */
export interface AuditExpectation {
  readonly seq: number;
  readonly hash: string;
}

export interface AuditProblem {
  readonly kind: AuditProblemKind;
  /** The first seq found wrong. */
  readonly seq: number;
  readonly message: string;
}

/** Entries the recorder could not keep (its buffer was full), as a gap record says. */
export interface AuditGap {
  readonly seq: number;
  readonly dropped: number;
  readonly firstDroppedAtWallMs: number;
  readonly lastDroppedAtWallMs: number;
}

interface AuditVerifyCounts {
  /** Records checked (all of them when the chain is intact). */
  readonly checked: number;
  readonly anchor: AuditAnchor;
  readonly gaps: readonly AuditGap[];
}

export type AuditVerifyReport =
  | (AuditVerifyCounts & {
      readonly ok: true;
      /** Seq of the last record (the anchor's when none is kept). */
      readonly headSeq: number;
      readonly headHash: string;
    })
  | (AuditVerifyCounts & { readonly ok: false; readonly problem: AuditProblem });

export class AuditChainVerifier {
  private expectedSeq: number;
  private lastHash: string;
  private lastEpoch = 0;
  private checked = 0;
  private readonly gaps: AuditGap[] = [];
  private problem: AuditProblem | undefined;

  constructor(
    private readonly anchor: AuditAnchor = AUDIT_EMPTY_ANCHOR,
    private readonly expected?: AuditExpectation,
  ) {
    this.expectedSeq = anchor.seq + 1;
    this.lastHash = anchor.hash;
  }

  /** False once a problem was found: later keys need not be read. */
  get intact(): boolean {
    return this.problem === undefined;
  }

  /** One stored key under `audit/` and its value; keys come in key order. */
  add(key: string, value: Uint8Array): void {
    if (this.problem !== undefined) return;
    const seq = auditSequenceOfKey(key);
    if (seq === undefined || seq < this.expectedSeq) {
      this.fail(
        'stray-key',
        seq ?? this.expectedSeq,
        seq === undefined
          ? `'${key}' is not an audit record key`
          : `record ${seq} is at or below the anchor (${this.anchor.seq}): it should have been trimmed`,
      );
      return;
    }
    if (seq > this.expectedSeq) {
      this.fail(
        'missing',
        this.expectedSeq,
        `record ${this.expectedSeq} is missing (the next stored is ${seq})`,
      );
      return;
    }
    this.check(key, seq, value);
  }

  private check(key: string, seq: number, value: Uint8Array): void {
    let record: ReturnType<typeof decodeAuditRecord>;
    try {
      record = decodeAuditRecord(key, value);
    } catch (error) {
      if (!(error instanceof ControlRecordDecodeError)) throw error;
      this.fail('undecodable', seq, `record ${seq} is not an audit record: ${error.message}`);
      return;
    }
    if (auditRecordHash(record) !== record.hash) {
      this.fail('changed', seq, `record ${seq} was changed: its content does not hash to ${record.hash}`);
    } else if (record.seq !== seq) {
      this.fail('reordered', seq, `the record stored as ${seq} is record ${record.seq}`);
    } else if (record.prev !== this.lastHash) {
      this.fail(
        'broken-link',
        seq,
        seq === this.anchor.seq + 1 && this.anchor.seq > 0
          ? `record ${seq} does not link to the anchor (record ${this.anchor.seq})`
          : `record ${seq} does not link to record ${seq - 1} (one of them was replaced)`,
      );
    } else if (record.epoch < this.lastEpoch) {
      this.fail(
        'epoch-regressed',
        seq,
        `record ${seq} was written in epoch ${record.epoch}, after a record of epoch ${this.lastEpoch}`,
      );
    } else if (this.expected?.seq === seq && this.expected.hash !== record.hash) {
      this.fail(
        'rewritten',
        seq,
        `record ${seq} has hash ${record.hash}, not the expected ${this.expected.hash}`,
      );
    } else {
      if (record.entry.type === 'gap') {
        const { dropped, firstDroppedAtWallMs, lastDroppedAtWallMs } = record.entry;
        this.gaps.push({ seq, dropped, firstDroppedAtWallMs, lastDroppedAtWallMs });
      }
      this.checked += 1;
      this.expectedSeq = seq + 1;
      this.lastHash = record.hash;
      this.lastEpoch = record.epoch;
    }
  }

  /** The verdict, given the head as stored (undefined when there is no head key). */
  finish(head: AuditHead | undefined | 'unreadable'): AuditVerifyReport {
    const lastSeq = this.expectedSeq - 1;
    if (this.problem === undefined) {
      if (head === 'unreadable') {
        this.fail('head-mismatch', lastSeq, 'the head key holds no audit head');
      } else if (head === undefined) {
        if (lastSeq > 0)
          this.fail('head-mismatch', lastSeq, `records up to ${lastSeq} are stored but no head`);
      } else if (head.seq > lastSeq) {
        this.fail('missing', lastSeq + 1, `record ${lastSeq + 1} is missing (the head is at ${head.seq})`);
      } else if (head.seq < lastSeq) {
        this.fail(
          'head-mismatch',
          head.seq + 1,
          `records after the head (${head.seq}) are stored, up to ${lastSeq}`,
        );
      } else if (head.hash !== this.lastHash) {
        this.fail('head-mismatch', lastSeq, `the head names another hash for record ${lastSeq} than it has`);
      }
    }
    this.checkExpectedOutside(lastSeq);
    const counts = { checked: this.checked, anchor: this.anchor, gaps: [...this.gaps] };
    if (this.problem !== undefined) return { ok: false, problem: this.problem, ...counts };
    return { ok: true, headSeq: lastSeq, headHash: this.lastHash, ...counts };
  }

  /** An expectation of a seq no kept record has: the anchor's, or one that cannot be compared. */
  private checkExpectedOutside(lastSeq: number): void {
    const expected = this.expected;
    if (expected === undefined || (expected.seq > this.anchor.seq && expected.seq <= lastSeq)) return;
    if (expected.seq === this.anchor.seq && expected.seq > 0) {
      if (expected.hash !== this.anchor.hash)
        this.fail('rewritten', expected.seq, `the anchor (record ${expected.seq}) is not the expected hash`);
    } else if (expected.seq < this.anchor.seq) {
      this.fail('missing', expected.seq, `record ${expected.seq} was trimmed: it cannot be compared`);
    } else {
      this.fail('missing', expected.seq, `record ${expected.seq} is not stored (the last is ${lastSeq})`);
    }
  }

  private fail(kind: AuditProblemKind, seq: number, message: string): void {
    this.problem ??= { kind, seq, message };
  }
}
