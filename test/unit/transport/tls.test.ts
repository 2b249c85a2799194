import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type Address,
  ManualClock,
  SeededRandom,
  SystemClock,
  ValidationError,
} from '../../../src/lib/index.js';
import { NodeNetwork } from '../../../src/lib/node/index.js';
import {
  CertificateError,
  createClusterCa,
  createTcpTransport,
  InMemoryNetwork,
  issueNodeCertificate,
  loadTlsMaterial,
  mutualTlsOptions,
  PeerTransport,
  type TlsMaterial,
} from '../../../src/transport/index.js';
import { CLUSTER_ID, collectMessages, decodeText, encodeText, memoryAddress, nextEvent } from './helpers.js';

const LOOPBACK: Address = { host: '127.0.0.1', port: 0 };

let directory: string;
let clusterDirectory: string;
let foreignDirectory: string;
const material = new Map<number, TlsMaterial>();
let foreignNode2: TlsMaterial;
const running: PeerTransport[] = [];

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'meshos-transport-tls-'));
  clusterDirectory = path.join(directory, 'cluster');
  foreignDirectory = path.join(directory, 'foreign');
  await createClusterCa(clusterDirectory, CLUSTER_ID);
  await createClusterCa(foreignDirectory, CLUSTER_ID);
  for (const nodeId of [1, 2, 3]) {
    await issueNodeCertificate(clusterDirectory, nodeId, ['node.example']);
    material.set(nodeId, await loadTlsMaterial(clusterDirectory, nodeId));
  }
  await issueNodeCertificate(foreignDirectory, 2);
  foreignNode2 = await loadTlsMaterial(foreignDirectory, 2);
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((transport) => transport.stop()));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

function materialOf(nodeId: number): TlsMaterial {
  const found = material.get(nodeId);
  if (found === undefined) throw new Error(`no material for node ${nodeId}`);
  return found;
}

function tlsTransport(
  nodeId: number,
  options: { tls?: TlsMaterial; clusterId?: string } = {},
): PeerTransport {
  const transport = createTcpTransport({
    nodeId,
    clusterId: options.clusterId ?? CLUSTER_ID,
    listenAddress: LOOPBACK,
    tls: options.tls ?? materialOf(nodeId),
  });
  running.push(transport);
  return transport;
}

/** A transport on a hand-built network, for peers whose TLS setup differs from the standard one. */
function customTransport(nodeId: number, network: NodeNetwork, caCertificatePem: string): PeerTransport {
  const transport = new PeerTransport({
    nodeId,
    clusterId: CLUSTER_ID,
    listenAddress: LOOPBACK,
    network,
    clock: new SystemClock(),
    random: new SeededRandom(nodeId),
    security: { kind: 'mutual-tls', caCertificatePem },
  });
  running.push(transport);
  return transport;
}

describe('certificate tooling', () => {
  it('binds the node id and loopback names into the certificate, signed by the cluster CA', () => {
    const node = new X509Certificate(materialOf(1).certificatePem);
    const authority = new X509Certificate(materialOf(1).caCertificatePem);
    expect(node.subject).toContain('CN=meshos-node-1');
    expect(node.subjectAltName).toContain('URI:meshos://node/1');
    expect(node.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(node.subjectAltName).toContain('DNS:node.example');
    expect(node.checkIssued(authority) && node.verify(authority.publicKey)).toBe(true);
    expect(authority.ca).toBe(true);
    expect(node.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const foreign = new X509Certificate(foreignNode2.certificatePem);
    expect(foreign.checkIssued(authority)).toBe(false);
  });

  it('reports missing material and invalid names as typed errors', async () => {
    await expect(loadTlsMaterial(clusterDirectory, 42)).rejects.toBeInstanceOf(CertificateError);
    await expect(createClusterCa(path.join(directory, 'bad'), 'no/slashes')).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(issueNodeCertificate(clusterDirectory, 4, ['bad host!'])).rejects.toBeInstanceOf(
      ValidationError,
    );
  });
});

describe('mutual TLS between peer transports on 127.0.0.1', () => {
  it('accepts nodes holding certificates from the cluster CA', async () => {
    const first = tlsTransport(1);
    const second = tlsTransport(2);
    const firstAddress = await first.start();
    const secondAddress = await second.start();
    const atSecond = collectMessages(second, 2);
    const atFirst = collectMessages(first, 1);
    first.setPeers(new Map([[2, secondAddress]]));
    second.setPeers(new Map([[1, firstAddress]]));
    first.send(2, encodeText('one'));
    first.send(2, encodeText('two'));
    second.send(1, encodeText('back'));
    expect((await atSecond).map((message) => decodeText(message.payload))).toEqual(['one', 'two']);
    expect((await atFirst).map((message) => [message.from, decodeText(message.payload)])).toEqual([
      [2, 'back'],
    ]);
    expect(Object.values(first.counters.refusedPeers).every((count) => count === 0)).toBe(true);
  });

  it('is refused without a client certificate', async () => {
    const server = tlsTransport(1);
    const address = await server.start();
    const standard = mutualTlsOptions(materialOf(2));
    const { cert: _cert, key: _key, ...clientWithoutCertificate } = standard.client;
    const client = customTransport(
      2,
      new NodeNetwork({ tls: { server: standard.server, client: clientWithoutCertificate } }),
      materialOf(2).caCertificatePem,
    );
    await client.start();
    const refused = nextEvent((handler) => client.onRefused(handler));
    const refusedByServer = nextEvent((handler) => server.onRefused(handler));
    client.setPeers(new Map([[1, address]]));
    expect(await refused).toBe('no-certificate');
    expect(client.counters.refusedByPeers['no-certificate']).toBe(1);
    expect(await refusedByServer).toBe('no-certificate');
    expect(server.counters.refusedPeers['no-certificate']).toBeGreaterThanOrEqual(1);
    expect(server.counters.receivedMessages).toBe(0);
  });

  it('refuses a server whose certificate comes from another CA', async () => {
    const server = tlsTransport(1);
    const address = await server.start();
    const foreign = tlsTransport(2, { tls: foreignNode2 });
    await foreign.start();
    const refused = nextEvent((handler) => foreign.onRefused(handler));
    foreign.setPeers(new Map([[1, address]]));
    expect(await refused).toBe('wrong-ca');
    expect(foreign.counters.refusedPeers['wrong-ca']).toBe(1);
  });

  it('is refused by a server when its client certificate comes from another CA', async () => {
    const server = tlsTransport(1);
    const address = await server.start();
    // This client trusts the cluster CA, so only the server's check can stop it.
    const options = mutualTlsOptions(foreignNode2);
    const trustingClient = {
      ...options.client,
      ca: [foreignNode2.caCertificatePem, materialOf(1).caCertificatePem],
    };
    const client = customTransport(
      2,
      new NodeNetwork({ tls: { server: options.server, client: trustingClient } }),
      foreignNode2.caCertificatePem,
    );
    await client.start();
    const refused = nextEvent((handler) => client.onRefused(handler));
    const refusedByServer = nextEvent((handler) => server.onRefused(handler));
    const unreachable = nextEvent((handler) => client.onUnreachable(handler));
    client.setPeers(new Map([[1, address]]));
    // Node's TLS server drops such a client without an alert, so the client cannot tell why;
    // the server counts the refusal (Node reports it as a reset handshake, not a CA error).
    expect(await refused).toBe('closed-during-handshake');
    expect(['wrong-ca', 'bad-handshake']).toContain(await refusedByServer);
    expect(await unreachable).toBe(1);
    expect(client.isConnected(1)).toBe(false);
    expect(server.counters.receivedMessages).toBe(0);
  });

  it('checks the CA itself too, refusing and counting when the TLS layer lets a stranger through', async () => {
    const lenient = mutualTlsOptions(materialOf(1));
    const server = customTransport(
      1,
      new NodeNetwork({
        tls: { server: { ...lenient.server, rejectUnauthorized: false }, client: lenient.client },
      }),
      materialOf(1).caCertificatePem,
    );
    const address = await server.start();
    const options = mutualTlsOptions(foreignNode2);
    const client = customTransport(
      2,
      new NodeNetwork({
        tls: {
          server: options.server,
          client: { ...options.client, ca: [foreignNode2.caCertificatePem, materialOf(1).caCertificatePem] },
        },
      }),
      materialOf(1).caCertificatePem,
    );
    await client.start();
    const refused = nextEvent((handler) => server.onRefused(handler));
    client.setPeers(new Map([[1, address]]));
    expect(await refused).toBe('wrong-ca');
    expect(server.counters.refusedPeers['wrong-ca']).toBe(1);
  });

  it('refuses and counts a node whose claimed id does not match its certificate', async () => {
    const server = tlsTransport(1);
    const address = await server.start();
    // Holds node 3's valid certificate but claims to be node 2.
    const impostor = customTransport(
      2,
      new NodeNetwork({ tls: mutualTlsOptions(materialOf(3)) }),
      materialOf(3).caCertificatePem,
    );
    await impostor.start();
    const refused = nextEvent((handler) => server.onRefused(handler));
    impostor.setPeers(new Map([[1, address]]));
    expect(await refused).toBe('node-id-mismatch');
    expect(server.counters.refusedPeers['node-id-mismatch']).toBe(1);
  });

  it('refuses and counts a node of another cluster', async () => {
    const server = tlsTransport(1);
    const address = await server.start();
    const stranger = tlsTransport(2, { clusterId: 'another-cluster' });
    await stranger.start();
    const refused = nextEvent((handler) => server.onRefused(handler));
    stranger.setPeers(new Map([[1, address]]));
    expect(await refused).toBe('wrong-cluster');
    expect(server.counters.refusedPeers['wrong-cluster']).toBe(1);
  });

  it('refuses a peer without any certificate when TLS is required', async () => {
    const network = new InMemoryNetwork();
    const clock = new ManualClock();
    const server = new PeerTransport({
      nodeId: 1,
      clusterId: CLUSTER_ID,
      listenAddress: memoryAddress(1),
      network,
      clock,
      random: new SeededRandom(1),
      security: { kind: 'mutual-tls', caCertificatePem: materialOf(1).caCertificatePem },
    });
    const plain = new PeerTransport({
      nodeId: 2,
      clusterId: CLUSTER_ID,
      listenAddress: memoryAddress(2),
      network,
      clock,
      random: new SeededRandom(2),
      security: { kind: 'insecure' },
    });
    running.push(server, plain);
    await server.start();
    await plain.start();
    const refused = nextEvent((handler) => server.onRefused(handler));
    plain.setPeers(new Map([[1, memoryAddress(1)]]));
    expect(await refused).toBe('no-certificate');
    expect(server.counters.refusedPeers['no-certificate']).toBe(1);
  });
});
