/**
 * The client port over TLS with client certificate auth on three real nodes (`--cert-file`,
 * `--key-file`, `--trusted-ca-file`, `--client-cert-auth`): etcdctl and the `meshos` CLI with a
 * client certificate from `meshos certs client` put and get through every node; etcdctl without
 * a certificate and a plaintext client are refused, and each refusal is counted in `/metrics`; a
 * worker reaches the voters through `--control-plane-cacert/-cert/-key` and joins the mesh.
 */
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../support/until.js';
import { etcdctl } from './etcdctl.js';
import { exitCode, meshos } from './meshos-process.js';
import { CLUSTER_ID, ProcessCluster } from './process-cluster.js';
import { meshosNodes, WorkerProcesses } from './worker-processes.js';

const STARTUP_TIMEOUT_MS = 90_000;
const CLI_TIMEOUT_MS = 30_000;
const REFUSED_TIMEOUT_MS = 30_000;
/** A refused etcdctl gives up after this, well inside the helper's own timeout. */
const REFUSED_ETCDCTL_FLAGS = ['--dial-timeout=2s', '--command-timeout=4s'];

let cluster: ProcessCluster;
let clientFlags: { cacert: string; cert: string; key: string };

beforeAll(async () => {
  cluster = await ProcessCluster.create(3, {
    argumentsOf: (plan, certificates) => [
      '--cert-file',
      path.join(certificates, `node-${plan.id}.pem`),
      '--key-file',
      path.join(certificates, `node-${plan.id}-key.pem`),
      '--trusted-ca-file',
      path.join(certificates, 'ca.pem'),
      '--client-cert-auth',
    ],
  });
  const clients = path.join(cluster.root, 'clients');
  const issued = meshos(['certs', 'client', 'alice', '--dir', cluster.certificates, '--out', clients]);
  expect(await exitCode(issued, CLI_TIMEOUT_MS), issued.output()).toBe(0);
  clientFlags = {
    cacert: path.join(cluster.certificates, 'ca.pem'),
    cert: path.join(clients, 'client-alice.pem'),
    key: path.join(clients, 'client-alice-key.pem'),
  };
  cluster.startAll();
  await cluster.waitForLeader(STARTUP_TIMEOUT_MS);
}, STARTUP_TIMEOUT_MS + 30_000);

afterAll(async () => {
  await cluster?.stopAll();
});

const etcdctlTls = (): string[] => [
  `--cacert=${clientFlags.cacert}`,
  `--cert=${clientFlags.cert}`,
  `--key=${clientFlags.key}`,
];

/** node `id`'s count of client TLS refusals for `reason`, read from its `/metrics`. */
async function refusals(id: number, reason: string): Promise<number> {
  const metrics = await (await fetch(`http://${cluster.plan(id).admin}/metrics`)).text();
  const line = metrics
    .split('\n')
    .find((text) => text.startsWith(`meshos_client_tls_refused_connections{reason="${reason}"}`));
  return Number(line?.split(' ')[1] ?? Number.NaN);
}

describe('client TLS with client certificate auth on three nodes', () => {
  it('serves etcdctl with a client certificate through every node', async () => {
    await etcdctl(cluster.clientEndpoints, [...etcdctlTls(), 'put', 'tls/greeting', 'hello']);
    for (const endpoint of cluster.clientEndpoints) {
      const got = await etcdctl([endpoint], [...etcdctlTls(), 'get', 'tls/greeting', '--print-value-only']);
      expect(got.trim()).toBe('hello');
    }
    const status = await etcdctl(cluster.clientEndpoints, [...etcdctlTls(), 'endpoint', 'status']);
    expect(status.trim().split('\n')).toHaveLength(3);
  }, 120_000);

  it('refuses etcdctl without a client certificate and counts the refusal', async () => {
    const id = 2;
    const before = await refusals(id, 'no_certificate');
    await expect(
      etcdctl(
        [cluster.plan(id).client],
        [`--cacert=${clientFlags.cacert}`, ...REFUSED_ETCDCTL_FLAGS, 'get', 'tls/greeting'],
      ),
    ).rejects.toThrow(/deadline exceeded|connection|handshake|transport/i);
    await until(
      async () => (await refusals(id, 'no_certificate')) > before,
      'the refusal counted',
      REFUSED_TIMEOUT_MS,
    );
  }, 120_000);

  it('refuses a plaintext client and counts the failed handshake', async () => {
    const id = 3;
    const before = await refusals(id, 'handshake');
    await expect(
      etcdctl([cluster.plan(id).client], [...REFUSED_ETCDCTL_FLAGS, 'get', 'tls/greeting']),
    ).rejects.toThrow(/deadline exceeded|connection|transport/i);
    await until(
      async () => (await refusals(id, 'handshake')) > before,
      'the refusal counted',
      REFUSED_TIMEOUT_MS,
    );
  }, 120_000);

  it('serves the meshos CLI with --cacert, --cert and --key', async () => {
    const tls = ['--cacert', clientFlags.cacert, '--cert', clientFlags.cert, '--key', clientFlags.key];
    const endpoints = cluster.clientEndpoints.join(',');
    const put = meshos(['kv', 'put', 'tls/cli', 'from-meshos', '--endpoints', endpoints, ...tls]);
    expect(await exitCode(put, CLI_TIMEOUT_MS), put.output()).toBe(0);
    const got = meshos(['kv', 'get', 'tls/cli', '--endpoints', `https://${cluster.plan(3).client}`, ...tls]);
    expect(await exitCode(got, CLI_TIMEOUT_MS), got.output()).toBe(0);
    expect(got.output()).toContain('from-meshos');
    const refused = meshos([
      'kv',
      'get',
      'tls/cli',
      '--endpoints',
      endpoints,
      '--cacert',
      clientFlags.cacert,
    ]);
    expect(await exitCode(refused, CLI_TIMEOUT_MS)).toBe(1);
  }, 120_000);

  it('lets a worker with a client certificate use the voters as its control plane', async () => {
    const workers = new WorkerProcesses({
      root: cluster.root,
      clusterId: CLUSTER_ID,
      certificates: cluster.certificates,
      controlPlane: cluster.clientEndpoints,
      leaseTtlSeconds: 5,
      commonArguments: [
        '--control-plane-cacert',
        clientFlags.cacert,
        '--control-plane-cert',
        clientFlags.cert,
        '--control-plane-key',
        clientFlags.key,
      ],
    });
    try {
      await workers.add('w1');
      // Its id is allocated, and its record written, through the voters' TLS client ports.
      const id = await workers.nodeId('w1');
      await until(
        async () => (await meshosNodes([cluster.plan(1).admin])).some((node) => node.id === id),
        'the worker registered in the mesh',
        STARTUP_TIMEOUT_MS,
      );
    } finally {
      await workers.stopAll();
    }
  }, 180_000);
});
