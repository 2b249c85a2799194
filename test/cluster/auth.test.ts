/**
 * etcd authentication and roles on three real meshos processes, driven with etcdctl: a user with
 * read-only rights on app/ reads app/x but cannot write it or read other/; a revoked role takes
 * effect at once on every member; a wrong password is refused and counted in /metrics; the auth
 * state survives a restart of every member.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { etcdctl } from './etcdctl.js';
import { ProcessCluster } from './process-cluster.js';

const LEADER_TIMEOUT_MS = 60_000;
const ROOT = ['--user', 'root:root-secret'];
const ALICE = ['--user', 'alice:alice-secret'];

/** etcdctl's stderr when it fails (the test asserts on etcd's error text). */
async function failure(run: Promise<string>): Promise<string> {
  try {
    const out = await run;
    return `unexpected success: ${out}`;
  } catch (error) {
    return String(error);
  }
}

async function metric(admin: string, name: string, label: string): Promise<number> {
  const text = await (await fetch(`http://${admin}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}{${label}}`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

describe('etcd auth on three meshos processes', () => {
  let cluster: ProcessCluster | undefined;
  afterAll(async () => {
    await cluster?.stopAll();
  });

  it('enforces roles on every member, counts refusals and keeps its state across restarts', async () => {
    cluster = await ProcessCluster.create(3);
    cluster.startAll();
    await cluster.waitForLeader(LEADER_TIMEOUT_MS);
    const all = cluster.clientEndpoints;
    const each = all.map((endpoint) => [endpoint]);

    // Set up as etcd's documentation does, before auth is on.
    await etcdctl(all, ['user', 'add', 'root:root-secret']);
    await etcdctl(all, ['user', 'grant-role', 'root', 'root']);
    await etcdctl(all, ['role', 'add', 'reader']);
    await etcdctl(all, ['role', 'grant-permission', 'reader', 'read', 'app/', '--prefix']);
    await etcdctl(all, ['role', 'add', 'writer']);
    await etcdctl(all, ['role', 'grant-permission', 'writer', 'readwrite', 'app/w/', '--prefix']);
    await etcdctl(all, ['user', 'add', 'alice:alice-secret']);
    await etcdctl(all, ['user', 'grant-role', 'alice', 'reader']);
    await etcdctl(all, ['user', 'grant-role', 'alice', 'writer']);
    await etcdctl(all, ['put', 'app/x', 'visible']);
    await etcdctl(all, ['put', 'other/y', 'hidden']);
    expect(await etcdctl(all, ['auth', 'enable'])).toContain('Authentication Enabled');

    expect(await etcdctl(all, [...ALICE, 'get', 'app/x', '--print-value-only'])).toBe('visible\n');
    expect(await failure(etcdctl(all, [...ALICE, 'put', 'app/x', 'changed']))).toContain(
      'etcdserver: permission denied',
    );
    expect(await failure(etcdctl(all, [...ALICE, 'get', 'other/y']))).toContain(
      'etcdserver: permission denied',
    );
    expect(await failure(etcdctl(all, ['get', 'app/x']))).toContain('etcdserver: user name is empty');
    expect(await etcdctl(all, [...ROOT, 'get', 'other/y', '--print-value-only'])).toBe('hidden\n');
    expect(await etcdctl(all, [...ROOT, 'user', 'get', 'alice'])).toMatch(/Roles: reader writer/);
    expect(await etcdctl(all, [...ROOT, 'role', 'get', 'reader'])).toContain('[app/, app0)');

    // A wrong password is refused by the member asked, and counted there.
    const [firstAdmin] = cluster.plans.map((plan) => plan.admin);
    const failedBefore = await metric(firstAdmin!, 'meshos_auth_refusals', 'code="AUTH_FAILED"');
    expect(await failure(etcdctl(each[0]!, ['--user', 'alice:wrong', 'get', 'app/x']))).toContain(
      'etcdserver: authentication failed, invalid user ID or password',
    );
    expect(await metric(firstAdmin!, 'meshos_auth_refusals', 'code="AUTH_FAILED"')).toBeGreaterThan(
      failedBefore,
    );

    // Alice writes under app/w/ through every member; once writer is revoked (through member 1),
    // every member refuses her next write and her read of it at once.
    for (const [index, endpoint] of each.entries())
      await etcdctl(endpoint, [...ALICE, 'put', `app/w/${index}`, 'mine']);
    await etcdctl(each[0]!, [...ROOT, 'user', 'revoke-role', 'alice', 'writer']);
    for (const [index, endpoint] of each.entries()) {
      expect(await failure(etcdctl(endpoint, [...ALICE, 'put', `app/w/${index}`, 'again']))).toContain(
        'etcdserver: permission denied',
      );
      expect(await etcdctl(endpoint, [...ALICE, 'get', 'app/x', '--print-value-only'])).toBe('visible\n');
    }

    // Every member restarts; users, roles, grants and the enabled flag come back.
    await cluster.stopAll();
    cluster.startAll();
    await cluster.waitForLeader(LEADER_TIMEOUT_MS);
    // etcdctl 3.4 has no `auth status`: a request without a user shows auth is still on.
    expect(await failure(etcdctl(all, ['get', 'app/x']))).toContain('etcdserver: user name is empty');
    expect(await etcdctl(all, [...ALICE, 'get', 'app/x', '--print-value-only'])).toBe('visible\n');
    expect(await failure(etcdctl(all, [...ALICE, 'put', 'app/w/0', 'after restart']))).toContain(
      'etcdserver: permission denied',
    );
    expect(await etcdctl(all, [...ROOT, 'user', 'list'])).toBe('alice\nroot\n');
    expect(await etcdctl(all, [...ROOT, 'auth', 'disable'])).toContain('Authentication Disabled');
    expect(await etcdctl(all, ['get', 'other/y', '--print-value-only'])).toBe('hidden\n');
  }, 240_000);
});
