/**
 * `meshos audit [verify]` and `meshos actions` against the etcd API on loopback, over a chain
 * written by an AuditRecorder on the same store: text and JSON output, --from, --follow until
 * asked to stop, verify's exit codes, and usage errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExpectation } from '../../../src/cli/commands/audit.js';
import { UsageError } from '../../../src/cli/commands/common.js';
import { actionsCommand, auditCommand } from '../../../src/cli/commands/index.js';
import {
  absent,
  auditKey,
  type ControlPlane,
  encodeRecord,
  openControlPlane,
} from '../../../src/control/index.js';
import { SeededRandom, SystemClock } from '../../../src/lib/index.js';
import { type AuditRecord, AuditRecorder } from '../../../src/mesh/index.js';
import { type LocalEtcd, startLocalEtcd } from '../../support/etcd-harness.js';
import { until } from '../../support/until.js';

const clock = new SystemClock();

describe('meshos audit and meshos actions', () => {
  let node: LocalEtcd;
  let plane: ControlPlane;
  let recorder: AuditRecorder;

  beforeAll(async () => {
    node = await startLocalEtcd();
    plane = await openControlPlane({ kind: 'in-process', backend: node.backend });
    const answer = await plane.txn({
      compare: [absent('seat')],
      success: [{ type: 'put', key: 'seat', value: encodeRecord('seat', { node: 4 }) }],
    });
    recorder = new AuditRecorder({
      plane,
      term: {
        node: 4,
        leaseId: 0x2a,
        epoch: answer.revision,
        fence: [{ key: 'seat', target: 'createRevision', operator: '=', operand: answer.revision }],
      },
      clock,
      random: new SeededRandom(3),
    });
    const now = clock.nowMs();
    recorder.emitted([
      {
        id: 1,
        emittedBy: 4,
        emittedAtWallMs: clock.wallMs(),
        action: { kind: 'PullReplica', chain: 'orders', node: 2, source: 1 },
      },
    ]);
    recorder.record({ type: 'queued', id: 1, atMs: now });
    recorder.record({ type: 'deferred', id: 1, atMs: now + 1, reason: 'pull cooldown of orders' });
    recorder.record({ type: 'dispatched', id: 1, atMs: now + 251 });
    recorder.record({ type: 'completed', id: 1, atMs: now + 260 });
    await recorder.flushed();
  });

  afterAll(async () => {
    recorder.stop();
    await plane.close();
    await node.close();
  });

  async function run(
    command: typeof auditCommand,
    argv: string[],
    signal?: AbortSignal,
    out: string[] = [],
  ): Promise<{ code: number; out: string[]; err: string[] }> {
    const err: string[] = [];
    const code = await command([...argv, '--endpoints', node.server.address], {
      out: (line) => out.push(line),
      err: (line) => err.push(line),
      ...(signal === undefined ? {} : { signal }),
    });
    return { code, out, err };
  }

  it('lists the records as text and as JSON, from a seq on', async () => {
    const text = await run(auditCommand, []);
    expect(text.code).toBe(0);
    const writer = String.raw`\S+Z {2}n4/e\d+ {2}`;
    expect(text.out).toEqual(
      [
        String.raw`1 {2}${writer}term: node 4 holds the reconciler seat \(lease 2a\)`,
        `2 {2}${writer}emitted #1 PullReplica chain=orders node=2 source=1`,
        `3 {2}${writer}queued #1`,
        `4 {2}${writer}deferred #1: pull cooldown of orders`,
        `5 {2}${writer}dispatched #1`,
        `6 {2}${writer}completed #1`,
      ].map((pattern) => expect.stringMatching(new RegExp(`^${pattern}$`))),
    );
    const json = await run(auditCommand, ['--json', '--from', '5']);
    expect(json.out.map((line) => (JSON.parse(line) as AuditRecord).seq)).toEqual([5, 6]);
  });

  it('shows each action with its state and queue latency', async () => {
    const json = await run(actionsCommand, ['--json']);
    const report = JSON.parse(json.out[0]!) as { actions: Array<Record<string, unknown>> };
    expect(report.actions).toEqual([
      expect.objectContaining({ id: 1, state: 'done', queueLatencyMs: 251, deferrals: 1 }),
    ]);
    const text = await run(actionsCommand, []);
    expect(text.out[0]).toMatch(/^EPOCH +ID +STATE +QUEUED +LATENCY +DEFERRALS +ACTION +REASON$/);
    expect(text.out[1]).toMatch(
      / done .* 251ms +1 +PullReplica chain=orders node=2 source=1 +pull cooldown of orders$/,
    );
    expect(text.out[2]).toBe('done 1; queue latency: p50 251ms, p99 251ms, max 251ms over 1');
  });

  it('verify exits 0 on an intact chain and 1 naming the first changed record', async () => {
    const intact = await run(auditCommand, ['verify']);
    expect(intact.code).toBe(0);
    expect(intact.out[0]).toMatch(/^audit chain intact: records 1\.\.6, head [0-9a-f]{64}$/);
    const head = intact.out[0]!.split(' ').pop()!;
    expect((await run(auditCommand, ['verify', '--expect', `6:${head}`])).code).toBe(0);
    const other = await run(auditCommand, ['verify', '--expect', `6:${'0'.repeat(64)}`]);
    expect(other.code).toBe(1);
    expect(other.err[0]).toMatch(/^audit chain broken at record 6 \(rewritten\): /);
    const key = auditKey(3);
    const stored = (await plane.get(key))!;
    const record = JSON.parse(new TextDecoder().decode(stored.value)) as AuditRecord;
    await plane.put(key, encodeRecord(key, { ...record, atWallMs: record.atWallMs - 60_000 }));
    const broken = await run(auditCommand, ['verify']);
    expect(broken.code).toBe(1);
    expect(broken.err[0]).toMatch(/^audit chain broken at record 3 \(changed\): /);
    const json = await run(auditCommand, ['verify', '--json']);
    expect(JSON.parse(json.out[0]!)).toMatchObject({ ok: false, problem: { kind: 'changed', seq: 3 } });
    await plane.put(key, stored.value);
    expect((await run(auditCommand, ['verify'])).code).toBe(0);
  });

  it('follows new records until asked to stop', async () => {
    const stop = new AbortController();
    const lines: string[] = [];
    const following = run(auditCommand, ['--follow', '--from', '6', '--json'], stop.signal, lines);
    recorder.record({ type: 'queued', id: 2, atMs: clock.nowMs() });
    await until(() => lines.length === 2, 'follow to print records 6 and 7');
    stop.abort();
    expect((await following).code).toBe(0);
    expect(lines.map((line) => (JSON.parse(line) as AuditRecord).seq)).toEqual([6, 7]);
  });

  it('refuses a bad command line with a usage error', async () => {
    expect((await run(auditCommand, ['--from', 'x'])).code).toBe(2);
    expect((await run(auditCommand, ['verify', 'extra'])).code).toBe(2);
    expect((await run(auditCommand, ['list'])).code).toBe(2);
    expect((await run(actionsCommand, ['--follow'])).code).toBe(2);
    expect((await run(auditCommand, ['verify', '--expect', '5:abc'])).code).toBe(2);
    expect(parseExpectation(`7:${'a'.repeat(64)}`)).toEqual({ seq: 7, hash: 'a'.repeat(64) });
    expect(() => parseExpectation(`0:${'a'.repeat(64)}`)).toThrow(UsageError);
  });
});
