/**
 * The audit recorder against an in-process control plane: hash-linked batches, a takeover that
 * continues the chain from its head, a stale writer that is fenced instead of forking it,
 * retention with an anchor, the bounded buffer with its gap record, and a lost write answer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  AUDIT_HEAD_KEY,
  auditKey,
  type ControlPlane,
  ControlUnavailableError,
  openControlPlane,
} from '../../../src/control/index.js';
import { ManualClock, SeededRandom, SystemClock } from '../../../src/lib/index.js';
import {
  AUDIT_BATCH_RECORDS,
  AUDIT_BUFFER_RECORDS,
  AuditFeed,
  AuditReader,
  AuditRecorder,
  type AuditRecorderOptions,
  type AuditTerm,
  MIN_AUDIT_RETAINED_RECORDS,
} from '../../../src/mesh/index.js';
import { ActionExecutor, type PendingAction, toWireRecord } from '../../../src/reconcile/index.js';
import { everyOwner, TEST_SEAT_KEY, takeSeat } from '../../support/audit-term.js';
import { LocalKvBackend } from '../../support/local-kv-backend.js';
import { until } from '../../support/until.js';

const clock = new SystemClock();

const planes: ControlPlane[] = [];

afterEach(async () => {
  for (const plane of planes.splice(0)) await plane.close();
});

async function newPlane(): Promise<ControlPlane> {
  const plane = await openControlPlane({
    kind: 'in-process',
    backend: new LocalKvBackend({ clock: new ManualClock() }),
  });
  planes.push(plane);
  return plane;
}

function recorder(plane: ControlPlane, term: AuditTerm, extra: Partial<AuditRecorderOptions> = {}) {
  const stops: Array<{ reason: string; fenced: boolean }> = [];
  const recorder = new AuditRecorder({
    plane,
    term,
    clock,
    random: new SeededRandom(1),
    onStopped: (stop) => stops.push(stop),
    ...extra,
  });
  return { recorder, stops };
}

const start = (id: number, node = 2): PendingAction => ({
  id,
  emittedAtMonotonicMs: clock.nowMs(),
  action: { kind: 'StartDaemon', daemon: `d${id}`, node },
});

/** An executor whose owners complete every action a moment later, its events recorded. */
function executorFor(target: AuditRecorder): ActionExecutor {
  const owner = {
    handle: (pending: PendingAction) => queueMicrotask(() => executor.complete(pending.id, clock.nowMs())),
  };
  const executor = new ActionExecutor({
    owners: everyOwner(owner),
    zoneOf: () => 'z',
    onEvent: (event) => target.record(event),
  });
  return executor;
}

function submit(target: AuditRecorder, executor: ActionExecutor, actions: PendingAction[], self = 1): void {
  const time = { monotonicMs: clock.nowMs(), wallMs: clock.wallMs() };
  target.emitted(actions.map((pending) => toWireRecord(pending, self, time)));
  executor.submit(actions, clock.nowMs());
  executor.drain(clock.nowMs());
}

describe('the audit recorder', () => {
  it('appends emitted actions and executor events as one hash-linked chain that verifies', async () => {
    const plane = await newPlane();
    const term = await takeSeat(plane, 1);
    const { recorder: audit, stops } = recorder(plane, term);
    const executor = executorFor(audit);
    submit(audit, executor, [
      start(1),
      start(2),
      { ...start(3), action: { kind: 'StartDaemon', daemon: 'd1', node: 2 } },
    ]);
    await until(() => executor.status().completed === 2, 'both actions completed');
    await audit.flushed();
    const { records } = await new AuditReader(plane).list();
    expect(records.map((record) => record.entry.type)).toEqual([
      'term',
      'emitted',
      'emitted',
      'emitted',
      'queued',
      'queued',
      'duplicate',
      'dispatched',
      'dispatched',
      'completed',
      'completed',
    ]);
    expect(records.map((record) => record.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(records.every((record) => record.node === 1 && record.epoch === term.epoch)).toBe(true);
    for (const [index, record] of records.entries())
      if (index > 0) expect(record.prev).toBe(records[index - 1]!.hash);
    expect(await new AuditReader(plane).verify()).toMatchObject({ ok: true, checked: 11, headSeq: 11 });
    // The first pass's entries went out together: far fewer writes than records.
    expect(audit.status().batchesWritten).toBeLessThan(records.length);
    expect(stops).toEqual([]);
    const actions = await new AuditReader(plane).actions();
    expect(actions.counts).toMatchObject({ done: 2, duplicate: 1, pending: 0 });
    expect(actions.queueLatency.count).toBe(2);
  });

  it('continues the chain from its head when another reconciler takes over, and fences the old one', async () => {
    const plane = await newPlane();
    const first = await takeSeat(plane, 1);
    const old = recorder(plane, first);
    old.recorder.record({ type: 'queued', id: 1, atMs: clock.nowMs() });
    await old.recorder.flushed();
    // The first term ends (its lease is revoked with the seat); node 2 takes the seat.
    await plane.revokeLease(first.leaseId);
    const second = await takeSeat(plane, 2);
    const next = recorder(plane, second);
    next.recorder.record({ type: 'queued', id: 1, atMs: clock.nowMs() });
    await next.recorder.flushed();
    // The old reconciler still believes it holds the seat: its write is refused.
    old.recorder.record({ type: 'dispatched', id: 1, atMs: clock.nowMs() });
    await old.recorder.flushed();
    expect(old.stops).toEqual([{ reason: expect.stringMatching(/another reconciler|fenced/), fenced: true }]);
    expect(old.recorder.status().stopped).toBe(true);
    const { records } = await new AuditReader(plane).list();
    expect(records.map((record) => [record.seq, record.node, record.entry.type])).toEqual([
      [1, 1, 'term'],
      [2, 1, 'queued'],
      [3, 2, 'term'],
      [4, 2, 'queued'],
    ]);
    expect(records[2]!.epoch).toBeGreaterThan(records[1]!.epoch);
    expect(await new AuditReader(plane).verify()).toMatchObject({ ok: true, headSeq: 4 });
    // The first term's action never finished: it is abandoned, the second term's is pending.
    const actions = await new AuditReader(plane).actions();
    expect(actions.actions.map((view) => [view.epoch, view.id, view.state])).toEqual([
      [first.epoch, 1, 'abandoned'],
      [second.epoch, 1, 'pending'],
    ]);
  });

  it('refuses a write once the seat is gone, even before anyone else wrote', async () => {
    const plane = await newPlane();
    const first = await takeSeat(plane, 1);
    const { recorder: old, stops } = recorder(plane, first);
    await old.flushed();
    await plane.revokeLease(first.leaseId);
    await takeSeat(plane, 2);
    old.record({ type: 'queued', id: 1, atMs: clock.nowMs() });
    await old.flushed();
    expect(stops).toEqual([{ reason: expect.stringMatching(/seat is no longer this term/), fenced: true }]);
    expect((await new AuditReader(plane).bounds()).head?.seq).toBe(1);
  });

  it('does not fork the chain when two writers race with valid fences: the later one stops', async () => {
    const plane = await newPlane();
    const shared = await takeSeat(plane, 1);
    const a = recorder(plane, shared);
    await a.recorder.flushed();
    const b = recorder(plane, { ...shared, node: 2 });
    await b.recorder.flushed();
    // b read the head a wrote and linked to it; now a's view of the head is stale.
    a.recorder.record({ type: 'queued', id: 1, atMs: clock.nowMs() });
    await a.recorder.flushed();
    expect(a.stops).toEqual([{ reason: expect.stringMatching(/head moved to 2/), fenced: true }]);
    expect(await new AuditReader(plane).verify()).toMatchObject({ ok: true, headSeq: 2 });
  });

  it('trims the oldest records past the retention and anchors verify to the last one trimmed', async () => {
    const plane = await newPlane();
    const retainedRecords = MIN_AUDIT_RETAINED_RECORDS + 1;
    const { recorder: audit } = recorder(plane, await takeSeat(plane, 1), { retainedRecords });
    const written = retainedRecords * 3;
    for (let id = 1; id < written; id++) audit.record({ type: 'queued', id, atMs: clock.nowMs() });
    await audit.flushed();
    const reader = new AuditReader(plane);
    const bounds = await reader.bounds();
    expect(bounds.head?.seq).toBe(written);
    const { records } = await reader.list();
    expect(records.length).toBeLessThanOrEqual(retainedRecords);
    expect(records[0]!.seq).toBe(bounds.anchor.seq + 1);
    expect(records[0]!.prev).toBe(bounds.anchor.hash);
    expect(await reader.verify()).toMatchObject({ ok: true, headSeq: written, anchor: bounds.anchor });
    // Removing the first kept record is still caught.
    await plane.delete(auditKey(records[0]!.seq));
    expect(await reader.verify()).toMatchObject({
      ok: false,
      problem: { kind: 'missing', seq: records[0]!.seq },
    });
  });

  it('never blocks on a full buffer: it drops, counts, and records the drops as a gap', async () => {
    const plane = await newPlane();
    const term = await takeSeat(plane, 1);
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    // Writes wait at the gate: everything recorded meanwhile stays buffered.
    const gated = new Proxy(plane, {
      get: (target, name) =>
        name === 'txn'
          ? async (...args: Parameters<ControlPlane['txn']>) => {
              await gate;
              return target.txn(...args);
            }
          : Reflect.get(target, name),
    });
    const { recorder: audit } = recorder(gated, term);
    const recorded = AUDIT_BUFFER_RECORDS + 500;
    for (let id = 1; id <= recorded; id++) audit.record({ type: 'queued', id, atMs: clock.nowMs() });
    // The term record took one place.
    const dropped = recorded + 1 - AUDIT_BUFFER_RECORDS;
    expect(audit.status()).toMatchObject({ buffered: AUDIT_BUFFER_RECORDS, dropped });
    release();
    await audit.flushed();
    const report = await new AuditReader(plane).verify();
    expect(report).toMatchObject({ ok: true, headSeq: AUDIT_BUFFER_RECORDS + 1 });
    expect(report.gaps).toEqual([expect.objectContaining({ dropped })]);
    expect(audit.status().batchesWritten).toBeGreaterThanOrEqual(
      Math.ceil(AUDIT_BUFFER_RECORDS / AUDIT_BATCH_RECORDS),
    );
  });

  it('recognises a write that was applied although its answer was lost, and does not repeat it', async () => {
    const plane = await newPlane();
    const term = await takeSeat(plane, 1);
    let loseNextAnswer = true;
    const lossy = new Proxy(plane, {
      get: (target, name) =>
        name === 'txn'
          ? async (...args: Parameters<ControlPlane['txn']>) => {
              const answer = await target.txn(...args);
              const writesHead = args[0].success.some((op) => op.type === 'put' && op.key === AUDIT_HEAD_KEY);
              if (writesHead && loseNextAnswer) {
                loseNextAnswer = false;
                throw new ControlUnavailableError('the answer was lost');
              }
              return answer;
            }
          : Reflect.get(target, name),
    });
    const { recorder: audit, stops } = recorder(lossy, term);
    audit.record({ type: 'queued', id: 1, atMs: clock.nowMs() });
    await audit.flushed();
    audit.record({ type: 'dispatched', id: 1, atMs: clock.nowMs() });
    await audit.flushed();
    expect(stops).toEqual([]);
    expect(audit.status()).toMatchObject({ writeRetries: 1, headSeq: 3 });
    const { records } = await new AuditReader(plane).list();
    expect(records.map((record) => record.entry.type)).toEqual(['term', 'queued', 'dispatched']);
    expect(await new AuditReader(plane).verify()).toMatchObject({ ok: true, headSeq: 3 });
  });
});

describe('the audit feed', () => {
  it('records the service feed per term, the emitted action before its first event, the lease read from the seat', async () => {
    const plane = await newPlane();
    const feed = new AuditFeed({ plane, seatKey: TEST_SEAT_KEY, clock, random: new SeededRandom(2) });
    const first = await takeSeat(plane, 1);
    const action = start(1);
    const at = clock.nowMs();
    feed.record({
      event: { type: 'queued', id: 1, atMs: at },
      action,
      term: { holder: 1, epoch: first.epoch },
    });
    feed.record({
      event: { type: 'dispatched', id: 1, atMs: at },
      action,
      term: { holder: 1, epoch: first.epoch },
    });
    await feed.close();
    await plane.revokeLease(first.leaseId);
    const second = await takeSeat(plane, 3);
    feed.record({
      event: { type: 'refused', id: 1, atMs: at },
      action,
      term: { holder: 3, epoch: second.epoch },
    });
    await feed.close();
    const { records } = await new AuditReader(plane).list();
    expect(records.map((record) => [record.node, record.leaseId, record.entry.type])).toEqual([
      [1, first.leaseId, 'term'],
      [1, first.leaseId, 'emitted'],
      [1, first.leaseId, 'queued'],
      [1, first.leaseId, 'dispatched'],
      [3, second.leaseId, 'term'],
      [3, second.leaseId, 'emitted'],
      [3, second.leaseId, 'refused'],
    ]);
    expect(await new AuditReader(plane).verify()).toMatchObject({ ok: true, headSeq: 7 });
  });
});
