/**
 * The client TLS flags of `meshos start` (etcd's names) and of the client commands (etcdctl's):
 * what the node config and the client get, and a typed error naming every problem.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientTlsOptionsFrom } from '../../../src/cli/commands/client-tls-flags.js';
import { clientTarget } from '../../../src/cli/commands/common.js';
import { startPlanFromArguments } from '../../../src/cli/node-commands.js';
import { isMeshError } from '../../../src/lib/index.js';
import { flagProblems } from './start-flag-problems.js';

const VOTER = ['--id', '1', '--data', 'd1', '--peers', '1=127.0.0.1:7001', '--insecure'];
const WORKER = [
  '--role',
  'worker',
  '--control-plane',
  '127.0.0.1:2379',
  '--data',
  'w',
  '--peer-listen',
  '127.0.0.1:7100',
  '--insecure',
];

let root: string;
let cert: string;
let key: string;
let ca: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'meshos-tls-flags-'));
  [cert, key, ca] = ['cert.pem', 'key.pem', 'ca.pem'].map((name) => path.join(root, name)) as [
    string,
    string,
    string,
  ];
  await writeFile(cert, '-----BEGIN CERTIFICATE-----\n');
  await writeFile(key, '-----BEGIN PRIVATE KEY-----\n');
  await writeFile(ca, '-----BEGIN CERTIFICATE-----\n');
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('meshos start client TLS flags', () => {
  it('leave the client port plaintext when none is given', () => {
    expect(startPlanFromArguments(VOTER).config.clientTls).toBeUndefined();
  });

  it('give voters and workers the files, made absolute, and client certificate auth', () => {
    const flags = ['--cert-file', cert, '--key-file', key, '--trusted-ca-file', ca, '--client-cert-auth'];
    for (const base of [VOTER, WORKER]) {
      expect(startPlanFromArguments([...base, ...flags]).config.clientTls).toEqual({
        certificateFile: cert,
        keyFile: key,
        trustedCaFile: ca,
        clientCertificateAuth: true,
      });
    }
    expect(
      startPlanFromArguments([...VOTER, '--cert-file', cert, '--key-file', key]).config.clientTls,
    ).toEqual({
      certificateFile: cert,
      keyFile: key,
      clientCertificateAuth: false,
    });
  });

  it('refuse --client-cert-auth without --trusted-ca-file, with a clear message', () => {
    expect(flagProblems([...VOTER, '--cert-file', cert, '--key-file', key, '--client-cert-auth'])).toEqual([
      '--client-cert-auth needs --trusted-ca-file, the CA that client certificates must chain to',
    ]);
  });

  it('refuse a certificate without its key, and client checks without TLS', () => {
    expect(
      flagProblems([...WORKER, '--cert-file', cert, '--trusted-ca-file', ca, '--client-cert-auth']),
    ).toEqual(['--cert-file and --key-file go together']);
    expect(flagProblems([...VOTER, '--trusted-ca-file', ca])).toEqual([
      '--client-cert-auth and --trusted-ca-file need --cert-file and --key-file (TLS on the client port)',
    ]);
  });

  it('name every file that cannot be read', () => {
    const missing = path.join(root, 'missing.pem');
    expect(
      flagProblems([
        ...VOTER,
        '--cert-file',
        missing,
        '--key-file',
        key,
        '--trusted-ca-file',
        missing,
        '--client-cert-auth',
      ]),
    ).toEqual([
      `--cert-file: cannot read ${missing} (ENOENT)`,
      `--trusted-ca-file: cannot read ${missing} (ENOENT)`,
    ]);
  });
});

describe('client command TLS flags (--cacert, --cert, --key)', () => {
  it('read the PEM files into the client options', () => {
    expect(clientTarget({ endpoints: 'a:1,b:2', cacert: ca, cert, key })).toEqual({
      endpoints: ['a:1', 'b:2'],
      tls: {
        caCertificatePem: '-----BEGIN CERTIFICATE-----\n',
        certificatePem: '-----BEGIN CERTIFICATE-----\n',
        privateKeyPem: '-----BEGIN PRIVATE KEY-----\n',
      },
    });
    expect(clientTarget({ endpoints: 'a:1' })).toEqual({ endpoints: ['a:1'] });
  });

  it("take the key by --cert-key too ('daemon send', whose --key is the event's)", () => {
    expect(clientTlsOptionsFrom({ cert, 'cert-key': key })?.privateKeyPem).toBe(
      '-----BEGIN PRIVATE KEY-----\n',
    );
  });

  it('refuse an unreadable file and a certificate without its key with CLIENT_TLS_FLAGS', () => {
    const missing = path.join(root, 'missing.pem');
    for (const values of [{ cacert: missing }, { cacert: ca, cert }, { cert, key, 'cert-key': key }]) {
      let thrown: unknown;
      try {
        clientTlsOptionsFrom(values);
      } catch (error) {
        thrown = error;
      }
      expect(isMeshError(thrown, 'CLIENT_TLS_FLAGS')).toBe(true);
    }
  });
});
