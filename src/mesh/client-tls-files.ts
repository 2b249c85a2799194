/**
 * The client port's TLS files (`--cert-file`, `--key-file`, `--trusted-ca-file`,
 * `--client-cert-auth`, as etcd names them), read when the port opens and read again when they
 * change, so replaced files serve new connections without a restart (docs/OPERATIONS.md,
 * "Rotating certificates").
 */
import { readFile, stat } from 'node:fs/promises';
import { type ClientPortTls, ClientTlsError, clientCertificateAuthProblem } from '../api/index.js';
import type { Clock, Logger, TimerId } from '../lib/index.js';

/** How often the files are looked at (size and modification time) for a change. */
export const CLIENT_TLS_FILES_CHECK_INTERVAL_MS = 5_000;

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
  const problem = clientCertificateAuthProblem(
    files.clientCertificateAuth,
    files.trustedCaFile !== undefined,
  );
  return problem === undefined ? [] : [`clientTls: ${problem}`];
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

/** What the files look like now: each one's size and modification time ('missing' when unreadable). */
async function filesVersion(files: ClientPortTlsFiles): Promise<string> {
  const paths = [files.certificateFile, files.keyFile, files.trustedCaFile].filter(
    (file): file is string => file !== undefined,
  );
  const versions = await Promise.all(
    paths.map((file) =>
      stat(file).then(
        (found) => `${found.size}:${found.mtimeMs}`,
        () => 'missing',
      ),
    ),
  );
  return versions.join('|');
}

/**
 * Looks at the files every `intervalMs` of `clock` and, once they changed, reads them and hands
 * `reload` the new material. Material that does not read or load is logged and skipped (the port
 * keeps serving what it had) and tried again at the next change. The next look is set when one
 * ends, so looks never overlap. Answers the stop.
 */
export function watchClientPortTls(
  files: ClientPortTlsFiles,
  reload: (material: ClientPortTls) => void,
  logger: Logger,
  clock: Clock,
  intervalMs: number = CLIENT_TLS_FILES_CHECK_INTERVAL_MS,
): () => void {
  let known: Promise<string> = filesVersion(files);
  let stopped = false;
  let timer: TimerId | undefined;
  const check = async (): Promise<void> => {
    const before = await known;
    const now = await filesVersion(files);
    if (now === before || stopped) return;
    known = Promise.resolve(now);
    try {
      reload(await readClientPortTls(files));
      logger.info({ certificate: files.certificateFile }, 'client port: TLS certificate reloaded');
    } catch (error) {
      logger.warn(
        { err: error },
        'client port: the changed TLS files do not load; serving the previous ones',
      );
    }
  };
  const schedule = (): void => {
    timer = clock.setTimer(intervalMs, () => {
      void check().finally(() => {
        if (!stopped) schedule();
      });
    });
  };
  schedule();
  return () => {
    stopped = true;
    if (timer !== undefined) clock.clearTimer(timer);
  };
}
