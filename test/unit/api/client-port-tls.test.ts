/**
 * The client port over TLS, under both gRPC servers: a client with a certificate from the trusted
 * CA is served and its certificate's common name reaches the handlers; a client without a
 * certificate, with one from another CA, or speaking plaintext is refused at the handshake and
 * counted by reason.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GrpcServerChoice } from '../../../src/api/client-port-server.js';
import type { RequestMetadata } from '../../../src/api/grpc-server/index.js';
import {
  type ClientPortServer,
  type ClientPortTls,
  type ClientTlsRefusals,
  clientCertificateCommonName,
  clientPortTlsProblems,
  credentialsOf,
  newClientTlsRefusals,
  startClientPortServer,
} from '../../../src/api/index.js';
import {
  certificateFiles,
  createClusterCa,
  issueClientCertificate,
  issueNodeCertificate,
} from '../../../src/transport/index.js';
import { call, failure, rawClients, startLocalEtcd } from '../../support/etcd-harness.js';
import { until } from '../../support/until.js';

interface ClientMaterial {
  readonly ca: Buffer;
  readonly certificate?: Buffer;
  readonly key?: Buffer;
}

let root: string;
let portTls: ClientPortTls;
let trusted: Required<ClientMaterial>;
let stranger: Required<ClientMaterial>;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'meshos-client-tls-'));
  const cluster = path.join(root, 'cluster');
  const other = path.join(root, 'other');
  await createClusterCa(cluster, 'tls-test');
  await createClusterCa(other, 'other');
  await issueNodeCertificate(cluster, 1);
  const alice = await issueClientCertificate(cluster, 'alice');
  const mallory = await issueClientCertificate(other, 'mallory');
  const caPem = await readFile(certificateFiles.caCertificate(cluster), 'utf8');
  portTls = {
    certificatePem: await readFile(certificateFiles.nodeCertificate(cluster, 1), 'utf8'),
    privateKeyPem: await readFile(certificateFiles.nodeKey(cluster, 1), 'utf8'),
    trustedCaPem: caPem,
    clientCertificateAuth: true,
  };
  trusted = {
    ca: Buffer.from(caPem),
    certificate: await readFile(alice.certificateFile),
    key: await readFile(alice.keyFile),
  };
  stranger = {
    ca: Buffer.from(caPem),
    certificate: await readFile(mallory.certificateFile),
    key: await readFile(mallory.keyFile),
  };
}, 60_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A service answering each call with the common name its handler sees ('' for none). */
const identityService: grpc.ServiceDefinition = {
  Who: {
    path: '/test.Identity/Who',
    requestStream: false,
    responseStream: false,
    requestSerialize: (value: Buffer) => value,
    requestDeserialize: (bytes: Buffer) => bytes,
    responseSerialize: (value: Buffer) => value,
    responseDeserialize: (bytes: Buffer) => bytes,
  },
  WhoStream: {
    path: '/test.Identity/WhoStream',
    requestStream: false,
    responseStream: true,
    requestSerialize: (value: Buffer) => value,
    requestDeserialize: (bytes: Buffer) => bytes,
    responseSerialize: (value: Buffer) => value,
    responseDeserialize: (bytes: Buffer) => bytes,
  },
};
const IdentityClient = grpc.makeGenericClientConstructor(identityService, 'Identity');
type IdentityStub = InstanceType<typeof IdentityClient> & {
  Who(
    request: Buffer,
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, answer: Buffer) => void,
  ): void;
  WhoStream(request: Buffer): grpc.ClientReadableStream<Buffer>;
};

/**
 * Each call answers the common name its handler sees, then a '/', then the one the auth checks
 * read from the call's metadata alone (`credentialsOf`), as the services hand it to them.
 */
const identityImplementation: grpc.UntypedServiceImplementation = {
  Who: (unary: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) =>
    callback(null, Buffer.from(namesOf(unary))),
  WhoStream: (stream: grpc.ServerWritableStream<Buffer, Buffer>) => {
    stream.write(Buffer.from(namesOf(stream)));
    stream.end();
  },
};

function namesOf(call: grpc.ServerUnaryCall<Buffer, Buffer> | grpc.ServerWritableStream<Buffer, Buffer>) {
  const fromMetadata = credentialsOf(call.metadata as RequestMetadata).certificateCommonName;
  return `${clientCertificateCommonName(call) ?? ''}/${fromMetadata ?? ''}`;
}

function identityClient(
  address: string,
  material: ClientMaterial | undefined,
  options: grpc.ChannelOptions = {},
): IdentityStub {
  const credentials =
    material === undefined
      ? grpc.credentials.createInsecure()
      : grpc.credentials.createSsl(material.ca, material.key ?? null, material.certificate ?? null);
  // Own connection per client, so each case makes its own handshake.
  return new IdentityClient(address, credentials, {
    'grpc.use_local_subchannel_pool': 1,
    ...options,
  }) as IdentityStub;
}

function tlsMaterial(material: Required<ClientMaterial>): tls.ConnectionOptions {
  return { ca: material.ca, cert: material.certificate, key: material.key, rejectUnauthorized: false };
}

function who(client: IdentityStub): Promise<string> {
  return new Promise((resolve, reject) => {
    client.Who(Buffer.alloc(0), { deadline: Date.now() + 10_000 }, (error, answer) =>
      error === null ? resolve(answer.toString()) : reject(error),
    );
  });
}

function whoStream(client: IdentityStub): Promise<string> {
  return new Promise((resolve, reject) => {
    const pieces: Buffer[] = [];
    const stream = client.WhoStream(Buffer.alloc(0));
    stream.on('data', (piece: Buffer) => pieces.push(piece));
    stream.on('error', reject);
    stream.on('end', () => resolve(Buffer.concat(pieces).toString()));
  });
}

describe.each<GrpcServerChoice>(['meshos', 'node-http2', 'grpc-js'])(
  'the client port over TLS (%s gRPC server)',
  (choice) => {
    let server: ClientPortServer;
    let refusals: ClientTlsRefusals;

    beforeAll(async () => {
      refusals = newClientTlsRefusals();
      server = await startClientPortServer({
        address: '127.0.0.1:0',
        services: [{ definition: identityService, implementation: identityImplementation }],
        grpcServer: choice,
        tls: portTls,
        tlsRefusals: refusals,
      });
    });

    afterAll(async () => {
      await server.close();
    });

    it("serves a client with the trusted CA's certificate and shows handlers its common name", async () => {
      const client = identityClient(server.address, trusted);
      try {
        // grpc-js's metadata cannot tell the connection's TLS: with it the auth checks see no name.
        const fromMetadata = choice === 'grpc-js' ? '' : 'alice';
        expect(await who(client)).toBe(`alice/${fromMetadata}`);
        expect(await whoStream(client)).toBe(`alice/${fromMetadata}`);
      } finally {
        client.close();
      }
    });

    it('shows the common name on a connection with a URL authority (rewritten by the port for node:http2 and grpc-js; taken as it is by the own HTTP/2)', async () => {
      // etcd's Go client sends its endpoint URL as the authority of per-endpoint calls.
      const client = identityClient(server.address, trusted, {
        'grpc.default_authority': `http://${server.address}`,
      });
      try {
        expect(await who(client)).toBe(choice === 'grpc-js' ? '/' : 'alice/alice');
        if (choice === 'meshos') expect(server.connections.repaired).toBe(0);
        else expect(server.connections.repaired).toBeGreaterThan(0);
      } finally {
        client.close();
      }
    });

    // Found by the connection-garbage fuzzer: the HTTP/2 session answered the bad bytes while the
    // port's own SETTINGS was still being written, and Node aborted the process (TLSWrap::DoWrite).
    it('survives a client that completes the handshake, sends bytes that are not HTTP/2 and hangs up', async () => {
      const [host, port] = [server.address.split(':')[0]!, Number(server.address.split(':')[1])];
      for (let round = 0; round < 5; round++) {
        const socket = tls.connect({ host, port, ...tlsMaterial(trusted), ALPNProtocols: ['h2'] });
        socket.on('error', () => {});
        socket.resume();
        const closed = new Promise((resolve) => socket.once('close', resolve));
        await new Promise((resolve) => socket.once('secureConnect', resolve));
        socket.end(Buffer.from('3b879e193bd4', 'hex'));
        await closed;
      }
      const client = identityClient(server.address, trusted);
      try {
        expect(await who(client)).toMatch(/^alice\//);
      } finally {
        client.close();
      }
    });

    const refused: [string, () => ClientMaterial | undefined, keyof ClientTlsRefusals][] = [
      ['no certificate', () => ({ ca: trusted.ca }), 'no_certificate'],
      ["another CA's certificate", () => stranger, 'untrusted_certificate'],
      ['plaintext', () => undefined, 'handshake'],
    ];
    it.each(refused)('refuses a client with %s and counts it', async (_name, material, reason) => {
      const before = refusals[reason];
      const client = identityClient(server.address, material());
      try {
        const error = await failure(who(client));
        expect(error.code).toBe(grpc.status.UNAVAILABLE);
        await until(() => refusals[reason] > before, `a ${reason} refusal to be counted`);
      } finally {
        client.close();
      }
    });
  },
);

describe('a TLS client port given new material', () => {
  it('serves new connections with it: the new CA trusted, the old one no more', async () => {
    const other = path.join(root, 'other');
    await issueNodeCertificate(other, 7);
    const server = await startClientPortServer({
      address: '127.0.0.1:0',
      services: [{ definition: identityService, implementation: identityImplementation }],
      tls: portTls,
    });
    const clients: IdentityStub[] = [];
    const connect = (material: ClientMaterial): IdentityStub => {
      const client = identityClient(server.address, material);
      clients.push(client);
      return client;
    };
    try {
      expect(await who(connect(trusted))).toBe('alice/alice');
      const otherCa = await readFile(certificateFiles.caCertificate(other));
      server.reloadTls({
        certificatePem: await readFile(certificateFiles.nodeCertificate(other, 7), 'utf8'),
        privateKeyPem: await readFile(certificateFiles.nodeKey(other, 7), 'utf8'),
        trustedCaPem: otherCa.toString(),
        clientCertificateAuth: true,
      });
      expect(await who(connect({ ...stranger, ca: otherCa }))).toBe('mallory/mallory');
      expect((await failure(who(connect({ ...trusted, ca: otherCa })))).code).toBe(grpc.status.UNAVAILABLE);
      expect(() => server.reloadTls({ ...portTls, privateKeyPem: 'no key' })).toThrow(
        /not a PEM private key/,
      );
    } finally {
      for (const client of clients) client.close();
      await server.close();
    }
  });
});

describe('the etcd API over TLS', () => {
  it('answers KV calls of a client with a certificate', async () => {
    const etcd = await startLocalEtcd({ tls: portTls });
    const credentials = grpc.credentials.createSsl(trusted.ca, trusted.key, trusted.certificate);
    const clients = rawClients(etcd.server.address, {}, credentials);
    try {
      await call(clients.kv, 'Put', { key: Buffer.from('k'), value: Buffer.from('v') });
      const answer = await call(clients.kv, 'Range', { key: Buffer.from('k') });
      expect(Buffer.from(answer.kvs[0].value).toString()).toBe('v');
    } finally {
      clients.close();
      await etcd.close();
    }
  });
});

describe('client port TLS settings', () => {
  it('name every problem at once', () => {
    expect(
      clientPortTlsProblems({
        certificatePem: 'not a certificate',
        privateKeyPem: 'not a key',
        clientCertificateAuth: true,
      }),
    ).toEqual([
      'the certificate is not a PEM certificate',
      'the key is not a PEM private key',
      'client certificate auth needs a trusted CA to check client certificates against',
    ]);
  });

  it('refuse to start a port whose key does not match its certificate', async () => {
    const error = await failure<Error & { code?: string }>(
      startClientPortServer({
        address: '127.0.0.1:0',
        services: [],
        tls: { ...portTls, privateKeyPem: await readFile(path.join(root, 'other', 'ca-key.pem'), 'utf8') },
      }),
    );
    expect(error.code).toBe('CLIENT_TLS');
    expect(error.message).toMatch(/do not load/);
  });
});
