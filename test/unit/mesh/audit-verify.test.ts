import { describe, expect, it } from 'vitest';
import { auditKey, encodeRecord } from '../../../src/control/index.js';
import {
  AUDIT_GENESIS_HASH,
  type AuditAnchor,
  AuditChainVerifier,
  type AuditEntry,
  type AuditHead,
  type AuditRecord,
  type AuditVerifyReport,
  auditRecordHash,
  canonicalJson,
  sealAuditRecord,
} from '../../../src/mesh/index.js';

const WRITER = { node: 1, leaseId: 77, epoch: 10 };

/** Records `first..last` linked from `prev`, each a deferral of action `seq`. */
function chain(first: number, last: number, prev = AUDIT_GENESIS_HASH, reason = 'cooldown'): AuditRecord[] {
  const records: AuditRecord[] = [];
  for (let seq = first; seq <= last; seq++) {
    const entry: AuditEntry = { type: 'deferred', id: seq, reason: `${reason} ${seq}` };
    const record = sealAuditRecord({ seq, prev, atWallMs: 1_000 + seq, ...WRITER, entry });
    records.push(record);
    prev = record.hash;
  }
  return records;
}

type Stored = { key: string; value: Uint8Array };

const stored = (records: readonly AuditRecord[]): Stored[] =>
  records.map((record) => ({ key: auditKey(record.seq), value: encodeRecord(auditKey(record.seq), record) }));

function headOf(records: readonly AuditRecord[]): AuditHead {
  const last = records[records.length - 1]!;
  return { seq: last.seq, hash: last.hash, ...WRITER };
}

function verify(
  entries: readonly Stored[],
  head: AuditHead | undefined,
  anchor?: AuditAnchor,
): AuditVerifyReport {
  const verifier = new AuditChainVerifier(anchor);
  for (const entry of entries) verifier.add(entry.key, entry.value);
  return verifier.finish(head);
}

function problemOf(report: AuditVerifyReport): { kind: string; seq: number } | undefined {
  return report.ok ? undefined : { kind: report.problem.kind, seq: report.problem.seq };
}

describe('the audit record', () => {
  it('hashes a canonical encoding: field order does not matter, every value does', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 'x', c: null }] })).toBe('{"a":[{"c":null,"d":"x"}],"b":1}');
    const [record] = chain(1, 1);
    const reordered = Object.fromEntries(Object.entries(record!).reverse()) as unknown as AuditRecord;
    expect(auditRecordHash(reordered)).toBe(record!.hash);
    expect(auditRecordHash({ ...record!, atWallMs: record!.atWallMs + 1 })).not.toBe(record!.hash);
  });

  it('links each record to the one before it', () => {
    const records = chain(1, 3);
    expect(records[0]!.prev).toBe(AUDIT_GENESIS_HASH);
    expect(records[1]!.prev).toBe(records[0]!.hash);
    expect(records[2]!.prev).toBe(records[1]!.hash);
  });
});

describe('verifying the audit chain', () => {
  it('passes an intact chain and reports its head', () => {
    const records = chain(1, 5);
    const report = verify(stored(records), headOf(records));
    expect(report).toMatchObject({ ok: true, checked: 5, headSeq: 5, headHash: records[4]!.hash });
  });

  it('passes an empty chain', () => {
    expect(verify([], undefined)).toMatchObject({ ok: true, checked: 0, headSeq: 0 });
  });

  it('catches a changed record: its content no longer hashes to its hash', () => {
    const records = chain(1, 5);
    const entries = stored(records);
    const tampered = { ...records[2]!, entry: { type: 'deferred', id: 3, reason: 'nothing to see' } };
    entries[2] = { key: auditKey(3), value: encodeRecord(auditKey(3), tampered) };
    expect(problemOf(verify(entries, headOf(records)))).toEqual({ kind: 'changed', seq: 3 });
  });

  it('catches a record replaced by a re-hashed forgery: the next one does not link to it', () => {
    const records = chain(1, 5);
    const entries = stored(records);
    const forged = sealAuditRecord({
      seq: 3,
      prev: records[1]!.hash,
      atWallMs: 0,
      ...WRITER,
      entry: { type: 'completed', id: 3 },
    });
    entries[2] = { key: auditKey(3), value: encodeRecord(auditKey(3), forged) };
    expect(problemOf(verify(entries, headOf(records)))).toEqual({ kind: 'broken-link', seq: 4 });
  });

  it('catches a missing record in the middle and at the tail', () => {
    const records = chain(1, 5);
    const withoutThird = stored(records).filter((entry) => entry.key !== auditKey(3));
    expect(problemOf(verify(withoutThird, headOf(records)))).toEqual({ kind: 'missing', seq: 3 });
    const withoutLast = stored(records).slice(0, 4);
    expect(problemOf(verify(withoutLast, headOf(records)))).toEqual({ kind: 'missing', seq: 5 });
    const withoutFirst = stored(records).slice(1);
    expect(problemOf(verify(withoutFirst, headOf(records)))).toEqual({ kind: 'missing', seq: 1 });
  });

  it('catches reordered records: an intact record at another record key', () => {
    const records = chain(1, 5);
    const entries = stored(records);
    const second = entries[1]!.value;
    entries[1] = { key: auditKey(2), value: entries[2]!.value };
    entries[2] = { key: auditKey(3), value: second };
    expect(problemOf(verify(entries, headOf(records)))).toEqual({ kind: 'reordered', seq: 2 });
  });

  it('catches a head that names another record, records past the head, and a missing head', () => {
    const records = chain(1, 5);
    expect(problemOf(verify(stored(records), { ...headOf(records), hash: records[3]!.hash }))).toEqual({
      kind: 'head-mismatch',
      seq: 5,
    });
    expect(problemOf(verify(stored(records), headOf(records.slice(0, 3))))).toEqual({
      kind: 'head-mismatch',
      seq: 4,
    });
    expect(problemOf(verify(stored(records), undefined))).toEqual({ kind: 'head-mismatch', seq: 5 });
  });

  it('catches a record of an older epoch appended after a newer one', () => {
    const records = chain(1, 2);
    const stale = sealAuditRecord({
      seq: 3,
      prev: records[1]!.hash,
      atWallMs: 5_000,
      ...WRITER,
      epoch: WRITER.epoch - 1,
      entry: { type: 'term' },
    });
    const all = [...records, stale];
    expect(problemOf(verify(stored(all), headOf(all)))).toEqual({ kind: 'epoch-regressed', seq: 3 });
  });

  it('refuses a record with a field the layout lacks, and a key that is no record key', () => {
    const records = chain(1, 2);
    const entries = stored(records);
    entries[1] = { key: auditKey(2), value: encodeRecord(auditKey(2), { ...records[1]!, note: 'added' }) };
    expect(problemOf(verify(entries, headOf(records)))).toEqual({ kind: 'undecodable', seq: 2 });
    const stray = [...stored(records), { key: 'audit/notes', value: new Uint8Array([123, 125]) }];
    expect(problemOf(verify(stray, headOf(records)))).toMatchObject({ kind: 'stray-key' });
  });

  it('starts from the anchor after the oldest records were trimmed', () => {
    const records = chain(1, 8);
    const kept = stored(records.slice(3));
    const anchor = { seq: 3, hash: records[2]!.hash };
    expect(verify(kept, headOf(records), anchor)).toMatchObject({ ok: true, checked: 5, headSeq: 8 });
    // Without its anchor the trimmed chain shows the records it lacks.
    expect(problemOf(verify(kept, headOf(records)))).toEqual({ kind: 'missing', seq: 1 });
    // An anchor naming another hash does not link to the first kept record.
    expect(problemOf(verify(kept, headOf(records), { seq: 3, hash: records[1]!.hash }))).toEqual({
      kind: 'broken-link',
      seq: 4,
    });
    // A record the anchor says was trimmed, put back.
    expect(problemOf(verify([...stored(records.slice(2, 3)), ...kept], headOf(records), anchor))).toEqual({
      kind: 'stray-key',
      seq: 3,
    });
  });

  it('catches a rewrite of the whole tail, head included, only against a hash saved before', () => {
    const records = chain(1, 5);
    const saved = { seq: 5, hash: records[4]!.hash };
    // Records 3, 4, 5 and the head written again, with other content: every link holds.
    const relinked = [...records.slice(0, 2), ...chain(3, 5, records[1]!.hash, 'forged')];
    expect(verify(stored(relinked), headOf(relinked))).toMatchObject({ ok: true });
    const withSaved = (expected: { seq: number; hash: string }, anchor?: AuditAnchor) => {
      const verifier = new AuditChainVerifier(anchor, expected);
      const kept = anchor === undefined ? relinked : relinked.filter((record) => record.seq > anchor.seq);
      for (const entry of stored(kept)) verifier.add(entry.key, entry.value);
      return verifier.finish(headOf(relinked));
    };
    expect(problemOf(withSaved(saved))).toEqual({ kind: 'rewritten', seq: 5 });
    expect(withSaved({ seq: 2, hash: records[1]!.hash })).toMatchObject({ ok: true });
    expect(problemOf(withSaved({ seq: 9, hash: saved.hash }))).toEqual({ kind: 'missing', seq: 9 });
    // Below the anchor a record cannot be compared; at the anchor, its hash is.
    const anchor = { seq: 2, hash: relinked[1]!.hash };
    expect(problemOf(withSaved({ seq: 1, hash: records[0]!.hash }, anchor))).toEqual({
      kind: 'missing',
      seq: 1,
    });
    expect(withSaved({ seq: 2, hash: records[1]!.hash }, anchor)).toMatchObject({ ok: true });
  });

  it('lists gap records without failing', () => {
    const [first] = chain(1, 1);
    const gap = sealAuditRecord({
      seq: 2,
      prev: first!.hash,
      atWallMs: 2_000,
      ...WRITER,
      entry: { type: 'gap', dropped: 12, firstDroppedAtWallMs: 1_500, lastDroppedAtWallMs: 2_000 },
    });
    const report = verify(stored([first!, gap]), headOf([first!, gap]));
    expect(report).toMatchObject({ ok: true, gaps: [{ seq: 2, dropped: 12 }] });
  });
});
