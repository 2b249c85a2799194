/**
 * etcdctl 3.4 (Debian's etcd-client package) against a real three-node MeshOS cluster: by
 * default every command gets all three endpoints (so requests land on followers too). Endpoints are written `http://host:port`, as most users write them (etcdctl then sends the whole
 * URL as the HTTP/2 authority of its per-endpoint calls). Each command runs with execFile (no
 * shell) and a bounded timeout. A missing etcdctl fails every test here with a clear message.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECORD_OVERHEAD_BYTES } from '../../src/kv/index.js';
import type { MeshNode } from '../../src/mesh/index.js';
import { sealedSnapshotProblem } from '../../src/protocol/index.js';
import { until } from '../support/until.js';
import { type ConformanceCluster, startConformanceCluster } from './cluster.js';

const ETCDCTL = 'etcdctl';
const COMMAND_TIMEOUT_MS = 10_000;
const MISSING_MESSAGE = 'etcdctl is not installed: run `apt-get install -y etcd-client` (CI installs it)';

interface Outcome {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

let cluster: ConformanceCluster;
let etcdctlMissing: string | undefined;

/** The node's endpoint as users write it. */
function url(node: MeshNode): string {
  return `http://${cluster.address(node)}`;
}

/** The revision every node reaches once the last acknowledged write is applied. */
async function revision(): Promise<number> {
  return (await cluster.leader()).backend.currentRevision();
}

function etcdctlEnvironment(): NodeJS.ProcessEnv {
  return { ...process.env, ETCDCTL_API: '3' };
}

/** Runs etcdctl against the server; resolves with its output whatever the exit code. */
function etcdctl(args: readonly string[], input?: string, urls = cluster.urls): Promise<Outcome> {
  if (etcdctlMissing !== undefined) throw new Error(etcdctlMissing);
  return new Promise((resolve, reject) => {
    const child = execFile(
      ETCDCTL,
      [`--endpoints=${urls.join(',')}`, '--command-timeout=5s', ...args],
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

async function ok(args: readonly string[], input?: string, urls?: readonly string[]): Promise<string> {
  const outcome = await etcdctl(args, input, urls);
  if (outcome.exitCode !== 0) throw new Error(`etcdctl ${args.join(' ')} failed: ${outcome.stderr}`);
  return outcome.stdout;
}

function fromBase64(text: string): string {
  return Buffer.from(text, 'base64').toString('utf8');
}

beforeAll(async () => {
  cluster = await startConformanceCluster('etcdctl-conformance');
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
  await cluster?.close();
});

describe('etcdctl against a three-node cluster', () => {
  it('is installed', () => {
    expect(etcdctlMissing, etcdctlMissing).toBeUndefined();
  });

  it('puts through a follower and gets the key, plain and as JSON, from every node', async () => {
    const follower = await cluster.follower();
    expect(await ok(['put', 'ctl/key', 'hello'], undefined, [url(follower)])).toBe('OK\n');
    for (const node of cluster.nodes) {
      expect(await ok(['get', 'ctl/key'], undefined, [url(node)])).toBe('ctl/key\nhello\n');
    }
    const answer = JSON.parse(await ok(['get', 'ctl/key', '-w', 'json'], undefined, [url(follower)]));
    // Between the put's revision and the leader's now: the nodes' own services may write meanwhile.
    expect(answer.header.revision).toBeGreaterThanOrEqual(answer.kvs[0].mod_revision);
    expect(answer.header.revision).toBeLessThanOrEqual(await revision());
    expect(answer.header.cluster_id).toBe(Number(follower.backend.clusterId));
    expect(answer.header.member_id).toBe(Number(follower.backend.memberId));
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
    // Real time passes between the keepalive and this read: a second may be gone.
    expect(await ok(['lease', 'timetolive', id, '--keys'])).toMatch(
      new RegExp(
        `^lease ${id} granted with TTL\\(60s\\), remaining\\((59|60)s\\), attached keys\\(\\[ctl/leased\\]\\)\n$`,
      ),
    );
    expect(await ok(['lease', 'list'])).toContain(id);
    expect(await ok(['lease', 'revoke', id])).toBe(`lease ${id} revoked\n`);
    expect(await ok(['get', 'ctl/leased'])).toBe('');
    expect(await ok(['lease', 'timetolive', id])).toBe(`lease ${id} already expired\n`);
  });

  it('lists the members, each with its client URL', async () => {
    const members = JSON.parse(await ok(['member', 'list', '-w', 'json']));
    const byId = new Map(members.members.map((member: { ID: number }) => [member.ID, member]));
    for (const node of cluster.nodes) {
      const member = byId.get(Number(node.backend.memberId)) as { name: string; clientURLs: string[] };
      expect(member.name).toBe(node.config.name);
      expect(member.clientURLs).toEqual([url(node)]);
    }
    expect(byId.size).toBe(3);
  });

  it('reports endpoint status of every http:// endpoint, with one leader', async () => {
    const leader = await cluster.leader();
    const status = JSON.parse(await ok(['endpoint', 'status', '-w', 'json']));
    expect(status.map((entry: { Endpoint: string }) => entry.Endpoint)).toEqual(cluster.urls);
    for (const [index, entry] of status.entries()) {
      const node = cluster.nodes[index]!;
      expect(entry.Status.header.member_id).toBe(Number(node.backend.memberId));
      expect(entry.Status.leader).toBe(Number(leader.backend.memberId));
      expect(entry.Status.version).toBe((await node.backend.status()).version);
    }
  });

  it('reports health and defragments every http:// endpoint', async () => {
    const health = await etcdctl(['endpoint', 'health']);
    expect(health.exitCode).toBe(0);
    // etcdctl 3.4 prints the health lines on stderr, in the order the answers come.
    const printed = health.stdout + health.stderr;
    for (const endpoint of cluster.urls) expect(printed).toMatch(new RegExp(`^${endpoint} is healthy`, 'm'));
    expect(await ok(['defrag'])).toBe(
      cluster.urls.map((endpoint) => `Finished defragmenting etcd member[${endpoint}]\n`).join(''),
    );
  });

  it('compares members with endpoint hashkv --cluster at a revision every member applied', async () => {
    await ok(['put', 'hashkv/a', '1']);
    const at = await revision();
    // The nodes' own services may write meanwhile: the members are compared at one revision.
    await until(
      () => cluster.nodes.every((node) => node.backend.currentRevision() >= at),
      `every member at revision ${at}`,
    );
    const answers = JSON.parse(
      await ok(['endpoint', 'hashkv', '--cluster', `--rev=${at}`, '-w', 'json']),
    ) as {
      Endpoint: string;
      HashKV: { hash: number };
    }[];
    expect(answers.map((answer) => answer.Endpoint).sort()).toEqual([...cluster.urls].sort());
    const expected = await (await cluster.leader()).backend.hashKv(at);
    for (const answer of answers) expect(answer.HashKV.hash).toBe(expected.hash);
  });

  it('saves a snapshot with snapshot save: the data in 512-byte pages, then its SHA-256', async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'meshos-etcdctl-snapshot-'));
    try {
      const file = path.join(directory, 'backup.db');
      expect(await ok(['snapshot', 'save', file], undefined, [url(await cluster.leader())])).toContain(
        `Snapshot saved at ${file}`,
      );
      expect(sealedSnapshotProblem(await readFile(file))).toBeUndefined();
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('moves leadership with move-leader through http:// endpoints', async () => {
    const before = await cluster.leader();
    const target = await cluster.follower();
    const hexId = (node: MeshNode): string => node.backend.memberId.toString(16);
    // etcdctl asks every endpoint for its status (per-endpoint calls) to find the leader first.
    expect(await ok(['move-leader', hexId(target)])).toBe(
      `Leadership transferred from ${hexId(before)} to ${hexId(target)}\n`,
    );
    expect(target.isLeader()).toBe(true);
  });

  it('prints etcd error messages for a future revision and a compacted one', async () => {
    const future = await etcdctl(['get', 'ctl/key', `--rev=${(await revision()) + 100}`]);
    expect(future.exitCode).not.toBe(0);
    expect(future.stderr).toContain('etcdserver: mvcc: required revision is a future revision');
    const current = await revision();
    expect(await ok(['compact', String(current)])).toBe(`compacted revision ${current}\n`);
    const compacted = await etcdctl(['get', 'ctl/key', `--rev=${current - 1}`]);
    expect(compacted.exitCode).not.toBe(0);
    expect(compacted.stderr).toContain('etcdserver: mvcc: required revision has been compacted');
  });
});

/** Runs a long-lived etcdctl watch until its output starts with `expected`, then kills it. */
function watchUntil(args: readonly string[], expected: string): Promise<string> {
  if (etcdctlMissing !== undefined) throw new Error(etcdctlMissing);
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(ETCDCTL, [`--endpoints=${cluster.urls.join(',')}`, ...args], {
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
    // Values large beside the records the mesh's own services keep (node reports, maintenance
    // states, the reconciler's seat), so compacting the test's puts frees room for those too.
    const value = 'v'.repeat(4_096);
    const quotaBackendBytes = 16 * ('quota/0'.length + value.length + RECORD_OVERHEAD_BYTES);
    // No proximity rows: their writes every few seconds would fill a quota this small again.
    const small = await startConformanceCluster('etcdctl-quota', { quotaBackendBytes, proximity: false });
    try {
      const leader = await small.leader();
      const address = [`http://${small.address(leader)}`];
      let refused: Outcome | undefined;
      for (let index = 0; index < 20 && refused === undefined; index++) {
        const outcome = await etcdctl(['put', `quota/${index % 5}`, value], undefined, address);
        if (outcome.exitCode !== 0) refused = outcome;
      }
      expect(refused?.stderr).toContain('etcdserver: mvcc: database space exceeded');
      const memberId = String(leader.backend.memberId);
      // etcdctl prints the alarm message's text form, which ends in a space. The leader refused
      // the put; a member whose own writes (its reconcile report, its maintenance record) met
      // the full quota raised its alarm too, as etcd members do.
      const alarms = await ok(['alarm', 'list'], undefined, address);
      const alarmLines = alarms.split('\n').filter((line) => line !== '');
      expect(alarmLines).toContain(`memberID:${memberId} alarm:NOSPACE `);
      for (const line of alarmLines) expect(line).toMatch(/^memberID:\d+ alarm:NOSPACE $/);
      const status = JSON.parse(await ok(['endpoint', 'status', '-w', 'json'], undefined, address));
      expect(status[0].Status.errors).toContain(`memberID:${memberId} alarm:NOSPACE`);
      // Still refused after compaction frees the space: the alarm holds until it is disarmed.
      await ok(['compact', String(leader.backend.currentRevision())], undefined, address);
      expect((await etcdctl(['put', 'quota/x', 'v'], undefined, address)).stderr).toContain(
        'database space exceeded',
      );
      const disarmed = (await ok(['alarm', 'disarm'], undefined, address))
        .split('\n')
        .filter((line) => line !== '');
      expect(disarmed).toContain(`memberID:${memberId} alarm:NOSPACE `);
      expect(await ok(['alarm', 'list'], undefined, address)).toBe('');
      expect(await ok(['put', 'quota/x', 'v'], undefined, address)).toBe('OK\n');
    } finally {
      await small.close();
    }
  });
});
