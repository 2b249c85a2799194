/**
 * The etcd API served by a real three-node MeshOS cluster (in one process, on loopback):
 * the npm etcd3 client and etcdctl against every node, followers included, so writes go
 * through forwarding and reads through ReadIndex.
 */
import { execFile } from 'node:child_process';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatAddress } from '../../src/lib/index.js';
import type { MeshNode } from '../../src/mesh/index.js';
import { type ConformanceCluster, startConformanceCluster } from './cluster.js';

const COMMAND_TIMEOUT_MS = 10_000;

function etcdctl(endpoint: string, args: readonly string[]): Promise<{ stdout: string; exitCode: number }> {
  return new Promise((resolve, reject) => {
    execFile(
      'etcdctl',
      [`--endpoints=${endpoint}`, '--command-timeout=5s', ...args],
      { env: { ...process.env, ETCDCTL_API: '3' }, timeout: COMMAND_TIMEOUT_MS },
      (error, stdout) => {
        if (error !== null && typeof error.code !== 'number')
          reject(new Error(`etcdctl failed to run: ${error.message}`));
        else resolve({ stdout, exitCode: error === null ? 0 : Number(error.code) });
      },
    );
  });
}

describe('etcd API on a three-node MeshOS cluster', () => {
  let cluster: ConformanceCluster;
  let nodes: readonly MeshNode[];
  let client: Etcd3;

  beforeAll(async () => {
    cluster = await startConformanceCluster('conformance');
    nodes = cluster.nodes;
    client = new Etcd3({ hosts: [...cluster.addresses] });
  }, 30_000);

  afterAll(async () => {
    client?.close();
    await cluster?.close();
  });

  function follower(): MeshNode {
    const leaderId = nodes[0]!.leaderInfo().leaderId;
    return nodes.find((node) => node.config.id !== leaderId)!;
  }

  it('writes through a follower and reads the value back from every node', async () => {
    const endpoint = formatAddress(follower().endpoints.client);
    const put = await etcdctl(endpoint, ['put', 'conformance/greeting', 'hello']);
    expect(put).toEqual({ stdout: 'OK\n', exitCode: 0 });
    for (const node of nodes) {
      const got = await etcdctl(formatAddress(node.endpoints.client), ['get', 'conformance/greeting']);
      expect(got.stdout).toBe('conformance/greeting\nhello\n');
    }
  });

  it('answers member list and endpoint status with the cluster the nodes form', async () => {
    const endpoint = formatAddress(nodes[0]!.endpoints.client);
    const members = await etcdctl(endpoint, ['member', 'list', '-w', 'json']);
    const parsed = JSON.parse(members.stdout) as { members: { name: string; clientURLs?: string[] }[] };
    expect(parsed.members.map((member) => member.name).sort()).toEqual([
      'conformance-1',
      'conformance-2',
      'conformance-3',
    ]);
    const status = await etcdctl(endpoint, ['endpoint', 'status', '-w', 'json']);
    const [entry] = JSON.parse(status.stdout) as { Status: { leader: string | number; raft_term: number } }[];
    expect(BigInt(entry!.Status.leader)).toBe(BigInt(nodes[0]!.leaderInfo().leaderId));
  });

  it('runs transactions, leases and watches through the npm etcd3 client', async () => {
    await client.put('conformance/counter').value('1');
    const swapped = await client
      .if('conformance/counter', 'Value', '==', '1')
      .then(client.put('conformance/counter').value('2'))
      .commit();
    expect(swapped.succeeded).toBe(true);
    expect(await client.get('conformance/counter').string()).toBe('2');

    const watcher = await client.watch().key('conformance/watched').create();
    const seen = new Promise<string>((resolve) => watcher.on('put', (kv) => resolve(kv.value.toString())));
    await client.put('conformance/watched').value('event');
    expect(await seen).toBe('event');
    await watcher.cancel();

    const lease = client.lease(5, { autoKeepAlive: false });
    await lease.put('conformance/leased').value('x');
    expect(await client.get('conformance/leased').string()).toBe('x');
    await lease.revoke();
    expect(await client.get('conformance/leased').string()).toBeNull();
  });

  it('keeps exactly the same revision on every node after the writes', async () => {
    await client.put('conformance/final').value('done');
    const revisions = await Promise.all(
      nodes.map(async (node) => {
        const got = await etcdctl(formatAddress(node.endpoints.client), [
          'get',
          'conformance/final',
          '-w',
          'json',
        ]);
        return (JSON.parse(got.stdout) as { header: { revision: number } }).header.revision;
      }),
    );
    expect(new Set(revisions).size).toBe(1);
  });

  it('reports itself on the admin port: metrics, health and readiness', async () => {
    await client.put('conformance/metrics').value('1');
    const leader = nodes.find((node) => node.isLeader())!;
    const metrics = await (await fetch(`http://${formatAddress(leader.endpoints.admin)}/metrics`)).text();
    expect(metrics).toMatch(/^meshos_raft_is_leader 1$/m);
    const proposals = Number(/^meshos_proposals_total (\d+)$/m.exec(metrics)?.[1]);
    expect(proposals).toBeGreaterThan(0);
    expect(metrics).toMatch(/^meshos_wal_persist_seconds_count \d+$/m);
    // The store's syncs and the bytes of its records (segments are preallocated: not their sizes).
    expect(Number(/^meshos_store_fsync_seconds_total ([\d.e-]+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    const written = Number(/^meshos_store_bytes_written (\d+)$/m.exec(metrics)?.[1]);
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(64 * 1024 * 1024);
    // No snapshot yet: the whole log since the start is in memory, the put's entry included.
    const status = leader.raft.status();
    expect(Number(/^meshos_raft_log_entries_in_memory (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(
      status.commit,
    );
    expect(metrics).toMatch(/^meshos_raft_snapshot_bytes_in_memory 0$/m);
    // The event-loop delay is sampled in windows; wait (bounded) for the first one to close.
    const delayMax = /^meshos_event_loop_delay_seconds\{stat="max"\} (\S+)$/m;
    let scraped = metrics;
    for (let attempt = 0; attempt < 50 && !delayMax.test(scraped); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      scraped = await (await fetch(`http://${formatAddress(leader.endpoints.admin)}/metrics`)).text();
    }
    expect(Number(delayMax.exec(scraped)?.[1])).toBeGreaterThan(0);
    expect(scraped).toMatch(/^meshos_event_loop_window_max_delay_seconds_count [1-9]\d*$/m);
    // The leader's own longest synchronous steps: it applied entries and ran Readys.
    const longest = (source: string): number =>
      Number(
        new RegExp(`^meshos_longest_step_seconds\\{source="${source}"\\} (\\S+)$`, 'm').exec(scraped)?.[1],
      );
    expect(longest('ready')).toBeGreaterThan(0);
    expect(longest('apply')).toBeGreaterThan(0);
    expect(scraped).toMatch(/^meshos_long_steps\{source="inline-sync"\} \d+$/m);
    // The same by own time (wall less run-queue wait): never more than the wall time.
    const longestOwn = (source: string): number =>
      Number(
        new RegExp(`^meshos_longest_step_own_seconds\\{source="${source}"\\} (\\S+)$`, 'm').exec(
          scraped,
        )?.[1],
      );
    expect(longestOwn('apply')).toBeGreaterThan(0);
    expect(longestOwn('apply')).toBeLessThanOrEqual(longest('apply'));
    expect(scraped).toMatch(/^meshos_long_own_steps\{source="ready"\} \d+$/m);
    expect(scraped).toMatch(/^meshos_long_own_steps_outside_gc\{source="ready"\} \d+$/m);
    expect(scraped).toMatch(/^meshos_event_loop_window_max_own_delay_seconds_count [1-9]\d*$/m);
    expect(scraped).toMatch(/^meshos_main_thread_run_queue_wait_seconds \S+$/m);
    for (const node of nodes) {
      const admin = `http://${formatAddress(node.endpoints.admin)}`;
      expect((await fetch(`${admin}/health`)).status).toBe(200);
      const ready = await fetch(`${admin}/ready`);
      expect(ready.status).toBe(200);
      expect(((await ready.json()) as { detail: { leaderId: number } }).detail.leaderId).toBe(
        leader.config.id,
      );
    }
  });
});
