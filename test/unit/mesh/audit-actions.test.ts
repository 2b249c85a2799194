import { describe, expect, it } from 'vitest';
import {
  AUDIT_GENESIS_HASH,
  type AuditEntry,
  type AuditRecord,
  actionsFromAudit,
  describeWireAction,
  sealAuditRecord,
} from '../../../src/mesh/index.js';

/** Records of `entries` at the given wall times, written by node 1 in `epoch`. */
function records(epoch: number, entries: ReadonlyArray<[number, AuditEntry]>, firstSeq = 1): AuditRecord[] {
  let prev = AUDIT_GENESIS_HASH;
  return entries.map(([atWallMs, entry], index) => {
    const record = sealAuditRecord({
      seq: firstSeq + index,
      prev,
      atWallMs,
      node: 1,
      leaseId: 5,
      epoch,
      entry,
    });
    prev = record.hash;
    return record;
  });
}

const emitted = (id: number, daemon: string): AuditEntry => ({
  type: 'emitted',
  action: { id, emittedBy: 1, emittedAtWallMs: 990, action: { kind: 'StartDaemon', daemon, node: 3 } },
});

describe('actions from the audit records', () => {
  it('follows each action from queued to done or failed, with its queue latency', () => {
    const report = actionsFromAudit(
      records(7, [
        [1_000, emitted(1, 'web')],
        [1_000, { type: 'queued', id: 1 }],
        [1_000, emitted(2, 'db')],
        [1_000, { type: 'queued', id: 2 }],
        [1_010, { type: 'deferred', id: 2, reason: 'zone drain limit' }],
        [1_020, { type: 'dispatched', id: 1 }],
        [1_050, { type: 'completed', id: 1 }],
        [1_260, { type: 'dispatched', id: 2 }],
        [1_300, { type: 'failed', id: 2, reason: 'node gone' }],
        [1_300, { type: 'refused', id: 3 }],
        [1_300, { type: 'duplicate', id: 4 }],
        [1_400, { type: 'queued', id: 5 }],
        [1_401, { type: 'gated', id: 5, reason: 'backoff until 2000' }],
        [1_500, { type: 'queued', id: 6 }],
        [1_510, { type: 'dispatched', id: 6 }],
      ]),
    );
    const byId = new Map(report.actions.map((view) => [view.id, view]));
    expect(byId.get(1)).toMatchObject({
      state: 'done',
      queueLatencyMs: 20,
      finishedAtWallMs: 1_050,
      deferrals: 0,
    });
    expect(byId.get(1)?.action).toEqual({ kind: 'StartDaemon', daemon: 'web', node: 3 });
    expect(byId.get(2)).toMatchObject({
      state: 'failed',
      queueLatencyMs: 260,
      deferrals: 1,
      reason: 'node gone',
    });
    expect(byId.get(3)?.state).toBe('refused');
    expect(byId.get(4)?.state).toBe('duplicate');
    expect(byId.get(5)).toMatchObject({ state: 'pending', reason: 'backoff until 2000', action: undefined });
    expect(byId.get(6)).toMatchObject({ state: 'in-flight', queueLatencyMs: 10 });
    expect(report.counts).toEqual({
      pending: 1,
      'in-flight': 1,
      done: 1,
      failed: 1,
      refused: 1,
      duplicate: 1,
      abandoned: 0,
    });
    expect(report.queueLatency).toEqual({ count: 3, p50Ms: 20, p99Ms: 260, maxMs: 260 });
  });

  it('names actions by epoch and id: a later term reuses ids, and its predecessor is abandoned', () => {
    const first = records(7, [
      [1_000, { type: 'queued', id: 1 }],
      [1_001, { type: 'queued', id: 2 }],
      [1_002, { type: 'dispatched', id: 2 }],
    ]);
    const second = records(9, [
      [2_000, { type: 'term' }],
      [2_001, { type: 'queued', id: 1 }],
    ]);
    const report = actionsFromAudit([...first, ...second]);
    expect(report.actions.map((view) => [view.epoch, view.id, view.state])).toEqual([
      [7, 1, 'abandoned'],
      [7, 2, 'abandoned'],
      [9, 1, 'pending'],
    ]);
    expect(report.currentEpoch).toBe(9);
  });

  it('describes an action on one line', () => {
    expect(
      describeWireAction({
        kind: 'RequestPlacement',
        chain: 'orders',
        leader: 1,
        exclude: [1, 2],
        target: 4,
      }),
    ).toBe('RequestPlacement chain=orders leader=1 exclude=[1,2] target=4');
  });
});
