/**
 * The client port's TLS files (`--cert-file`, `--key-file`, `--trusted-ca-file`,
 * `--client-cert-auth`, as etcd names them), read each time the port opens, so a port restarted
 * after the files were replaced serves the new ones (docs/OPERATIONS.md, "Rotating certificates").
 */
import { readFile } from 'node:fs/promises';
import { type ClientPortTls, ClientTlsError } from '../api/index.js';

export interface ClientPortTlsFiles {
  /** The port's certificate (PEM; a node certificate from `meshos certs issue` serves). */
  readonly certificateFile: string;
  readonly keyFile: string;
  /** CA that client certificates must chain to. */
  readonly trustedCaFile?: string;
  /** Refuse clients without a certificate signed by the trusted CA. */
  readonly clientCertificateAuth: boolean;
}

/** Every problem with the settings themselves (the files are read when the port opens). */
export function clientPortTlsFilesProblems(files: ClientPortTlsFiles): string[] {
  return files.clientCertificateAuth && files.trustedCaFile === undefined
    ? ['clientTls: client certificate auth needs a trusted CA file to check client certificates against']
    : [];
}

/** The files' PEM; CLIENT_TLS names the file that could not be read. */
export async function readClientPortTls(files: ClientPortTlsFiles): Promise<ClientPortTls> {
  const read = async (file: string, what: string): Promise<string> => {
    try {
      return await readFile(file, 'utf8');
    } catch (error) {
      throw new ClientTlsError(`cannot read the client port's ${what} ${file}: ${(error as Error).message}`, {
        cause: error,
        details: { file },
      });
    }
  };
  return {
    certificatePem: await read(files.certificateFile, 'certificate'),
    privateKeyPem: await read(files.keyFile, 'key'),
    ...(files.trustedCaFile === undefined
      ? {}
      : { trustedCaPem: await read(files.trustedCaFile, 'trusted CA') }),
    clientCertificateAuth: files.clientCertificateAuth,
  };
}
