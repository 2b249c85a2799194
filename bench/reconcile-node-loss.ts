/**
 * Time from a node's loss to all its daemons serving elsewhere, on three `meshos start`
 * processes (TLS peers, fsync on) started with the shortest daemon repair grace: six `counter`
 * standby groups of 2 members (so every node runs members), one node killed with SIGKILL, and the
 * time until every daemon has 2 healthy members, none on the killed node. That covers the
 * registration lease running out, the promotion of a standby where the killed node held the
 * active, the grace period, and the reconciler re-placing each lost member (which replays its
 * inbound chain). The node is restarted between runs, and each run kills another one.
 */
import { MeshClient } from '../src/client/index.js';
import { MIN_DAEMON_REPAIR_GRACE_MS } from '../src/daemons/cluster-limits.js';
import type { DaemonStatus } from '../src/daemons/index.js';
import { clusterOptionsFromEnvironment, MeshosCluster } from './cluster/meshos-cluster.js';
import { sleep } from './cluster/processes.js';
import { type BenchContext, percentile } from './harness.js';

const DAEMONS = 6;
const MEMBERS = 2;
const RUNS = 3;
const CLUSTER_TIMEOUT_MS = 120_000;
const CALL_TIMEOUT_MS = 2_000;
const POLL_INTERVAL_MS = 50;

const names = Array.from({ length: DAEMONS }, (_, index) => `lost-${index}`);

export async function measureNodeLoss(context: BenchContext): Promise<void> {
  const base = clusterOptionsFromEnvironment();
  const cluster = await MeshosCluster.create({
    ...base,
    startArguments: [
      ...(base.startArguments ?? []),
      '--daemon-repair-grace-ms',
      String(MIN_DAEMON_REPAIR_GRACE_MS),
    ],
  });
  let client: MeshClient | undefined;
  try {
    await cluster.start(CLUSTER_TIMEOUT_MS);
    client = await MeshClient.connect({ endpoints: cluster.endpoints, discoverLeader: false });
    const mesh = client;
    for (const name of names)
      await retry(() =>
        mesh.daemons.deploy(name, {
          kind: 'counter',
          group: 'standby',
          members: MEMBERS,
          timeoutMs: CALL_TIMEOUT_MS,
        }),
      );
    const statuses = async (): Promise<(DaemonStatus | undefined)[]> =>
      Promise.all(
        names.map((name) => mesh.daemons.status(name, { timeoutMs: CALL_TIMEOUT_MS }).catch(() => undefined)),
      );
    const whole = (all: (DaemonStatus | undefined)[], lost: number | undefined) =>
      all.every(
        (status) =>
          status !== undefined &&
          status.members.length === MEMBERS &&
          status.members.every((member) => member.healthy && member.node !== lost),
      );
    await waitFor(async () => whole(await statuses(), undefined), 'every daemon deployed and healthy');
    const wholeMs: number[] = [];
    const promotedMs: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const lost = (run % 3) + 1;
      const index = lost - 1;
      const killedAt = performance.now();
      await cluster.kill(index);
      let promoted: number | undefined;
      await waitFor(async () => {
        const all = await statuses();
        const actives = all.map((status) => status?.members.find((member) => member.role === 'active'));
        if (
          promoted === undefined &&
          actives.every((active) => active !== undefined && active.node !== lost && active.healthy)
        )
          promoted = performance.now() - killedAt;
        return whole(all, lost);
      }, `every daemon whole without node ${lost}`);
      wholeMs.push(performance.now() - killedAt);
      promotedMs.push(promoted ?? Number.NaN);
      await cluster.restart(index, CLUSTER_TIMEOUT_MS);
    }
    for (const [label, values] of [
      ['to every daemon active on a live node', promotedMs],
      ['to all its daemons serving elsewhere (every member re-placed and healthy)', wholeMs],
    ] as const) {
      const sorted = [...values].sort((a, b) => a - b);
      context.record({
        metric: `node loss (kill -9 of 1 of 3, ${DAEMONS} standby groups of ${MEMBERS}, repair grace ${MIN_DAEMON_REPAIR_GRACE_MS} ms) ${label}`,
        median: percentile(sorted, 0.5),
        p99: percentile(sorted, 0.99),
        unit: 'ms',
        samples: RUNS,
      });
    }
  } finally {
    client?.close();
    await cluster.stop();
  }
}

async function retry(call: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + CLUSTER_TIMEOUT_MS;
  for (;;) {
    try {
      await call();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(POLL_INTERVAL_MS);
    }
  }
}

async function waitFor(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + CLUSTER_TIMEOUT_MS;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${CLUSTER_TIMEOUT_MS} ms`);
    await sleep(POLL_INTERVAL_MS);
  }
}
