/**
 * The client port over TLS with client certificate auth on three real nodes (`--cert-file`,
 * `--key-file`, `--trusted-ca-file`, `--client-cert-auth`): etcdctl and the `meshos` CLI with a
 * client certificate from `meshos certs client` put and get through every node; etcdctl without
 * a certificate and a plaintext client are refused, and each refusal is counted in `/metrics`; a
 * worker reaches the voters through `--control-plane-cacert/-cert/-key` and joins the mesh; a
 * port's certificate, key and trusted CA replaced on disk are served without a restart; with auth
 * on, the certificate's common name is the user of a request that carries no token, on the
 * voters and on a worker's port (the worker itself let in as its certificate's user).
 */
import { copyFile, readFile, rename, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeshClient } from '../../src/client/index.js';
import { isMeshError } from '../../src/lib/index.js';
import {
  certificateFiles,
  createClusterCa,
  issueClientCertificate,
  issueNodeCertificate,
} from '../../src/transport/index.js';
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

/** The client port's own copies of a node's certificate files (rotated without touching the peers'). */
const portFiles = (certificates: string, id: number) => ({
  certificate: path.join(certificates, `port-${id}.pem`),
  key: path.join(certificates, `port-${id}-key.pem`),
  trustedCa: path.join(certificates, 'port-trusted-ca.pem'),
});

beforeAll(async () => {
  cluster = await ProcessCluster.create(3, {
    argumentsOf: (plan, certificates) => [
      '--cert-file',
      portFiles(certificates, plan.id).certificate,
      '--key-file',
      portFiles(certificates, plan.id).key,
      '--trusted-ca-file',
      portFiles(certificates, plan.id).trustedCa,
      '--client-cert-auth',
    ],
  });
  for (const plan of cluster.plans) {
    const files = portFiles(cluster.certificates, plan.id);
    await copyFile(certificateFiles.nodeCertificate(cluster.certificates, plan.id), files.certificate);
    await copyFile(certificateFiles.nodeKey(cluster.certificates, plan.id), files.key);
  }
  await copyFile(
    certificateFiles.caCertificate(cluster.certificates),
    portFiles(cluster.certificates, 1).trustedCa,
  );
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

  it('serves a certificate and a trusted CA replaced on disk without a restart', async () => {
    const rotated = path.join(cluster.root, 'rotated');
    await createClusterCa(rotated, 'rotated');
    await issueNodeCertificate(rotated, 1);
    const bob = await issueClientCertificate(rotated, 'bob');
    const rotatedCa = certificateFiles.caCertificate(rotated);
    const files = portFiles(cluster.certificates, 1);
    // Old and new CA trusted at once (a bundle), then the port's new key and certificate, each
    // written beside its target and renamed over it.
    const bundle = `${await readFile(clientFlags.cacert, 'utf8')}${await readFile(rotatedCa, 'utf8')}`;
    const replace = async (target: string, content: string): Promise<void> => {
      await writeFile(`${target}.new`, content);
      await rename(`${target}.new`, target);
    };
    const endpoint = [cluster.plan(1).client];
    const aliceTrustingRotated = [
      `--cacert=${rotatedCa}`,
      `--cert=${clientFlags.cert}`,
      `--key=${clientFlags.key}`,
    ];
    // Before: node 1's certificate is the cluster CA's, which a client trusting only the new CA refuses.
    await expect(
      etcdctl(endpoint, [...aliceTrustingRotated, ...REFUSED_ETCDCTL_FLAGS, 'get', 'tls/greeting']),
    ).rejects.toThrow();
    await replace(files.trustedCa, bundle);
    await replace(files.key, await readFile(certificateFiles.nodeKey(rotated, 1), 'utf8'));
    await replace(files.certificate, await readFile(certificateFiles.nodeCertificate(rotated, 1), 'utf8'));
    // Node 1 now proves itself with the rotated CA's certificate, to alice (old CA) and bob (new).
    await until(
      async () =>
        etcdctl(endpoint, [...aliceTrustingRotated, ...REFUSED_ETCDCTL_FLAGS, 'get', 'tls/greeting']).then(
          () => true,
          () => false,
        ),
      'node 1 to serve the rotated certificate',
      REFUSED_TIMEOUT_MS,
    );
    const got = await etcdctl(endpoint, [
      `--cacert=${rotatedCa}`,
      `--cert=${bob.certificateFile}`,
      `--key=${bob.keyFile}`,
      'get',
      'tls/greeting',
      '--print-value-only',
    ]);
    expect(got.trim()).toBe('hello');
  }, 180_000);

  // Last: it turns auth on for the rest of the cluster's life.
  it("takes a verified client certificate's common name as the user once auth is on", async () => {
    // Node 1 serves the rotated certificate since the test before; alice's CA file trusts the others.
    const endpoints = [cluster.plan(2).client, cluster.plan(3).client];
    const asAlice = (args: string[]) => etcdctl(endpoints, [...etcdctlTls(), ...args]);
    for (const args of [
      ['user', 'add', 'root:root-secret'],
      ['user', 'grant-role', 'root', 'root'],
      ['role', 'add', 'reader'],
      ['role', 'grant-permission', 'reader', 'read', 'app/', '--prefix'],
      ['user', 'add', 'alice:alice-secret'],
      ['user', 'grant-role', 'alice', 'reader'],
      ['put', 'app/x', 'visible'],
      ['put', 'other/y', 'hidden'],
      ['auth', 'enable'],
    ])
      await asAlice(args);
    // No --user: the certificate (CN alice) names the caller, with alice's role.
    expect(await asAlice(['get', 'app/x', '--print-value-only'])).toBe('visible\n');
    await expect(asAlice(['put', 'app/x', 'changed'])).rejects.toThrow(/permission denied/);
    await expect(asAlice(['get', 'other/y'])).rejects.toThrow(/permission denied/);
    // A token names the caller before the certificate does.
    expect(await asAlice(['--user', 'root:root-secret', 'get', 'other/y', '--print-value-only'])).toBe(
      'hidden\n',
    );
  }, 180_000);

  it("lets a worker in by its certificate's user under auth, and checks its callers' certificates on its port", async () => {
    // Node 1 serves the rotated CA's certificate since the test before: the worker uses nodes 2 and 3.
    const voters = [cluster.plan(2).client, cluster.plan(3).client];
    const asRoot = (args: string[]) =>
      etcdctl(voters, [...etcdctlTls(), '--user', 'root:root-secret', ...args]);
    const clients = path.join(cluster.root, 'clients');
    const issued = meshos([
      'certs',
      'client',
      'mesh-worker',
      '--dir',
      cluster.certificates,
      '--out',
      clients,
    ]);
    expect(await exitCode(issued, CLI_TIMEOUT_MS), issued.output()).toBe(0);
    // The worker's user is named by its certificate; root, so it may read the users that call it
    // by certificate (docs/SECURITY.md, "Workers").
    await asRoot(['user', 'add', 'mesh-worker:unused-password']);
    await asRoot(['user', 'grant-role', 'mesh-worker', 'root']);
    await asRoot(['role', 'add', 'chain-reader']);
    await asRoot(['role', 'grant-permission', 'chain-reader', 'read', '/meshos/v1/chains/', '--prefix']);
    const workers = new WorkerProcesses({
      root: cluster.root,
      clusterId: CLUSTER_ID,
      certificates: cluster.certificates,
      controlPlane: voters,
      leaseTtlSeconds: 5,
      commonArguments: [
        '--control-plane-cacert',
        clientFlags.cacert,
        '--control-plane-cert',
        path.join(clients, 'client-mesh-worker.pem'),
        '--control-plane-key',
        path.join(clients, 'client-mesh-worker-key.pem'),
        // Its own port over TLS, letting in clients by certificate as the voters' do.
        '--cert-file',
        certificateFiles.nodeCertificate(cluster.certificates, 2),
        '--key-file',
        certificateFiles.nodeKey(cluster.certificates, 2),
        '--trusted-ca-file',
        clientFlags.cacert,
        '--client-cert-auth',
      ],
    });
    let alice: MeshClient | undefined;
    try {
      const worker = await workers.add('w1');
      const id = await workers.nodeId('w1');
      await until(
        async () => (await meshosNodes([cluster.plan(2).admin])).some((node) => node.id === id),
        'the worker registered in the mesh',
        STARTUP_TIMEOUT_MS,
      );
      alice = await MeshClient.connect({
        endpoints: [worker.client],
        timeoutMs: CLI_TIMEOUT_MS,
        tls: {
          caCertificatePem: await readFile(clientFlags.cacert, 'utf8'),
          certificatePem: await readFile(clientFlags.cert, 'utf8'),
          privateKeyPem: await readFile(clientFlags.key, 'utf8'),
        },
      });
      const client = alice;
      // Alice (by her certificate) holds read on app/ only: the worker refuses her the chains.
      // Its first answers may be UNAVAILABLE while the just-started worker's port comes up.
      let refused = '';
      await until(
        async () => {
          refused = await client.chains.list().then(
            () => 'accepted',
            (error: unknown) => (isMeshError(error) ? `${error.code} ${error.message}` : String(error)),
          );
          return !refused.startsWith('UNAVAILABLE');
        },
        'a typed answer from the worker',
        STARTUP_TIMEOUT_MS,
      );
      expect(refused, workers.describeOutput()).toMatch(/^AUTH_PERMISSION_DENIED /);
      await asRoot(['user', 'grant-role', 'alice', 'chain-reader']);
      await until(
        () =>
          client.chains.list().then(
            () => true,
            () => false,
          ),
        "alice's new role on the worker",
        STARTUP_TIMEOUT_MS,
      );
    } finally {
      alice?.close();
      await workers.stopAll();
    }
  }, 240_000);
});
