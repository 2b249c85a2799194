/**
 * etcd authentication and roles on three real meshos processes, driven with etcdctl: a user with
 * read-only rights on app/ reads app/x but cannot write it or read other/; a revoked role takes
 * effect at once on every member; a wrong password is refused and counted in /metrics; the auth
 * state survives a restart of every member.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { MeshClient } from '../../src/client/index.js';
import { isMeshError } from '../../src/lib/index.js';
import { metric } from './admin-metrics.js';
import { CHAIN_CALL_TIMEOUT_MS, createChain } from './chain-cluster.js';
import { etcdctl } from './etcdctl.js';
import { runMeshos } from './meshos-process.js';
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

/** The typed error code a MeshOS client call was refused with. */
async function refusedCode(run: Promise<unknown>): Promise<string> {
  try {
    await run;
    return 'accepted';
  } catch (error) {
    return isMeshError(error) ? error.code : String(error);
  }
}

function connectAs(endpoints: readonly string[], user: string, password: string): Promise<MeshClient> {
  return MeshClient.connect({ endpoints, timeoutMs: CHAIN_CALL_TIMEOUT_MS, credentials: { user, password } });
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
    // Admin calls are root's.
    expect(await failure(etcdctl(all, [...ALICE, 'endpoint', 'hashkv']))).toContain(
      'etcdserver: permission denied',
    );
    expect(await failure(etcdctl(all, [...ALICE, 'user', 'list']))).toContain(
      'etcdserver: permission denied',
    );
    expect(await etcdctl(each[0]!, [...ROOT, 'endpoint', 'hashkv'])).toContain(each[0]![0]);

    // A wrong password is refused by the member asked, and counted there.
    const [firstAdmin] = cluster.plans.map((plan) => plan.admin);
    const failedBefore = await metric(firstAdmin!, 'meshos_auth_refusals', 'code="AUTH_FAILED"');
    expect(await failure(etcdctl(each[0]!, ['--user', 'alice:wrong', 'get', 'app/x']))).toContain(
      'etcdserver: authentication failed, invalid user ID or password',
    );
    expect(await metric(firstAdmin!, 'meshos_auth_refusals', 'code="AUTH_FAILED"')).toBeGreaterThan(
      failedBefore,
    );

    // The admin port authenticates no one, so its actions (the Deck's Drain) wait for auth off.
    const drain = await fetch(`http://${firstAdmin!}/actions/maintenance`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ node: 2, target: 'enter' }),
    });
    expect(drain.status).toBe(400);
    expect(((await drain.json()) as { code?: string }).code).toBe('ADMIN_ACTIONS_NEED_AUTH_OFF');

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

    // The MeshOS client with --user semantics: the same rights on keys, and chains by their
    // control-plane key (/meshos/v1/chains/NAME).
    const root = await connectAs(all, 'root', 'root-secret');
    await createChain(root, 'orders', 3);
    await createChain(root, 'payments', 3);
    root.close();
    await etcdctl(all, [...ROOT, 'role', 'add', 'orders-writer']);
    await etcdctl(all, [
      ...ROOT,
      'role',
      'grant-permission',
      'orders-writer',
      'readwrite',
      '/meshos/v1/chains/orders',
    ]);
    await etcdctl(all, [...ROOT, 'user', 'grant-role', 'alice', 'orders-writer']);
    const alice = await connectAs(all, 'alice', 'alice-secret');
    try {
      expect(new TextDecoder().decode((await alice.get('app/x'))?.value)).toBe('visible');
      expect(await refusedCode(alice.put('app/x', 'changed'))).toBe('AUTH_PERMISSION_DENIED');
      expect(await refusedCode(alice.get('other/y'))).toBe('AUTH_PERMISSION_DENIED');
      expect((await alice.chains.append('orders', 'order-1')).firstOffset).toBeGreaterThanOrEqual(0);
      expect((await alice.chains.read('orders')).records.length).toBeGreaterThan(0);
      expect(await refusedCode(alice.chains.append('payments', 'stolen'))).toBe('AUTH_PERMISSION_DENIED');
      expect(await refusedCode(alice.chains.read('payments'))).toBe('AUTH_PERMISSION_DENIED');
      expect(await refusedCode(alice.chains.list())).toBe('AUTH_PERMISSION_DENIED');
      // Daemons and blobs by their keys as well (no grant under /meshos/v1/daemons/ or blobs/).
      expect(await refusedCode(alice.daemons.list())).toBe('AUTH_PERMISSION_DENIED');
      expect(await refusedCode(alice.blobs.list())).toBe('AUTH_PERMISSION_DENIED');
    } finally {
      alice.close();
    }
    expect(await refusedCode(connectAs(all, 'alice', 'wrong').then((client) => client.close()))).toBe(
      'AUTH_FAILED',
    );

    // The meshos CLI with etcdctl's --user (and --password).
    const cliTimeoutMs = 30_000;
    const cliGet = await runMeshos(
      ['kv', 'get', 'app/x', '--user', 'alice:alice-secret'],
      all[1]!,
      cliTimeoutMs,
    );
    expect(cliGet.code).toBe(0);
    expect(cliGet.output).toContain('visible');
    const cliPut = await runMeshos(
      ['kv', 'put', 'app/x', 'changed', '--user', 'alice', '--password', 'alice-secret'],
      all[2]!,
      cliTimeoutMs,
    );
    expect(cliPut.code).toBe(1);
    expect(cliPut.output).toContain('AUTH_PERMISSION_DENIED');
    const cliAnonymous = await runMeshos(['kv', 'get', 'app/x'], all[0]!, cliTimeoutMs);
    expect(cliAnonymous.code).toBe(1);
    expect(cliAnonymous.output).toContain('AUTH_USER_EMPTY');

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
