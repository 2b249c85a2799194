/**
 * `--cacert`, `--cert`, `--key` (etcdctl's names): TLS from a client command to the client ports,
 * read from PEM files when the command starts. `https://` endpoints turn TLS on by themselves.
 * `--cert-key` names the key too, for `meshos daemon send`, whose `--key` is the event's key.
 */
import { readFileSync } from 'node:fs';
import type { ClientTlsOptions } from '../../client/index.js';
import { MeshError } from '../../lib/index.js';

export const CLIENT_TLS_OPTION = {
  cacert: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  'cert-key': { type: 'string' },
} as const;

export interface ClientTlsValues {
  readonly cacert?: string | undefined;
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
  readonly 'cert-key'?: string | undefined;
}

/** A TLS file named on the command line could not be read, or its flags do not fit together. */
export class ClientTlsFlagError extends MeshError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('CLIENT_TLS_FLAGS', message, { details });
  }
}

/** The TLS the flags ask for; undefined when none is given (plaintext, or `https://` endpoints). */
export function clientTlsOptionsFrom(values: ClientTlsValues): ClientTlsOptions | undefined {
  const { cacert, cert } = values;
  if (values.key !== undefined && values['cert-key'] !== undefined)
    throw new ClientTlsFlagError('--key and --cert-key name the same file: give one');
  const key = values.key ?? values['cert-key'];
  if ((cert === undefined) !== (key === undefined))
    throw new ClientTlsFlagError('--cert and --key go together');
  if (cacert === undefined && cert === undefined) return undefined;
  const read = (flag: string, file: string): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch (error) {
      throw new ClientTlsFlagError(
        `${flag}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
        { file },
      );
    }
  };
  return {
    ...(cacert === undefined ? {} : { caCertificatePem: read('--cacert', cacert) }),
    ...(cert === undefined || key === undefined
      ? {}
      : { certificatePem: read('--cert', cert), privateKeyPem: read('--key', key) }),
  };
}
