/**
 * `meshos node avoid` on real processes: four voters; an operator avoids node 4 for 90 s (longer
 * than a slow peer's 60 s mark, which would otherwise stand for it) with a reason. The reconciler marks it (`MarkAvoid` with the operator's reason, done in `meshos
 * actions`), `node avoid list` shows it marked, and a standby group of 3 deployed then is placed on
 * the three other nodes. `node avoid clear` ends it at once (the list is empty again); a request
 * with a 2 s TTL expires by itself. Bad requests are refused with their codes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AvoidListEntry } from '../../src/mesh/index.js';
import { until } from '../support/until.js';
import { type DaemonCluster, startDaemonCluster } from './daemon-cluster.js';
import { exitCode, meshos } from './meshos-process.js';

const CALL_TIMEOUT_MS = 5_000;
const CLUSTER_TIMEOUT_MS = 90_000;
const CLI_TIMEOUT_MS = 30_000;
const SHORT_TTL_SECONDS = 2;

describe('meshos node avoid', () => {
  let mesh: DaemonCluster | undefined;
  afterEach(async () => {
    await mesh?.stop();
    mesh = undefined;
  });

  async function cli(args: readonly string[]): Promise<{ code: number | null; output: string }> {
    const running = meshos([...args, '--endpoints', mesh!.cluster.plan(mesh!.ids[0]!).client]);
    const code = await exitCode(running, CLI_TIMEOUT_MS);
    return { code, output: running.output() };
  }

  async function avoidList(): Promise<AvoidListEntry[]> {
    const result = await cli(['node', 'avoid', 'list', '--json']);
    expect(result.code).toBe(0);
    return JSON.parse(result.output) as AvoidListEntry[];
  }

  /**
   * The entries an operator made: requests, and the reconciler's marks of them. (On a loaded
   * machine the reconciler also marks slow peers, RTT medians of 600 ms seen: those stay.)
   */
  async function operatorEntries(): Promise<AvoidListEntry[]> {
    return (await avoidList()).filter(
      (entry) => entry.source === 'operator' || entry.reason.startsWith('operator: '),
    );
  }

  it('keeps placement off an avoided node until cleared; a request expires at its TTL; the reconciler records MarkAvoid', async () => {
    mesh = await startDaemonCluster(4);
    const avoided = mesh.ids[3]!;
    const asked = await cli(['node', 'avoid', String(avoided), '--ttl', '90s', '--reason', 'disk swap']);
    expect(asked.code, asked.output).toBe(0);
    expect(asked.output).toContain(`node ${avoided}: avoided until`);
    await until(
      async () =>
        (await avoidList()).some(
          (entry) => entry.node === avoided && entry.source === 'operator' && entry.marked === true,
        ),
      'the request marked by the reconciler',
      CLUSTER_TIMEOUT_MS,
    );
    const status = await mesh.deploy(mesh.ids[0]!, 'guarded', 'journal', 'GROUP_STANDBY', 3, CALL_TIMEOUT_MS);
    expect(status.members.map((member) => member.node).sort()).toEqual(
      mesh.ids.filter((id) => id !== avoided).sort(),
    );
    const actions = await cli(['actions', '--json']);
    const marks = (
      JSON.parse(actions.output) as {
        actions: { state: string; action?: { kind: string; peer?: number; reason?: string } }[];
      }
    ).actions.filter((view) => view.action?.kind === 'MarkAvoid' && view.action.peer === avoided);
    expect(marks.some((view) => view.state === 'done' && view.action?.reason === 'operator: disk swap')).toBe(
      true,
    );

    const cleared = await cli(['node', 'avoid', 'clear', String(avoided)]);
    expect(cleared.code, cleared.output).toBe(0);
    expect(await operatorEntries()).toEqual([]);

    const short = await cli([
      'node',
      'avoid',
      String(avoided),
      '--ttl',
      `${SHORT_TTL_SECONDS}s`,
      '--reason',
      'short',
    ]);
    expect(short.code, short.output).toBe(0);
    await until(
      async () => (await avoidList()).length === 0,
      'the short request expired',
      CLUSTER_TIMEOUT_MS,
    );

    const badTtl = await cli(['node', 'avoid', String(avoided), '--ttl', '10ms', '--reason', 'x']);
    expect(badTtl.code).not.toBe(0);
    expect(badTtl.output).toContain('AVOID_REQUEST_INVALID');
    const noReason = await cli(['node', 'avoid', String(avoided), '--ttl', '10s']);
    expect(noReason.code).not.toBe(0);
    expect(noReason.output).toContain('--reason');
  }, 300_000);
});
