/**
 * The audit chain as the running reconciler writes it, on four real `meshos start` voters with
 * `--daemon-repair-grace-ms 1000` and a 3-member journal standby group:
 *
 * - a node other than the reconciler's, running a member, is killed with -9: the reconciler
 *   re-places the member and records it (term, emitted StartDaemon, queued, dispatched,
 *   completed);
 * - the killed node is restarted, then the reconciler's own node is killed with -9: another node
 *   takes the seat and its term continues the chain from the head (`meshos audit --follow`,
 *   started before, prints that term's records; its `/status` shows the recorder);
 * - `meshos audit verify` passes through a surviving node, `meshos audit --json` lists two terms
 *   of two nodes, `meshos actions --json` tells each re-placement done with its queue latency;
 * - a record changed with etcdctl makes `audit verify` exit 1 naming it; put back, verify passes
 *   again; a record deleted with etcdctl is reported missing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { fetchStatus } from '../../src/cli/admin-json.js';
import {
  auditKey,
  type ControlPlane,
  DEFAULT_CONTROL_ROOT,
  openControlPlane,
  RECONCILER_KEY,
} from '../../src/control/index.js';
import type { AuditRecord } from '../../src/mesh/index.js';
import { until } from '../support/until.js';
import { eventually } from './chain-cluster.js';
import { type DaemonCluster, startDaemonCluster } from './daemon-cluster.js';
import { etcdctl } from './etcdctl.js';
import { exitCode, meshos, type Running } from './meshos-process.js';

const DAEMON = 'ledger';
const REPAIR_GRACE_MS = 1_000;
const CALL_TIMEOUT_MS = 5_000;
const CLUSTER_TIMEOUT_MS = 90_000;
const CLI_TIMEOUT_MS = 30_000;

describe('the audit chain of the running reconciler', () => {
  let mesh: DaemonCluster | undefined;
  let plane: ControlPlane | undefined;
  let follow: Running | undefined;
  afterEach(async () => {
    if (follow?.child.exitCode === null) follow.child.kill('SIGKILL');
    await plane?.close();
    await mesh?.stop();
  });

  async function cli(id: number, args: string[]): Promise<{ code: number | null; output: string }> {
    const running = meshos([...args, '--endpoints', mesh!.cluster.plan(id).client]);
    const code = await exitCode(running, CLI_TIMEOUT_MS);
    return { code, output: running.output() };
  }

  async function cliJson<T>(id: number, args: string[]): Promise<T> {
    const result = await cli(id, [...args, '--json']);
    if (result.code !== 0)
      throw new Error(`meshos ${args.join(' ')} exited ${result.code}: ${result.output}`);
    return JSON.parse(result.output) as T;
  }

  /** The node holding the reconciler seat, as the seat key says. */
  async function holder(): Promise<number | undefined> {
    const seat = await plane!.get(RECONCILER_KEY);
    return seat === undefined
      ? undefined
      : (JSON.parse(new TextDecoder().decode(seat.value)) as { node: number }).node;
  }

  /** Waits until the daemon has 3 healthy members, none on `gone`; answers their nodes. */
  async function wholeWithout(gone: number, nodes: readonly number[]): Promise<number[]> {
    let members: number[] = [];
    await mesh!.awaitStatus(
      DAEMON,
      nodes,
      `${DAEMON} whole without node ${gone}`,
      CLUSTER_TIMEOUT_MS,
      (status) => {
        members = status.members.map((member) => member.node);
        return (
          status.members.length === 3 &&
          status.members.every((member) => member.node !== gone && member.healthy)
        );
      },
    );
    return members;
  }

  it('records re-placements of two terms, verifies, follows, and catches a tampered record', async () => {
    mesh = await startDaemonCluster(4, {
      nodeArguments: ['--daemon-repair-grace-ms', String(REPAIR_GRACE_MS)],
    });
    const { cluster, ids } = mesh;
    plane = await openControlPlane({ kind: 'etcd', endpoints: cluster.clientEndpoints });
    await eventually(`deploy ${DAEMON}`, () =>
      mesh!.client(ids[0]!).deploy(DAEMON, 'journal', 'GROUP_STANDBY', 3, CALL_TIMEOUT_MS),
    );
    const first = await eventually('a reconciler', holder, CLUSTER_TIMEOUT_MS);
    const placed = (await mesh.statusVia(DAEMON, ids, CALL_TIMEOUT_MS))!.members.map((member) => member.node);
    const victim = placed.find((node) => node !== first)!;

    // Term 1: the reconciler re-places the member of a killed node.
    await cluster.kill(victim);
    const afterFirst = await wholeWithout(
      victim,
      ids.filter((id) => id !== victim),
    );
    // Three live nodes, three members: the reconciler's node runs one now.
    expect(afterFirst).toContain(first);
    const firstVerify = await cliJson<{ ok: boolean; headSeq: number }>(first, ['audit', 'verify']);
    expect(firstVerify.ok).toBe(true);

    // Term 2: the victim comes back, the reconciler's node is killed; another takes the seat.
    cluster.start(victim);
    const bystander = ids.find((id) => id !== first && id !== victim)!;
    follow = meshos([
      'audit',
      '--follow',
      '--from',
      String(firstVerify.headSeq + 1),
      '--endpoints',
      cluster.plan(bystander).client,
    ]);
    await cluster.kill(first);
    const survivors = ids.filter((id) => id !== first);
    await wholeWithout(first, survivors);
    const second = await eventually('another reconciler', async () => {
      const node = await holder();
      return node === undefined || node === first ? undefined : node;
    });
    await until(
      () => new RegExp(`term: node ${second} holds the reconciler seat`).test(follow!.output()),
      `audit --follow to print term 2's first record\n${follow.output()}`,
      CLUSTER_TIMEOUT_MS,
    );
    follow.child.kill('SIGINT');
    expect(await exitCode(follow, CLI_TIMEOUT_MS)).toBe(0);
    // The new holder's /status shows its recorder: writing, nothing dropped.
    const reconcileStatus = (await fetchStatus(cluster.plan(second).admin, CALL_TIMEOUT_MS))?.reconcile as
      | { audit?: { headSeq: number; dropped: number; stopped: boolean } }
      | undefined;
    expect(reconcileStatus?.audit).toMatchObject({ dropped: 0, stopped: false });
    expect(reconcileStatus?.audit?.headSeq).toBeGreaterThan(firstVerify.headSeq);

    const verified = await cli(survivors[0]!, ['audit', 'verify']);
    expect(verified.code, verified.output).toBe(0);
    expect(verified.output).toMatch(/^audit chain intact: records 1\.\.\d+, head [0-9a-f]{64}$/m);
    const listed = await cli(survivors[1]!, ['audit', '--json']);
    expect(listed.code, listed.output).toBe(0);
    const records = listed.output
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as AuditRecord);
    // One term record per term that acted (a seat lost under load would add one between).
    const terms = records.filter((record) => record.entry.type === 'term');
    const [firstTerm, lastTerm] = [terms[0]!, terms[terms.length - 1]!];
    expect([firstTerm.node, lastTerm.node]).toEqual([first, second]);
    for (const [index, term] of terms.entries()) {
      if (index > 0) expect(term.epoch).toBeGreaterThan(terms[index - 1]!.epoch);
      expect(term.leaseId).toBeGreaterThan(0);
    }
    // The last term linked its first record to the head the one before it left.
    const beforeLast = records[records.indexOf(lastTerm) - 1]!;
    expect(lastTerm.prev).toBe(beforeLast.hash);
    expect(beforeLast.epoch).toBeLessThan(lastTerm.epoch);

    const actions = await cliJson<{
      actions: {
        epoch: number;
        state: string;
        action?: { kind: string; node: number };
        queueLatencyMs?: number;
      }[];
    }>(survivors[2]!, ['actions']);
    const replacements = actions.actions.filter(
      (view) => view.state === 'done' && view.action?.kind === 'StartDaemon',
    );
    const replacedIn = new Set(replacements.map((view) => view.epoch));
    expect(replacedIn.has(firstTerm.epoch) && replacedIn.has(lastTerm.epoch)).toBe(true);
    for (const view of replacements) expect(view.queueLatencyMs).toBeGreaterThanOrEqual(0);
    console.log(
      `audit: ${records.length} records in ${terms.length} terms (nodes ${terms.map((term) => term.node).join(', ')}); re-placements' queue latency: ${replacements.map((view) => `${view.queueLatencyMs} ms`).join(', ')}`,
    );

    // Tamper with etcdctl: where the first re-placement was made to.
    const endpoints = survivors.map((id) => cluster.plan(id).client);
    const emitted = records.find((record) => record.entry.type === 'emitted')!;
    const key = `${DEFAULT_CONTROL_ROOT}${auditKey(emitted.seq)}`;
    const original = (await etcdctl(endpoints, ['get', key, '--print-value-only'])).trim();
    expect(JSON.parse(original)).toEqual(emitted);
    await etcdctl(endpoints, [
      'put',
      key,
      original.replace(/"node":(\d+)/, (_, node) => `"node":${Number(node) + 1}`),
    ]);
    const tampered = await cli(survivors[0]!, ['audit', 'verify']);
    expect(tampered.code).toBe(1);
    expect(tampered.output).toContain(`audit chain broken at record ${emitted.seq} (changed)`);
    const tamperedJson = await cli(survivors[1]!, ['audit', 'verify', '--json']);
    expect(tamperedJson.code).toBe(1);
    expect(JSON.parse(tamperedJson.output)).toMatchObject({
      ok: false,
      problem: { kind: 'changed', seq: emitted.seq },
    });

    // Put back, the chain verifies again; a record deleted is missing.
    await etcdctl(endpoints, ['put', key, original]);
    expect((await cli(survivors[2]!, ['audit', 'verify'])).code).toBe(0);
    await etcdctl(endpoints, ['del', `${DEFAULT_CONTROL_ROOT}${auditKey(emitted.seq + 1)}`]);
    const missing = await cli(survivors[0]!, ['audit', 'verify', '--json']);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.output)).toMatchObject({
      ok: false,
      problem: { kind: 'missing', seq: emitted.seq + 1 },
    });
  }, 420_000);
});
