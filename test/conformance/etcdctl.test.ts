/**
 * etcdctl 3.4 (Debian's etcd-client package) against the etcd API over a single-process backend.
 * Endpoints are written `http://host:port`, as most users write them (etcdctl then sends the whole
 * URL as the HTTP/2 authority of its per-endpoint calls). Each command runs with execFile (no
 * shell) and a bounded timeout. A missing etcdctl fails every test here with a clear message.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECORD_OVERHEAD_BYTES } from '../../src/kv/index.js';
import { type LocalEtcd, startLocalEtcd } from './harness.js';

const ETCDCTL = 'etcdctl';
const COMMAND_TIMEOUT_MS = 10_000;
const MISSING_MESSAGE = 'etcdctl is not installed: run `apt-get install -y etcd-client` (CI installs it)';

interface Outcome {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

let etcd: LocalEtcd;
let etcdctlMissing: string | undefined;

/** The endpoint as users write it. */
function url(address = etcd.server.address): string {
  return `http://${address}`;
}

function etcdctlEnvironment(): NodeJS.ProcessEnv {
  return { ...process.env, ETCDCTL_API: '3' };
}

/** Runs etcdctl against the server; resolves with its output whatever the exit code. */
function etcdctl(args: readonly string[], input?: string, address = etcd.server.address): Promise<Outcome> {
  if (etcdctlMissing !== undefined) throw new Error(etcdctlMissing);
  return new Promise((resolve, reject) => {
    const child = execFile(
      ETCDCTL,
      [`--endpoints=${url(address)}`, '--command-timeout=5s', ...args],
      { env: etcdctlEnvironment(), timeout: COMMAND_TIMEOUT_MS },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== 'number') {
          reject(error);
          return;
        }
        resolve({ stdout, stderr, exitCode: error === null ? 0 : Number(error.code) });
      },
    );
    child.stdin?.end(input ?? '');
  });
}

async function ok(args: readonly string[], input?: string, address?: string): Promise<string> {
  const outcome = await etcdctl(args, input, address);
  if (outcome.exitCode !== 0) throw new Error(`etcdctl ${args.join(' ')} failed: ${outcome.stderr}`);
  return outcome.stdout;
}

function fromBase64(text: string): string {
  return Buffer.from(text, 'base64').toString('utf8');
}

beforeAll(async () => {
  etcd = await startLocalEtcd({ name: 'etcdctl-conformance' });
  etcdctlMissing = await new Promise<string | undefined>((resolve) => {
    execFile(
      ETCDCTL,
      ['version'],
      { env: etcdctlEnvironment(), timeout: COMMAND_TIMEOUT_MS },
      (error, stdout) => {
        if (error !== null) resolve(`${MISSING_MESSAGE} (${error.message})`);
        else if (!stdout.includes('API version: 3'))
          resolve(`${MISSING_MESSAGE} (unexpected version output)`);
        else resolve(undefined);
      },
    );
  });
});

afterAll(async () => {
  await etcd.close();
});

describe('etcdctl against the etcd API', () => {
  it('is installed', () => {
    expect(etcdctlMissing, etcdctlMissing).toBeUndefined();
  });

  it('puts and gets a key, plain and as JSON', async () => {
    expect(await ok(['put', 'ctl/key', 'hello'])).toBe('OK\n');
    expect(await ok(['get', 'ctl/key'])).toBe('ctl/key\nhello\n');
    const answer = JSON.parse(await ok(['get', 'ctl/key', '-w', 'json']));
    expect(answer.header.revision).toBe(etcd.backend.currentRevision());
    expect(answer.header.cluster_id).toBe(Number(etcd.backend.clusterId));
    expect(answer.header.member_id).toBe(Number(etcd.backend.memberId));
    expect(answer.count).toBe(1);
    expect(fromBase64(answer.kvs[0].key)).toBe('ctl/key');
    expect(fromBase64(answer.kvs[0].value)).toBe('hello');
    expect(answer.kvs[0].version).toBe(1);
    expect(answer.kvs[0].create_revision).toBe(answer.kvs[0].mod_revision);
  });

  it('reads a prefix with a limit and deletes a prefix', async () => {
    for (const name of ['a', 'b', 'c']) await ok(['put', `ctl/list/${name}`, name]);
    expect(await ok(['get', 'ctl/list/', '--prefix', '--keys-only', '--limit=2'])).toBe(
      'ctl/list/a\n\nctl/list/b\n\n',
    );
    const limited = JSON.parse(await ok(['get', 'ctl/list/', '--prefix', '--limit=1', '-w', 'json']));
    expect(limited.count).toBe(3);
    expect(limited.more).toBe(true);
    expect(limited.kvs).toHaveLength(1);
    expect(await ok(['del', 'ctl/list/', '--prefix'])).toBe('3\n');
    expect(await ok(['get', 'ctl/list/', '--prefix'])).toBe('');
  });

  it('runs a txn read from stdin', async () => {
    await ok(['put', 'ctl/txn', 'start']);
    const script = [
      'value("ctl/txn") = "start"',
      '',
      'put ctl/txn then',
      '',
      'put ctl/txn else',
      '',
      '',
    ].join('\n');
    const output = await ok(['txn', '--interactive=false'], script);
    expect(output.split('\n')[0]).toBe('SUCCESS');
    expect(await ok(['get', 'ctl/txn', '--print-value-only'])).toBe('then\n');
    const again = await ok(['txn', '--interactive=false'], script);
    expect(again.split('\n')[0]).toBe('FAILURE');
    expect(await ok(['get', 'ctl/txn', '--print-value-only'])).toBe('else\n');
  });

  it('watches from a past revision and prints the events', async () => {
    const first = JSON.parse(await ok(['put', 'ctl/watch', 'one', '-w', 'json']));
    await ok(['put', 'ctl/watch', 'two']);
    await ok(['del', 'ctl/watch']);
    const expected = 'PUT\nctl/watch\none\nPUT\nctl/watch\ntwo\nDELETE\nctl/watch\n';
    const printed = await watchUntil(['watch', 'ctl/watch', `--rev=${first.header.revision}`], expected);
    expect(printed.startsWith(expected)).toBe(true);
  });

  it('grants a lease, keeps it alive once, reads its TTL, and revokes it', async () => {
    const granted = await ok(['lease', 'grant', '60']);
    const match = /^lease ([0-9a-f]+) granted with TTL\(60s\)/.exec(granted);
    expect(match, granted).not.toBeNull();
    const id = match?.[1] as string;
    await ok(['put', 'ctl/leased', 'v', `--lease=${id}`]);
    expect(await ok(['lease', 'keep-alive', '--once', id])).toBe(`lease ${id} keepalived with TTL(60)\n`);
    expect(await ok(['lease', 'timetolive', id, '--keys'])).toBe(
      `lease ${id} granted with TTL(60s), remaining(60s), attached keys([ctl/leased])\n`,
    );
    expect(await ok(['lease', 'list'])).toContain(id);
    expect(await ok(['lease', 'revoke', id])).toBe(`lease ${id} revoked\n`);
    expect(await ok(['get', 'ctl/leased'])).toBe('');
    expect(await ok(['lease', 'timetolive', id])).toBe(`lease ${id} already expired\n`);
  });

  it('lists members and reports endpoint status', async () => {
    const members = JSON.parse(await ok(['member', 'list', '-w', 'json']));
    expect(members.members).toHaveLength(1);
    expect(members.members[0].ID).toBe(Number(etcd.backend.memberId));
    expect(members.members[0].name).toBe('etcdctl-conformance');
    const status = JSON.parse(await ok(['endpoint', 'status', '-w', 'json']));
    expect(status[0].Endpoint).toBe(url());
    expect(status[0].Status.header.revision).toBe(etcd.backend.currentRevision());
    expect(status[0].Status.leader).toBe(Number(etcd.backend.memberId));
    expect(status[0].Status.version).toBe((await etcd.backend.status()).version);
  });

  it('reports health and defragments through an http:// endpoint', async () => {
    const health = await etcdctl(['endpoint', 'health']);
    expect(health.exitCode).toBe(0);
    // etcdctl 3.4 prints the health line on stderr.
    expect(health.stdout + health.stderr).toMatch(new RegExp(`^${url()} is healthy`, 'm'));
    expect(await ok(['defrag'])).toBe(`Finished defragmenting etcd member[${url()}]\n`);
  });

  it('answers endpoint hashkv with UNIMPLEMENTED, not a reset stream', async () => {
    const outcome = await etcdctl(['endpoint', 'hashkv']);
    expect(outcome.exitCode).not.toBe(0);
    expect(outcome.stderr).toContain('code = Unimplemented');
    expect(outcome.stderr).not.toContain('PROTOCOL_ERROR');
  });

  it('prints etcd error messages for a future revision and a compacted one', async () => {
    const future = await etcdctl(['get', 'ctl/key', `--rev=${etcd.backend.currentRevision() + 100}`]);
    expect(future.exitCode).not.toBe(0);
    expect(future.stderr).toContain('etcdserver: mvcc: required revision is a future revision');
    const revision = etcd.backend.currentRevision();
    expect(await ok(['compact', String(revision)])).toBe(`compacted revision ${revision}\n`);
    const compacted = await etcdctl(['get', 'ctl/key', `--rev=${revision - 1}`]);
    expect(compacted.exitCode).not.toBe(0);
    expect(compacted.stderr).toContain('etcdserver: mvcc: required revision has been compacted');
  });
});

/** Runs a long-lived etcdctl watch until its output starts with `expected`, then kills it. */
function watchUntil(args: readonly string[], expected: string): Promise<string> {
  if (etcdctlMissing !== undefined) throw new Error(etcdctlMissing);
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(ETCDCTL, [`--endpoints=${url()}`, ...args], {
      env: etcdctlEnvironment(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let errors = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`etcdctl watch printed ${JSON.stringify(output)} before the timeout; stderr ${errors}`),
      );
    }, COMMAND_TIMEOUT_MS);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.length >= expected.length) {
        clearTimeout(timer);
        child.kill('SIGKILL');
        resolve(output);
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      errors += chunk.toString();
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

describe('etcdctl and the space quota', () => {
  it('shows NOSPACE in alarm list after a put passes the quota; compact and disarm let writes in again', async () => {
    const value = 'v'.repeat(100);
    const quotaBackendBytes = 10 * ('quota/0'.length + value.length + RECORD_OVERHEAD_BYTES);
    const small = await startLocalEtcd({ name: 'etcdctl-quota', quotaBackendBytes });
    const address = small.server.address;
    try {
      let refused: Outcome | undefined;
      for (let index = 0; index < 20 && refused === undefined; index++) {
        const outcome = await etcdctl(['put', `quota/${index % 5}`, value], undefined, address);
        if (outcome.exitCode !== 0) refused = outcome;
      }
      expect(refused?.stderr).toContain('etcdserver: mvcc: database space exceeded');
      const memberId = String(small.backend.memberId);
      // etcdctl prints the alarm message's text form, which ends in a space.
      expect(await ok(['alarm', 'list'], undefined, address)).toBe(`memberID:${memberId} alarm:NOSPACE \n`);
      const status = JSON.parse(await ok(['endpoint', 'status', '-w', 'json'], undefined, address));
      expect(status[0].Status.errors).toEqual([`memberID:${memberId} alarm:NOSPACE`]);
      // Still refused after compaction frees the space: the alarm holds until it is disarmed.
      await ok(['compact', String(small.backend.currentRevision())], undefined, address);
      expect((await etcdctl(['put', 'quota/x', 'v'], undefined, address)).stderr).toContain(
        'database space exceeded',
      );
      expect(await ok(['alarm', 'disarm'], undefined, address)).toBe(`memberID:${memberId} alarm:NOSPACE \n`);
      expect(await ok(['alarm', 'list'], undefined, address)).toBe('');
      expect(await ok(['put', 'quota/x', 'v'], undefined, address)).toBe('OK\n');
    } finally {
      await small.close();
    }
  });
});
