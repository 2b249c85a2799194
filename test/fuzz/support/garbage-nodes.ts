/**
 * Two single-node clusters in this process for the connection-garbage fuzzer: one plaintext
 * (`--insecure`: plaintext client and peer ports) and one with TLS everywhere (peers with mutual
 * TLS from the cluster CA, the client port with `--client-cert-auth`). Also the valid first
 * bytes the fuzzer damages: a real TLS ClientHello (captured from Node's TLS client) and an HTTP/2
 * connection preface with a request's frames.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { MeshClient } from '../../../src/client/index.js';
import { type Address, formatAddress } from '../../../src/lib/index.js';
import { findFreeLoopbackPort } from '../../../src/lib/node/index.js';
import { MeshNode } from '../../../src/mesh/index.js';
import { certificateFiles, createClusterCa, issueNodeCertificate } from '../../../src/transport/index.js';
import { join } from './mutations.js';

const READY_TIMEOUT_MS = 60_000;
const CLUSTER = 'garbage';

export interface Credentials {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

export interface GarbageNodes {
  readonly plain: MeshNode;
  readonly secure: MeshNode;
  /** A node certificate of another member id: a valid peer's TLS identity. */
  readonly peer: Credentials;
  /** A certificate the TLS client port accepts (the CA's, signed for a node). */
  readonly client: Credentials;
  /** Puts and reads back a key through each node's client port; throws when one does not answer. */
  checkClients(key: string): Promise<void>;
  close(): Promise<void>;
}

async function startNode(root: string, name: string, secure: Credentials | undefined, certs: string) {
  const peer: Address = { host: '127.0.0.1', port: await findFreeLoopbackPort() };
  const node = await MeshNode.start({
    id: 1,
    name,
    clusterId: CLUSTER,
    dataDirectory: path.join(root, name),
    peerAddress: peer,
    clientAddress: { host: '127.0.0.1', port: 0 },
    adminAddress: { host: '127.0.0.1', port: 0 },
    initialPeers: new Map([[1, peer]]),
    insecure: secure === undefined,
    proximity: false,
    ...(secure === undefined
      ? {}
      : {
          certificateDirectory: certs,
          clientTls: {
            certificateFile: certificateFiles.nodeCertificate(certs, 1),
            keyFile: certificateFiles.nodeKey(certs, 1),
            trustedCaFile: certificateFiles.caCertificate(certs),
            clientCertificateAuth: true,
          },
        }),
  });
  await node.raft.waitReady(READY_TIMEOUT_MS);
  return node;
}

export async function startGarbageNodes(): Promise<GarbageNodes> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'meshos-garbage-'));
  const certs = path.join(root, 'certs');
  await createClusterCa(certs, CLUSTER);
  for (const id of [1, 2]) await issueNodeCertificate(certs, id);
  const credentials = async (id: number): Promise<Credentials> => ({
    ca: await readFile(certificateFiles.caCertificate(certs), 'utf8'),
    cert: await readFile(certificateFiles.nodeCertificate(certs, id), 'utf8'),
    key: await readFile(certificateFiles.nodeKey(certs, id), 'utf8'),
  });
  const peer = await credentials(2);
  const plain = await startNode(root, 'plain', undefined, certs);
  const secure = await startNode(root, 'secure', peer, certs);
  const clients = [
    await MeshClient.connect({ endpoints: [formatAddress(plain.endpoints.client)], timeoutMs: 10_000 }),
    await MeshClient.connect({
      endpoints: [formatAddress(secure.endpoints.client)],
      timeoutMs: 10_000,
      tls: { caCertificatePem: peer.ca, certificatePem: peer.cert, privateKeyPem: peer.key },
    }),
  ];
  return {
    plain,
    secure,
    peer,
    client: peer,
    async checkClients(key) {
      for (const client of clients) {
        await client.put(key, 'still serving');
        const read = await client.get(key);
        if (read === undefined || new TextDecoder().decode(read.value) !== 'still serving') {
          throw new Error(`a client read back ${JSON.stringify(read)} for ${key}`);
        }
      }
    },
    async close() {
      for (const client of clients) client.close();
      await plain.stop();
      await secure.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** The first bytes Node's TLS client sends (its ClientHello), offering h2 as gRPC clients do. */
export async function captureClientHello(credentials?: Credentials): Promise<Uint8Array> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const received = new Promise<Uint8Array>((resolve) => {
    server.once('connection', (socket) => {
      socket.once('data', (chunk: Buffer) => {
        resolve(new Uint8Array(chunk));
        socket.destroy();
      });
    });
  });
  const client = tls.connect({
    host: '127.0.0.1',
    port,
    ALPNProtocols: ['h2'],
    rejectUnauthorized: false,
    ...(credentials === undefined ? {} : { cert: credentials.cert, key: credentials.key }),
  });
  client.on('error', () => {});
  const hello = await received;
  client.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return hello;
}

const HTTP2_PREFACE = new TextEncoder().encode('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

function frame(type: number, flags: number, stream: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(9 + payload.byteLength);
  out[0] = (payload.byteLength >>> 16) & 0xff;
  out[1] = (payload.byteLength >>> 8) & 0xff;
  out[2] = payload.byteLength & 0xff;
  out[3] = type;
  out[4] = flags;
  new DataView(out.buffer).setUint32(5, stream);
  out.set(payload, 9);
  return out;
}

/**
 * An HTTP/2 connection's first bytes as a gRPC client sends them: the preface, SETTINGS, and a
 * HEADERS frame for a unary call (HPACK literals without indexing) followed by a DATA frame.
 */
export function http2Request(authority: string): Uint8Array {
  const literal = (name: string, value: string): number[] => {
    const encode = (text: string) => [...new TextEncoder().encode(text)];
    return [0x00, name.length, ...encode(name), value.length, ...encode(value)];
  };
  const headers = Uint8Array.from([
    ...literal(':method', 'POST'),
    ...literal(':scheme', 'http'),
    ...literal(':path', '/etcdserverpb.KV/Range'),
    ...literal(':authority', authority),
    ...literal('content-type', 'application/grpc'),
    ...literal('te', 'trailers'),
  ]);
  const message = Uint8Array.from([0, 0, 0, 0, 3, 0x0a, 0x01, 0x61]);
  const parts = [
    HTTP2_PREFACE,
    frame(0x4, 0, 0, new Uint8Array(0)),
    frame(0x1, 0x4, 1, headers),
    frame(0x0, 0x1, 1, message),
  ];
  return join(parts);
}
