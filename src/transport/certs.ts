import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import * as path from 'node:path';
import { isNodeId, MeshError, type NodeId, ValidationError } from '../lib/index.js';
import { nodeCommonName, nodeUri } from './identity.js';

/** How long a cluster CA certificate is valid. */
export const CA_VALIDITY_DAYS = 3650;
/** How long a node certificate is valid. */
export const NODE_CERTIFICATE_VALIDITY_DAYS = 825;
/** The openssl CLI gets this long per command before it is killed. */
const OPENSSL_TIMEOUT_MS = 30_000;
/** Names every node certificate carries, so links over loopback verify. */
export const LOOPBACK_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '::1'];

const CLUSTER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const HOST_NAME_PATTERN = /^[A-Za-z0-9*]([A-Za-z0-9.-]{0,252})$/;
/** A client certificate's name: its CN (an etcd user name) and part of its file names. */
const CLIENT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/** The files of a certificate directory. */
export const certificateFiles = {
  caCertificate: (directory: string) => path.join(directory, 'ca.pem'),
  caKey: (directory: string) => path.join(directory, 'ca-key.pem'),
  nodeCertificate: (directory: string, nodeId: NodeId) => path.join(directory, `node-${nodeId}.pem`),
  nodeKey: (directory: string, nodeId: NodeId) => path.join(directory, `node-${nodeId}-key.pem`),
  clientCertificate: (directory: string, name: string) => path.join(directory, `client-${name}.pem`),
  clientKey: (directory: string, name: string) => path.join(directory, `client-${name}-key.pem`),
};

/**
 * Issues node `nodeId`'s certificate unless the directory holds one already: a node whose id
 * is handed out at start (`meshos join`, a worker) gets one from the CA key beside it.
 */
export async function ensureNodeCertificate(
  directory: string,
  nodeId: NodeId,
  hosts: readonly string[] = [],
): Promise<void> {
  const exists = await access(certificateFiles.nodeCertificate(directory, nodeId)).then(
    () => true,
    () => false,
  );
  if (!exists) await issueNodeCertificate(directory, nodeId, hosts);
}

/** What a node needs for mutual TLS: the cluster CA, its own certificate and key, all PEM. */
export interface TlsMaterial {
  readonly nodeId: NodeId;
  readonly caCertificatePem: string;
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

export class CertificateError extends MeshError {
  constructor(message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super('CERTIFICATE', message, options);
  }
}

function runOpenssl(args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('openssl', [...args], { timeout: OPENSSL_TIMEOUT_MS }, (error, _stdout, stderr) => {
      if (error === null) resolve();
      else {
        reject(
          new CertificateError(`openssl ${args[0]} failed: ${String(stderr).trim() || error.message}`, {
            cause: error,
            details: { command: args[0] },
          }),
        );
      }
    });
  });
}

async function generateKey(keyPath: string): Promise<void> {
  await runOpenssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyPath]);
  await chmod(keyPath, 0o600);
}

function checkNodeId(nodeId: NodeId): void {
  if (!isNodeId(nodeId)) {
    throw new ValidationError('node id', [`${nodeId} must be a node id (a positive safe integer)`]);
  }
}

/** A fresh positive serial number: 16 random bytes with the top bit clear. */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return `0x${bytes.toString('hex')}`;
}

/** Creates the cluster CA: an EC P-256 key and a self-signed certificate naming the cluster. */
export async function createClusterCa(directory: string, clusterId: string): Promise<void> {
  if (!CLUSTER_ID_PATTERN.test(clusterId)) {
    throw new ValidationError('cluster id', [
      `${JSON.stringify(clusterId)} must be 1..63 letters, digits, '.', '_' or '-', starting with a letter or digit`,
    ]);
  }
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const keyPath = certificateFiles.caKey(directory);
  await generateKey(keyPath);
  await runOpenssl([
    'req',
    '-x509',
    '-new',
    '-key',
    keyPath,
    '-sha256',
    '-days',
    String(CA_VALIDITY_DAYS),
    '-subj',
    `/O=meshos/CN=meshos-ca-${clusterId}`,
    '-set_serial',
    randomSerial(),
    '-addext',
    'basicConstraints=critical,CA:TRUE,pathlen:0',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-out',
    certificateFiles.caCertificate(directory),
  ]);
}

/**
 * Issues a node certificate signed by the cluster CA in `directory`: key, signing request,
 * certificate. The node id is bound as CN `meshos-node-<id>` and SAN `URI:meshos://node/<id>`;
 * SANs also name the loopback addresses and `hosts`. Usable as both TLS server and client (and
 * as the certificate of the node's client port: `--cert-file`).
 */
export async function issueNodeCertificate(
  directory: string,
  nodeId: NodeId,
  hosts: readonly string[] = [],
): Promise<void> {
  checkNodeId(nodeId);
  await signCertificate(directory, {
    commonName: nodeCommonName(nodeId),
    extendedKeyUsage: 'serverAuth,clientAuth',
    subjectAltNames: [...hostAltNames(hosts), `URI:${nodeUri(nodeId)}`],
    certificatePath: certificateFiles.nodeCertificate(directory, nodeId),
    keyPath: certificateFiles.nodeKey(directory, nodeId),
  });
}

/**
 * Issues a client certificate signed by the cluster CA in `directory`, for clients of the client
 * port under `--client-cert-auth`: CN `name` (the user etcd's auth takes it for), client use only.
 * Written to `outDirectory` (default `directory`) as `client-<name>.pem` and `client-<name>-key.pem`.
 */
export async function issueClientCertificate(
  directory: string,
  name: string,
  outDirectory: string = directory,
): Promise<{ certificateFile: string; keyFile: string }> {
  if (!CLIENT_NAME_PATTERN.test(name)) {
    throw new ValidationError('client name', [
      `${JSON.stringify(name)} must be 1..64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit`,
    ]);
  }
  await mkdir(outDirectory, { recursive: true, mode: 0o700 });
  const files = {
    certificateFile: certificateFiles.clientCertificate(outDirectory, name),
    keyFile: certificateFiles.clientKey(outDirectory, name),
  };
  await signCertificate(directory, {
    commonName: name,
    extendedKeyUsage: 'clientAuth',
    subjectAltNames: [],
    certificatePath: files.certificateFile,
    keyPath: files.keyFile,
  });
  return files;
}

/** SAN entries for the loopback names and `hosts`; VALIDATION_FAILED names any that is neither IP nor DNS. */
function hostAltNames(hosts: readonly string[]): string[] {
  const badHosts = hosts.filter((host) => isIP(host) === 0 && !HOST_NAME_PATTERN.test(host));
  if (badHosts.length > 0) {
    throw new ValidationError(
      'certificate hosts',
      badHosts.map((host) => `${JSON.stringify(host)} is neither an IP address nor a DNS name`),
    );
  }
  return [...new Set([...LOOPBACK_HOSTS, ...hosts])].map((host) =>
    isIP(host) === 0 ? `DNS:${host}` : `IP:${host}`,
  );
}

/** A leaf certificate to sign with the cluster CA. */
interface LeafCertificate {
  readonly commonName: string;
  readonly extendedKeyUsage: string;
  readonly subjectAltNames: readonly string[];
  readonly certificatePath: string;
  readonly keyPath: string;
}

/** Key, signing request and certificate of `leaf`, signed by the CA in `directory`. */
async function signCertificate(directory: string, leaf: LeafCertificate): Promise<void> {
  const requestPath = `${leaf.certificatePath}.csr`;
  const extensionsPath = `${leaf.certificatePath}.ext`;
  await generateKey(leaf.keyPath);
  await runOpenssl([
    'req',
    '-new',
    '-key',
    leaf.keyPath,
    '-subj',
    `/O=meshos/CN=${leaf.commonName}`,
    '-out',
    requestPath,
  ]);
  await writeFile(
    extensionsPath,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      `extendedKeyUsage=${leaf.extendedKeyUsage}`,
      ...(leaf.subjectAltNames.length === 0 ? [] : [`subjectAltName=${leaf.subjectAltNames.join(',')}`]),
      '',
    ].join('\n'),
  );
  try {
    await runOpenssl([
      'x509',
      '-req',
      '-in',
      requestPath,
      '-CA',
      certificateFiles.caCertificate(directory),
      '-CAkey',
      certificateFiles.caKey(directory),
      '-set_serial',
      randomSerial(),
      '-days',
      String(NODE_CERTIFICATE_VALIDITY_DAYS),
      '-sha256',
      '-extfile',
      extensionsPath,
      '-out',
      leaf.certificatePath,
    ]);
  } finally {
    await rm(requestPath, { force: true });
    await rm(extensionsPath, { force: true });
  }
}

async function readPem(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new CertificateError(`cannot read ${what} at ${file}`, { cause: error, details: { file } });
  }
}

/** Reads what node `nodeId` needs for mutual TLS from a certificate directory. */
export async function loadTlsMaterial(directory: string, nodeId: NodeId): Promise<TlsMaterial> {
  checkNodeId(nodeId);
  return {
    nodeId,
    caCertificatePem: await readPem(certificateFiles.caCertificate(directory), 'the cluster CA certificate'),
    certificatePem: await readPem(
      certificateFiles.nodeCertificate(directory, nodeId),
      `node ${nodeId}'s certificate`,
    ),
    privateKeyPem: await readPem(certificateFiles.nodeKey(directory, nodeId), `node ${nodeId}'s private key`),
  };
}
