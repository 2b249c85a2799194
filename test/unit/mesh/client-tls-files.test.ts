/** The client port's TLS files: read with a typed error naming the file, and read again when they change. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientPortTls } from '../../../src/api/index.js';
import { isMeshError, SystemClock } from '../../../src/lib/index.js';
import { silentLogger } from '../../../src/lib/node/index.js';
import { type ClientPortTlsFiles, readClientPortTls, watchClientPortTls } from '../../../src/mesh/index.js';
import { until } from '../../support/until.js';

let root: string;
let files: ClientPortTlsFiles;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'meshos-tls-files-'));
  files = {
    certificateFile: path.join(root, 'cert.pem'),
    keyFile: path.join(root, 'key.pem'),
    trustedCaFile: path.join(root, 'ca.pem'),
    clientCertificateAuth: true,
  };
  await writeFile(files.certificateFile, 'certificate 1');
  await writeFile(files.keyFile, 'key 1');
  await writeFile(files.trustedCaFile!, 'ca 1');
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('client port TLS files', () => {
  it('read into the port material', async () => {
    expect(await readClientPortTls(files)).toEqual({
      certificatePem: 'certificate 1',
      privateKeyPem: 'key 1',
      trustedCaPem: 'ca 1',
      clientCertificateAuth: true,
    });
  });

  it('name the file that cannot be read with CLIENT_TLS', async () => {
    const missing = path.join(root, 'missing.pem');
    const error = await readClientPortTls({ ...files, keyFile: missing }).catch((thrown: unknown) => thrown);
    expect(isMeshError(error, 'CLIENT_TLS')).toBe(true);
    expect((error as Error).message).toContain(missing);
  });

  it('are read again once they change, and a reload that fails waits for the next change', async () => {
    const reloaded: ClientPortTls[] = [];
    let failNext = true;
    const stop = watchClientPortTls(
      files,
      (material) => {
        if (failNext) {
          failNext = false;
          throw new Error('does not load');
        }
        reloaded.push(material);
      },
      silentLogger,
      new SystemClock(),
      10,
    );
    try {
      await writeFile(files.certificateFile, 'certificate 2');
      await until(() => !failNext, 'the first change to be tried');
      await writeFile(files.keyFile, 'key 2');
      // The failed reload handed over nothing; a later change is read again, whole.
      await until(() => reloaded.at(-1)?.privateKeyPem === 'key 2', 'the key change to be reloaded');
      expect(reloaded.at(-1)).toMatchObject({ certificatePem: 'certificate 2', privateKeyPem: 'key 2' });
    } finally {
      stop();
    }
  });
});
