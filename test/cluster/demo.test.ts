/**
 * `npm start` as a demonstration, end to end with the built CLI: `meshos start-local` on a
 * temporary data folder and free ports brings up three nodes, the counter standby group, the
 * chain and their load (the counter's keys and the chain's offset grow); `meshos demo failover`
 * kills the active's node, reports a gap and no lost or doubly counted event, and the launcher
 * starts the node again; Ctrl-C (SIGTERM) stops everything, no node process left. A second start
 * on the same folder reuses the group and the chain.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FailoverReport } from '../../src/cli/demo/failover.js';
import { DEMO_CHAIN_NAME, DEMO_COUNTER_NAME } from '../../src/cli/demo/sample-app.js';
import { localClusterPlan } from '../../src/cli/local-cluster.js';
import {
  localClusterRecordPath,
  processIsRunning,
  readLocalClusterRecord,
} from '../../src/cli/local-cluster-record.js';
import { MeshClient } from '../../src/client/index.js';
import { decodeCounterState } from '../../src/daemons/index.js';
import { freePortBlock } from '../support/free-ports.js';
import { until } from '../support/until.js';
import { exitCode, killAll, meshos, type Running, waitForOutput } from './meshos-process.js';

/** Cluster start, deploy and the first events, on a loaded 2-core machine. */
const DEMO_UP_TIMEOUT_MS = 180_000;
/** The failover demo's own deadlines add up to about 4 minutes in the worst case. */
const FAILOVER_TIMEOUT_MS = 300_000;
const STOP_TIMEOUT_MS = 60_000;

/** Ports of the default plan relative to node 1's client port, for `--base-port`. */
function portOffsets(): number[] {
  const plans = localClusterPlan('unused');
  const base = Number(plans[0]!.client.split(':')[1]);
  return plans.flatMap((plan) =>
    [plan.client, plan.peer, plan.admin].map((address) => Number(address.split(':')[1]) - base),
  );
}

describe('npm start (meshos start-local) and meshos demo failover', () => {
  const running: Running[] = [];
  let client: MeshClient | undefined;
  let root = '';
  afterEach(async () => {
    client?.close();
    await killAll(running);
    if (root !== '') {
      // A launcher killed by the test leaves its nodes: they are in the record.
      const nodes = existsSync(localClusterRecordPath(root)) ? readLocalClusterRecord(root).nodes : [];
      for (const node of nodes) if (processIsRunning(node.pid)) process.kill(node.pid, 'SIGKILL');
      await rm(root, { recursive: true, force: true });
    }
  });

  async function startLocal(basePort: number): Promise<Running> {
    const launcher = meshos(['start-local', '--data', root, '--base-port', String(basePort)]);
    running.push(launcher);
    await waitForOutput(launcher, /^load: /m, DEMO_UP_TIMEOUT_MS);
    return launcher;
  }

  /** SIGTERM (as Ctrl-C) and a clean exit; no node process of the record is left. */
  async function stopLocal(launcher: Running): Promise<void> {
    launcher.child.kill('SIGTERM');
    expect(await exitCode(launcher, STOP_TIMEOUT_MS), launcher.output()).toBe(0);
    expect(launcher.output()).toMatch(/^stopped$/m);
    const record = readLocalClusterRecord(root);
    expect(record.nodes.map((node) => processIsRunning(node.pid))).toEqual([false, false, false]);
  }

  it('demo failover without a local cluster in the data folder exits 1 naming LOCAL_CLUSTER_UNKNOWN', async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'meshos-demo-'));
    const failover = meshos(['demo', 'failover', '--data', root]);
    running.push(failover);
    expect(await exitCode(failover, STOP_TIMEOUT_MS)).toBe(1);
    expect(failover.output()).toMatch(/LOCAL_CLUSTER_UNKNOWN: .*local-cluster\.json/);
  });

  it(
    'runs the cluster, the counter group, the chain and its load; fails over losing nothing; restarts on the same data',
    async () => {
      root = await mkdtemp(path.join(os.tmpdir(), 'meshos-demo-'));
      const basePort = await freePortBlock(portOffsets());
      const launcher = await startLocal(basePort);
      expect(launcher.output()).toMatch(/demo: 'counter' \(deployed\)/);
      expect(launcher.output()).toMatch(/Deck: http:\/\/127\.0\.0\.1:\d+\/deck/);
      const record = readLocalClusterRecord(root);
      expect(record.nodes.every((node) => processIsRunning(node.pid))).toBe(true);

      client = await MeshClient.connect({ endpoints: record.nodes.map((node) => node.client) });
      const counted = async (): Promise<number> =>
        decodeCounterState((await client!.daemons.state(DEMO_COUNTER_NAME)).state).events;
      const chainEnd = async (): Promise<number> =>
        (await client!.chains.status(DEMO_CHAIN_NAME)).commitOffset;
      const firstCount = await counted();
      const firstEnd = await chainEnd();
      await until(
        async () => (await counted()) >= firstCount + 6 && (await chainEnd()) >= firstEnd + 6,
        'the load to count events and append to the chain',
        DEMO_UP_TIMEOUT_MS,
      );
      const keys = decodeCounterState((await client.daemons.state(DEMO_COUNTER_NAME)).state).keys ?? {};
      expect(Object.keys(keys)).toEqual(['sensor-1', 'sensor-2', 'sensor-3']);

      const failover = meshos(['demo', 'failover', '--data', root, '--json']);
      running.push(failover);
      const code = await exitCode(failover, FAILOVER_TIMEOUT_MS);
      const report = JSON.parse(failover.output().trim().split('\n').at(-1) ?? '{}') as FailoverReport;
      expect(code, failover.output()).toBe(0);
      expect(report.ok).toBe(true);
      expect(report.lost).toBe(0);
      expect(report.duplicated).toBe(0);
      expect(report.acknowledged).toBeGreaterThanOrEqual(20);
      expect(report.countedAfter - report.countedBefore).toBe(report.acknowledged);
      expect(report.gapMs).toBeGreaterThan(0);
      expect(report.epochAfter).toBeGreaterThan(report.epochBefore);
      expect(report.promotedNode).not.toBe(report.killedNode);
      expect(report.rejoined).toBe(true);
      expect(launcher.output()).toContain(`n${report.killedNode} exited (SIGKILL); starting it again`);
      const restarted = readLocalClusterRecord(root).nodes.find((node) => node.id === report.killedNode);
      expect(restarted?.pid).toBe(report.restartedPid);
      expect(processIsRunning(restarted?.pid ?? 0)).toBe(true);
      console.log(
        `demo failover: gap ${report.gapMs} ms, rejoined after ${report.rejoinMs} ms, load average ${report.loadAverage}`,
      );

      client.close();
      client = undefined;
      await stopLocal(launcher);

      const again = await startLocal(basePort);
      expect(again.output()).toMatch(/demo: 'counter' \(already deployed\).*chain 'demo\.events' \(reused/);
      await stopLocal(again);
    },
    FAILOVER_TIMEOUT_MS + 3 * DEMO_UP_TIMEOUT_MS,
  );
});
