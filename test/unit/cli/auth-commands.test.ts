/**
 * `meshos auth|user|role` against an in-process etcd API server with an auth store: etcdctl's text
 * output, `--json`, root's rights once auth is on, and etcd's refusals printed with their codes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authCommand, roleCommand, userCommand } from '../../../src/cli/commands/index.js';
import { startTestNode, type TestNode } from '../client/cluster-fixture.js';

type Handler = typeof authCommand;

describe('meshos auth, user and role on a node', () => {
  let node: TestNode;

  beforeAll(async () => {
    node = await startTestNode();
  });
  afterAll(async () => {
    await node.stop();
  });

  async function run(
    handler: Handler,
    argv: string[],
    input?: string,
  ): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const io = {
      out: (line: string) => out.push(line),
      err: (line: string) => err.push(line),
      ...(input === undefined ? {} : { readInput: async () => input }),
    };
    const code = await handler([...argv, '--endpoints', node.address], io);
    return { code, out, err };
  }
  const ok = (out: string[]) => ({ code: 0, out, err: [] });
  const ROOT = ['--user', 'root:root-secret'];

  it('manages users and roles as etcdctl does, then enables auth and enforces it', async () => {
    expect(await run(userCommand, ['add', 'root'], 'root-secret\n')).toMatchObject({ code: 1 });
    expect(await run(userCommand, ['add', 'root', '--new-user-password-stdin'], 'root-secret\n')).toEqual(
      ok(['User root created']),
    );
    expect(await run(userCommand, ['grant-role', 'root', 'root'])).toEqual(
      ok(['Role root is granted to user root']),
    );
    expect(await run(roleCommand, ['add', 'reader'])).toEqual(ok(['Role reader created']));
    expect(await run(roleCommand, ['grant-permission', 'reader', 'read', 'app/', '--prefix'])).toEqual(
      ok(['Role reader updated']),
    );
    expect(await run(roleCommand, ['grant-permission', 'reader', 'readwrite', 'k1'])).toEqual(
      ok(['Role reader updated']),
    );
    expect(await run(roleCommand, ['grant-permission', 'reader', 'write', 'a', 'z', '--json'])).toEqual(
      ok([JSON.stringify({ role: 'reader', granted: { type: 'write', key: 'a', rangeEnd: 'z' } })]),
    );
    expect(await run(roleCommand, ['grant-permission', 'reader', 'read', 'from/', '--from-key'])).toEqual(
      ok(['Role reader updated']),
    );
    expect((await run(roleCommand, ['get', 'reader'])).out).toEqual([
      'Role reader',
      'KV Read:',
      '\t[app/, app0) (prefix app/)',
      '\t[from/, <open ended>',
      '\tk1',
      'KV Write:',
      '\t[a, z)',
      '\tk1',
    ]);
    expect(JSON.parse((await run(roleCommand, ['get', 'reader', '--json'])).out[0] ?? '')).toEqual({
      role: 'reader',
      permissions: [
        { type: 'write', key: 'a', rangeEnd: 'z' },
        { type: 'read', key: 'app/', rangeEnd: 'app0' },
        { type: 'read', key: 'from/', rangeEnd: '\0' },
        { type: 'readwrite', key: 'k1', rangeEnd: '' },
      ],
    });
    expect(await run(roleCommand, ['revoke-permission', 'reader', 'k1'])).toEqual(
      ok(['Permission of key k1 is revoked from role reader']),
    );
    expect(await run(roleCommand, ['revoke-permission', 'reader', 'a', 'z'])).toEqual(
      ok(['Permission of range [a, z) is revoked from role reader']),
    );
    expect(await run(roleCommand, ['revoke-permission', 'reader', 'from/', '--from-key'])).toEqual(
      ok(['Permission of range [from/, <open ended> is revoked from role reader']),
    );
    expect(await run(roleCommand, ['revoke-permission', 'reader', 'nope'])).toEqual({
      code: 1,
      out: [],
      err: [
        `meshos: AUTH_PERMISSION_NOT_GRANTED: ${node.address}: etcdserver: permission is not granted to the role`,
      ],
    });

    expect(await run(userCommand, ['add', 'alice:alice-secret'])).toEqual(ok(['User alice created']));
    expect(await run(userCommand, ['add', 'bob', '--no-password', '--json'])).toEqual(
      ok([JSON.stringify({ user: 'bob', created: true })]),
    );
    expect(await run(userCommand, ['grant-role', 'alice', 'reader'])).toEqual(
      ok(['Role reader is granted to user alice']),
    );
    expect(await run(userCommand, ['get', 'alice'])).toEqual(ok(['User: alice', 'Roles: reader']));
    expect(await run(userCommand, ['get', 'alice', '--detail'])).toEqual(
      ok(['User: alice', '', 'Role reader', 'KV Read:', '\t[app/, app0) (prefix app/)', 'KV Write:']),
    );
    expect(await run(userCommand, ['list'])).toEqual(ok(['alice', 'bob', 'root']));
    expect(await run(userCommand, ['list', '--json'])).toEqual(
      ok([JSON.stringify({ users: ['alice', 'bob', 'root'] })]),
    );
    // As in etcd, granting role root does not create it as a role of its own.
    expect(await run(roleCommand, ['list'])).toEqual(ok(['reader']));
    expect(await run(userCommand, ['delete', 'bob'])).toEqual(ok(['User bob deleted']));
    expect((await run(userCommand, ['get', 'bob'])).err).toEqual([
      `meshos: AUTH_USER_NOT_FOUND: ${node.address}: etcdserver: user name not found`,
    ]);

    expect(await run(authCommand, ['status'])).toEqual(
      ok(['Authentication Status: false', expect.stringMatching(/^AuthRevision: \d+$/)]),
    );
    expect(await run(authCommand, ['enable'])).toEqual(ok(['Authentication Enabled']));
    expect(JSON.parse((await run(authCommand, ['status', '--json', ...ROOT])).out[0] ?? '')).toMatchObject({
      enabled: true,
    });

    // With auth on, management is root's; alice may read herself and change her own password.
    expect((await run(userCommand, ['list', '--user', 'alice:alice-secret'])).err).toEqual([
      `meshos: AUTH_PERMISSION_DENIED: ${node.address}: etcdserver: permission denied`,
    ]);
    expect(await run(userCommand, ['get', 'alice', '--user', 'alice:alice-secret'])).toEqual(
      ok(['User: alice', 'Roles: reader']),
    );
    expect(
      await run(
        userCommand,
        ['passwd', 'alice', '--new-user-password-stdin', '--user', 'alice:alice-secret'],
        'changed\n',
      ),
    ).toEqual(ok(['Password updated']));
    expect((await run(userCommand, ['get', 'alice', '--user', 'alice:alice-secret'])).err).toEqual([
      `meshos: AUTH_FAILED: ${node.address}: etcdserver: authentication failed, invalid user ID or password`,
    ]);
    expect(await run(userCommand, ['revoke-role', 'alice', 'reader', ...ROOT])).toEqual(
      ok(['Role reader is revoked from user alice']),
    );
    expect((await run(roleCommand, ['delete', 'root', ...ROOT])).code).toBe(1);
    expect(await run(roleCommand, ['delete', 'reader', ...ROOT])).toEqual(ok(['Role reader deleted']));
    expect(await run(authCommand, ['disable', ...ROOT])).toEqual(ok(['Authentication Disabled']));
  });

  it('refuses bad arguments before it connects, with usage errors and typed errors', async () => {
    const missing = await run(roleCommand, ['grant-permission', 'reader', 'read']);
    expect(missing.code).toBe(2);
    expect(missing.err[0]).toBe('meshos: expected ROLE TYPE KEY [RANGE_END], got 2 argument(s)');
    expect(await run(roleCommand, ['grant-permission', 'reader', 'bogus', 'k'])).toEqual({
      code: 1,
      out: [],
      err: ["meshos: AUTH_ARGUMENTS: permission type must be read, write or readwrite, got 'bogus'"],
    });
    expect((await run(userCommand, ['add', 'carol'])).err[0]).toMatch(
      /^meshos: AUTH_ARGUMENTS: a password is needed/,
    );
    expect((await run(userCommand, ['passwd', 'carol', '--no-password'])).code).toBe(2);
    expect((await run(userCommand, ['frobnicate'])).err[0]).toBe(
      "meshos: unknown user subcommand 'frobnicate'",
    );
    const errors: string[] = [];
    expect(await authCommand([], { out: () => {}, err: (line) => errors.push(line) })).toBe(2);
    expect(errors[0]).toBe('meshos: auth needs a subcommand');
  });
});
