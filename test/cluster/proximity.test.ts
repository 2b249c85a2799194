/**
 * The proximity graph across real processes: 3 voters and a worker ping each other, publish their
 * rows, and `meshos mesh rtt --json` (any node's admin port) shows every pair measured and healthy;
 * after kill -9 of a voter, every other node's row marks it unhealthy.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { fetchAdminJson } from '../../src/cli/admin-json.js';
import type { RttReport } from '../../src/mesh/index.js';
import { until } from '../support/until.js';
import { ProcessCluster } from './process-cluster.js';
import { WorkerProcesses } from './worker-processes.js';

const MAIN_SCRIPT = path.resolve('dist/src/cli/main.js');
const LEASE_TTL_SECONDS = 5;
/** Generous: the machine is shared, and three processes start at once. */
const START_TIMEOUT_MS = 60_000;
/** Pings and a row write or two, on a machine shared with other test runs. */
const MEASURED_TIMEOUT_MS = 20_000;
const TEST_TIMEOUT_MS = 180_000;

/** `meshos mesh rtt --json --admin ADMIN` run as its own process, parsed. */
async function meshRtt(admin: string): Promise<RttReport> {
  const { stdout } = await promisify(execFile)(process.execPath, [
    MAIN_SCRIPT,
    'mesh',
    'rtt',
    '--json',
    '--admin',
    admin,
  ]);
  return JSON.parse(stdout) as RttReport;
}

/** Whether every node of `nodes` has a fresh row with every other measured and healthy. */
function everyPairHealthy(report: RttReport, nodes: readonly number[]): boolean {
  return nodes.every((node) => {
    const row = report.rows.find((candidate) => candidate.node === node);
    if (row === undefined || !row.fresh) return false;
    return nodes
      .filter((other) => other !== node)
      .every((other) => {
        const peer = row.peers.find((candidate) => candidate.node === other);
        return peer?.healthy === true && peer.rttMs !== undefined && peer.rttMs >= 0;
      });
  });
}

describe('the proximity graph across processes', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  });

  it(
    '3 voters and a worker: every pair measured and healthy; a killed voter is marked unhealthy by the rest',
    async () => {
      const cluster = await ProcessCluster.create(3);
      cleanups.push(() => cluster.stopAll());
      cluster.startAll();
      const leader = await cluster.waitForLeader(START_TIMEOUT_MS);
      const workers = WorkerProcesses.onVoters(cluster, { leaseTtlSeconds: LEASE_TTL_SECONDS });
      cleanups.push(() => workers.stopAll());
      await workers.add('w1');
      const worker = await workers.nodeId('w1');
      const nodes = [1, 2, 3, worker];

      let report: RttReport | undefined;
      for (const admin of [cluster.plan(1).admin, workers.plan('w1').admin]) {
        await until(
          async () => {
            report = await meshRtt(admin);
            return everyPairHealthy(report, nodes);
          },
          `every pair measured and healthy as ${admin} sees it: ${JSON.stringify(report)}`,
          MEASURED_TIMEOUT_MS,
        );
      }
      // Loopback round trips: well under a second.
      for (const row of report?.rows ?? [])
        for (const peer of row.peers) expect(peer.rttMs).toBeLessThan(1_000);

      const victim = [1, 2, 3].find((id) => id !== leader) ?? 3;
      const survivors = nodes.filter((node) => node !== victim);
      const observer = cluster.plan(survivors.find((node) => node !== worker) ?? leader).admin;
      await cluster.kill(victim);
      const killedAt = Date.now();
      // Polled over HTTP (not a CLI process per look): the marks show until the victim's lease
      // ends and membership drops it from the rows.
      await until(
        async () => {
          report = (await fetchAdminJson(observer, '/mesh/rtt', 1_000)) as RttReport | undefined;
          return survivors.every((node) => {
            const row = report?.rows.find((candidate) => candidate.node === node);
            return row?.fresh === true && row.peers.find((peer) => peer.node === victim)?.healthy === false;
          });
        },
        `every survivor marks node ${victim} unhealthy: ${JSON.stringify(report)}`,
        MEASURED_TIMEOUT_MS,
      );
      const markedAfterMs = Date.now() - killedAt;
      // The survivors still see each other healthy.
      expect(everyPairHealthy(report as RttReport, survivors)).toBe(true);
      const victimMetrics = await (await fetch(`http://${observer}/metrics`)).text();
      expect(victimMetrics).toMatch(new RegExp(`meshos_peer_healthy\\{peer="${victim}"\\} 0`));
      console.log(
        `proximity: node ${victim} marked unhealthy by every survivor ${markedAfterMs} ms after kill -9`,
      );
      // Once its lease ends, its own row goes and the others stop pinging it.
      await until(
        async () => {
          const rows = (await meshRtt(observer)).rows;
          return (
            rows.every((row) => row.node !== victim && row.peers.every((peer) => peer.node !== victim)) &&
            rows.length === survivors.length
          );
        },
        `node ${victim} gone from the matrix`,
        LEASE_TTL_SECONDS * 1_000 + MEASURED_TIMEOUT_MS,
      );

      const metrics = await (await fetch(`http://${observer}/metrics`)).text();
      expect(metrics).toMatch(new RegExp(`meshos_peer_rtt_seconds\\{peer="${worker}"\\} \\d`));
      expect(metrics).toMatch(new RegExp(`meshos_peer_healthy\\{peer="${worker}"\\} 1`));
    },
    TEST_TIMEOUT_MS,
  );
});
