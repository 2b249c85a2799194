/**
 * `meshos auth|user|role` on three real meshos processes, every step through a `meshos` CLI
 * process: root added (password from a file) and enabled with `meshos auth enable`, a read-only
 * role on app/ made with `meshos role`, and its rights in force on the members (alice reads
 * app/x, may not write it nor read other/; once the grant is revoked she may not read app/x).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runMeshos } from './meshos-process.js';
import { ProcessCluster } from './process-cluster.js';

const LEADER_TIMEOUT_MS = 60_000;
/** One CLI process: start node, connect, one or two calls; 10-30 s each were seen at load 15 on 2 cores. */
const CLI_TIMEOUT_MS = 120_000;

describe('meshos auth, user and role on three meshos processes', () => {
  let cluster: ProcessCluster | undefined;
  let directory: string | undefined;
  afterAll(async () => {
    await cluster?.stopAll();
    if (directory !== undefined) await rm(directory, { recursive: true, force: true });
  });

  it('sets up users and roles, enables auth and enforces a read-only role, all from the CLI', async () => {
    directory = await mkdtemp(join(tmpdir(), 'meshos-auth-cli-'));
    const rootPasswordFile = join(directory, 'root.password');
    const alicePasswordFile = join(directory, 'alice.password');
    await writeFile(rootPasswordFile, 'root-secret\n', { mode: 0o600 });
    await writeFile(alicePasswordFile, 'alice-secret\n', { mode: 0o600 });
    cluster = await ProcessCluster.create(3);
    cluster.startAll();
    await cluster.waitForLeader(LEADER_TIMEOUT_MS);
    const [first, second, third] = cluster.clientEndpoints;
    if (first === undefined || second === undefined || third === undefined)
      throw new Error('three endpoints');
    // Root's password from its file (out of the command line), alice's as etcdctl takes it.
    const ROOT = ['--user', 'root', '--password-file', rootPasswordFile];
    const ALICE = ['--user', 'alice:alice-secret'];

    /** `meshos ARGS` against `endpoint`: its output when it exits 0, else a failure showing it. */
    const meshos = async (args: string[], endpoint: string, code = 0): Promise<string> => {
      const result = await runMeshos(args, endpoint, CLI_TIMEOUT_MS).catch((error: unknown) => {
        throw new Error(`meshos ${args.join(' ')} --endpoints ${endpoint}: ${String(error)}`);
      });
      expect(result.code, `meshos ${args.join(' ')} --endpoints ${endpoint} said:\n${result.output}`).toBe(
        code,
      );
      return result.output;
    };

    // Independent steps run side by side (at most four): a CLI process is slow to start on a loaded machine.
    const [refusedEnable, roleAdded] = await Promise.all([
      meshos(['auth', 'enable'], first, 1),
      meshos(['role', 'add', 'app-reader'], second),
      meshos(['kv', 'put', 'app/x', 'visible'], third),
      meshos(['kv', 'put', 'other/y', 'hidden'], third),
    ]);
    expect(refusedEnable).toContain('etcdserver: root user does not exist');
    expect(roleAdded).toContain('Role app-reader created');
    const [rootAdded, aliceAdded, granted] = await Promise.all([
      meshos(['user', 'add', 'root', '--new-user-password-file', rootPasswordFile], first),
      meshos(['user', 'add', 'alice', '--new-user-password-file', alicePasswordFile], second),
      meshos(['role', 'grant-permission', 'app-reader', 'read', 'app/', '--prefix'], third),
    ]);
    expect(rootAdded).toContain('User root created');
    expect(aliceAdded).toContain('User alice created');
    expect(granted).toContain('Role app-reader updated');
    const roleGrants = await Promise.all([
      meshos(['user', 'grant-role', 'root', 'root'], first),
      meshos(['user', 'grant-role', 'alice', 'app-reader'], second),
    ]);
    expect(roleGrants).toEqual([
      expect.stringContaining('Role root is granted to user root'),
      expect.stringContaining('Role app-reader is granted to user alice'),
    ]);
    expect(await meshos(['auth', 'enable'], third)).toContain('Authentication Enabled');

    // The role's rights hold on every member: alice reads app/x, may not write it nor read other/.
    const [status, detail, anonymous, aliceList] = await Promise.all([
      meshos(['auth', 'status', '--json', ...ROOT], first),
      meshos(['user', 'get', 'alice', '--detail', ...ROOT], second),
      meshos(['kv', 'get', 'app/x'], third, 1),
      meshos(['user', 'list', ...ALICE], first, 1),
    ]);
    expect(JSON.parse(status)).toMatchObject({ enabled: true });
    expect(detail).toContain('[app/, app0) (prefix app/)');
    expect(anonymous).toContain('etcdserver: user name is empty');
    expect(aliceList).toContain('etcdserver: permission denied');
    const aliceReads = await Promise.all(
      [first, second, third].map((endpoint) => meshos(['kv', 'get', 'app/x', ...ALICE], endpoint)),
    );
    for (const read of aliceReads) expect(read).toContain('visible');
    const aliceRefused = await Promise.all([
      ...[first, second, third].map((endpoint) =>
        meshos(['kv', 'put', 'app/x', 'changed', ...ALICE], endpoint, 1),
      ),
      meshos(['kv', 'get', 'other/y', ...ALICE], second, 1),
    ]);
    for (const refusal of aliceRefused) expect(refusal).toContain('AUTH_PERMISSION_DENIED');

    // Revoked through one member, the grant is gone on the others at once.
    expect(
      await meshos(['role', 'revoke-permission', 'app-reader', 'app/', '--prefix', ...ROOT], first),
    ).toContain('Permission of range [app/, app0) is revoked from role app-reader');
    const [secondRead, thirdRead, rootKept] = await Promise.all([
      meshos(['kv', 'get', 'app/x', ...ALICE], second, 1),
      meshos(['kv', 'get', 'app/x', ...ALICE], third, 1),
      // Root cannot lose its role while auth is on (etcd's message).
      meshos(['user', 'revoke-role', 'root', 'root', ...ROOT], first, 1),
    ]);
    expect(secondRead).toContain('AUTH_PERMISSION_DENIED');
    expect(thirdRead).toContain('AUTH_PERMISSION_DENIED');
    expect(rootKept).toContain('etcdserver: invalid auth management');
    expect(await meshos(['auth', 'disable', ...ROOT], second)).toContain('Authentication Disabled');
    expect(await meshos(['kv', 'get', 'other/y'], third)).toContain('hidden');
  }, 600_000);
});
