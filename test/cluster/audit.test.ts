/**
 * The audit chain on three real `meshos start` processes. A reconciler term (a seat taken in the
 * control plane, an ActionExecutor whose owners complete or fail actions, an AuditRecorder) runs
 * in this process against the voters' client ports; the built CLI then reads the chain from other
 * nodes: `meshos audit verify` passes, `meshos audit --json` lists every record, `meshos actions
 * --json` tells each action's state and queue latency. A second term continues the chain from its
 * head while `meshos audit --follow` prints its records, and the first term is fenced. A record
 * changed with etcdctl makes `audit verify` exit 1 naming it; put back, verify passes again; a
 * record deleted with etcdctl is reported missing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  auditKey,
  type ControlPlane,
  DEFAULT_CONTROL_ROOT,
  openControlPlane,
} from '../../src/control/index.js';
import { SeededRandom, SystemClock } from '../../src/lib/index.js';
import { type AuditRecord, AuditRecorder, type AuditTerm } from '../../src/mesh/index.js';
import { ActionExecutor, type PendingAction, toWireRecord } from '../../src/reconcile/index.js';
import { everyOwner, TEST_SEAT_KEY, takeSeat } from '../support/audit-term.js';
import { until } from '../support/until.js';
import { etcdctl } from './etcdctl.js';
import { exitCode, meshos } from './meshos-process.js';
import { ProcessCluster } from './process-cluster.js';

const STARTUP_TIMEOUT_MS = 90_000;
const CLI_TIMEOUT_MS = 30_000;
const ROOT = DEFAULT_CONTROL_ROOT;

const clock = new SystemClock();

/** A reconciler term: executor and recorder; owners fail a StartDaemon of `broken`, complete the rest. */
function reconcilerTerm(plane: ControlPlane, term: AuditTerm) {
  const stops: Array<{ reason: string; fenced: boolean }> = [];
  const recorder = new AuditRecorder({
    plane,
    term,
    clock,
    random: new SeededRandom(term.node),
    onStopped: (stop) => stops.push(stop),
  });
  const owner = {
    handle: (pending: PendingAction) =>
      setTimeout(() => {
        const broken = pending.action.kind === 'StartDaemon' && pending.action.daemon === 'broken';
        if (broken) executor.fail(pending.id, 'no room on node 3', clock.nowMs());
        else executor.complete(pending.id, clock.nowMs());
      }, 5),
  };
  const executor = new ActionExecutor({
    owners: everyOwner(owner),
    zoneOf: () => 'z',
    onEvent: (event) => recorder.record(event),
  });
  let nextId = 1;
  const submit = (actions: ReadonlyArray<PendingAction['action']>): void => {
    const now = clock.nowMs();
    const pending = actions.map((action) => ({ id: nextId++, emittedAtMonotonicMs: now, action }));
    const time = { monotonicMs: now, wallMs: clock.wallMs() };
    recorder.emitted(pending.map((entry) => toWireRecord(entry, term.node, time)));
    executor.submit(pending, now);
    executor.drain(now);
  };
  return { recorder, executor, submit, stops };
}

describe('the audit chain on three nodes', () => {
  let cluster: ProcessCluster | undefined;
  let plane: ControlPlane | undefined;
  afterEach(async () => {
    await plane?.close();
    await cluster?.stopAll();
  });

  async function cli(id: number, args: string[]): Promise<{ code: number | null; output: string }> {
    const running = meshos([...args, '--endpoints', cluster!.plan(id).client]);
    const code = await exitCode(running, CLI_TIMEOUT_MS);
    return { code, output: running.output() };
  }

  it('verifies, lists, follows, continues after a takeover, and catches a tampered record', async () => {
    cluster = await ProcessCluster.create(3);
    cluster.startAll();
    await cluster.waitForLeader(STARTUP_TIMEOUT_MS);
    plane = await openControlPlane({ kind: 'etcd', endpoints: cluster.clientEndpoints });

    // Term 1 on "node 1": four actions done, one failed, one duplicate.
    const first = reconcilerTerm(plane, await takeSeat(plane, 1));
    first.submit([
      { kind: 'StartDaemon', daemon: 'web', node: 2 },
      { kind: 'StartDaemon', daemon: 'web', node: 2 },
      { kind: 'StartDaemon', daemon: 'broken', node: 3 },
      { kind: 'PullReplica', chain: 'orders', node: 3, source: 1 },
      { kind: 'MarkAvoid', peer: 2, reason: 'slow', ttlMs: 60_000 },
      { kind: 'DropReplica', chain: 'orders', node: 2 },
    ]);
    await until(
      () => first.executor.status().inFlight === 0 && first.executor.status().queued === 0,
      'term 1 idle',
    );
    await first.recorder.flushed();
    const firstHead = first.recorder.status().headSeq;
    // term + 6 emitted + 5 queued + 1 duplicate + 5 dispatched + 4 completed + 1 failed.
    expect(firstHead).toBe(23);

    const verified = await cli(2, ['audit', 'verify']);
    expect(verified.code, verified.output).toBe(0);
    expect(verified.output).toMatch(/audit chain intact: records 1\.\.23/);

    const listed = await cli(3, ['audit', '--json']);
    expect(listed.code, listed.output).toBe(0);
    const records = listed.output
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as AuditRecord);
    expect(records.map((record) => record.seq)).toEqual(Array.from({ length: 23 }, (_, index) => index + 1));

    const actions = await cli(3, ['actions', '--json']);
    expect(actions.code, actions.output).toBe(0);
    const report = JSON.parse(actions.output) as {
      counts: Record<string, number>;
      queueLatency: { count: number };
      actions: { id: number; state: string; reason?: string }[];
    };
    expect(report.counts).toMatchObject({ done: 4, failed: 1, duplicate: 1, pending: 0, 'in-flight': 0 });
    expect(report.queueLatency.count).toBe(5);
    expect(report.actions.find((view) => view.id === 3)).toMatchObject({
      state: 'failed',
      reason: 'no room on node 3',
    });

    // Term 2 on "node 2" takes over while `audit --follow` watches from the next record.
    const follow = meshos([
      'audit',
      '--follow',
      '--from',
      String(firstHead + 1),
      '--endpoints',
      cluster.plan(1).client,
    ]);
    await plane.revokeLease((await plane.get(TEST_SEAT_KEY))!.lease);
    const second = reconcilerTerm(plane, await takeSeat(plane, 2));
    second.submit([{ kind: 'StartDaemon', daemon: 'web', node: 3 }]);
    await until(() => second.executor.status().completed === 1, 'term 2 action done');
    await second.recorder.flushed();
    await until(
      () => /term: node 2 holds the reconciler seat/.test(follow.output()),
      'follow prints term 2',
      CLI_TIMEOUT_MS,
    );
    const completion = new RegExp(`^${firstHead + 5} {2}.*completed #1$`, 'm');
    await until(() => completion.test(follow.output()), 'follow prints the completion', CLI_TIMEOUT_MS);
    follow.child.kill('SIGINT');
    expect(await exitCode(follow, CLI_TIMEOUT_MS)).toBe(0);
    // The first term, unaware, records once more: refused, it stops fenced.
    first.recorder.record({ type: 'completed', id: 99, atMs: clock.nowMs() });
    await first.recorder.flushed();
    expect(first.stops).toEqual([expect.objectContaining({ fenced: true })]);
    const afterTakeover = await cli(1, ['audit', 'verify', '--json']);
    expect(afterTakeover.code, afterTakeover.output).toBe(0);
    expect(JSON.parse(afterTakeover.output)).toMatchObject({ ok: true, headSeq: firstHead + 5 });

    // Tamper: change what the emitted record of action 3 says, with etcdctl.
    const emittedThird = records.find(
      (record) => record.entry.type === 'emitted' && record.entry.action.id === 3,
    )!;
    const key = `${ROOT}${auditKey(emittedThird.seq)}`;
    const original = (await etcdctl(cluster.clientEndpoints, ['get', key, '--print-value-only'])).trim();
    expect(JSON.parse(original)).toEqual(emittedThird);
    await etcdctl(cluster.clientEndpoints, ['put', key, original.replace('"broken"', '"harmless"')]);
    const tampered = await cli(3, ['audit', 'verify']);
    expect(tampered.code).toBe(1);
    expect(tampered.output).toContain(`broken at record ${emittedThird.seq} (changed)`);
    const tamperedJson = await cli(2, ['audit', 'verify', '--json']);
    expect(tamperedJson.code).toBe(1);
    expect(JSON.parse(tamperedJson.output)).toMatchObject({
      ok: false,
      problem: { kind: 'changed', seq: emittedThird.seq },
    });

    // Put back, the chain verifies; a record deleted is missing.
    await etcdctl(cluster.clientEndpoints, ['put', key, original]);
    expect((await cli(1, ['audit', 'verify'])).code).toBe(0);
    await etcdctl(cluster.clientEndpoints, ['del', `${ROOT}${auditKey(7)}`]);
    const missing = await cli(2, ['audit', 'verify', '--json']);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.output)).toMatchObject({ ok: false, problem: { kind: 'missing', seq: 7 } });
  }, 300_000);
});
