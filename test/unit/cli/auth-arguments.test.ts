import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  argumentsOf,
  passwordFromText,
  passwordSourceFrom,
  permissionRangeFrom,
  permissionTypeFrom,
  readPassword,
} from '../../../src/cli/commands/auth-arguments.js';
import { permissionKeysText, roleLines } from '../../../src/cli/commands/role.js';
import { userAndInlinePassword } from '../../../src/cli/commands/user.js';
import { type Permission, permissionRangeEnd, toBytes } from '../../../src/client/index.js';
import { isMeshError } from '../../../src/lib/index.js';

/** What `run` threw: `CODE: message` for a typed error, `UsageError: message` for a usage error. */
function refusal(run: () => unknown): string {
  try {
    return `accepted: ${JSON.stringify(run())}`;
  } catch (error) {
    if (isMeshError(error)) return `${error.code}: ${error.message}`;
    return `${(error as Error).name}: ${(error as Error).message}`;
  }
}

const noInput = { out: () => {}, err: () => {} };

describe('permission arguments (etcdctl TYPE KEY [RANGE_END] [--prefix] [--from-key])', () => {
  it('takes read, write and readwrite in any case, and nothing else', () => {
    expect(permissionTypeFrom('read')).toBe('read');
    expect(permissionTypeFrom('Write')).toBe('write');
    expect(permissionTypeFrom('READWRITE')).toBe('readwrite');
    expect(refusal(() => permissionTypeFrom('bogus'))).toBe(
      "AUTH_ARGUMENTS: permission type must be read, write or readwrite, got 'bogus'",
    );
    expect(refusal(() => permissionTypeFrom(''))).toMatch(/^AUTH_ARGUMENTS: permission type must be/);
  });

  it('turns a key, a range, a prefix and --from-key into the range end etcd stores', () => {
    const end = (
      key: string,
      rangeEnd: string | undefined,
      flags: { prefix?: boolean; 'from-key'?: boolean },
    ) => Array.from(permissionRangeEnd(toBytes(key), permissionRangeFrom(key, rangeEnd, flags)));
    expect(end('app/x', undefined, {})).toEqual([]);
    expect(end('a', 'z', {})).toEqual([...toBytes('z')]);
    expect(end('app/', undefined, { prefix: true })).toEqual([...toBytes('app0')]);
    expect(end('', undefined, { prefix: true })).toEqual([0]);
    expect(end('from/', undefined, { 'from-key': true })).toEqual([0]);
    expect(end('', undefined, { 'from-key': true })).toEqual([0]);
  });

  it('refuses flags that do not go together and an empty single key', () => {
    expect(refusal(() => permissionRangeFrom('a', undefined, { prefix: true, 'from-key': true }))).toBe(
      'AUTH_ARGUMENTS: --prefix and --from-key do not go together',
    );
    expect(refusal(() => permissionRangeFrom('a', 'b', { prefix: true }))).toBe(
      'AUTH_ARGUMENTS: RANGE_END does not go with --prefix',
    );
    expect(refusal(() => permissionRangeFrom('a', 'b', { 'from-key': true }))).toBe(
      'AUTH_ARGUMENTS: RANGE_END does not go with --from-key',
    );
    expect(refusal(() => permissionRangeFrom('', undefined, {}))).toMatch(/^AUTH_ARGUMENTS: KEY is empty/);
  });

  it('counts positionals: missing and extra arguments are usage errors naming what is expected', () => {
    const options = { prefix: { type: 'boolean' } } as const;
    expect(
      argumentsOf(['r', 'read', 'k', '--prefix'], options, ['ROLE', 'TYPE', 'KEY'], ['RANGE_END']),
    ).toMatchObject({
      args: ['r', 'read', 'k'],
      values: { prefix: true },
    });
    expect(refusal(() => argumentsOf(['r', 'read'], options, ['ROLE', 'TYPE', 'KEY'], ['RANGE_END']))).toBe(
      'UsageError: expected ROLE TYPE KEY [RANGE_END], got 2 argument(s)',
    );
    expect(refusal(() => argumentsOf(['a', 'b', 'c'], {}, ['NAME', 'ROLE']))).toBe(
      'UsageError: expected NAME ROLE, got 3 argument(s)',
    );
    expect(refusal(() => argumentsOf(['x'], {}, []))).toBe('UsageError: takes no arguments, got 1');
    expect(refusal(() => argumentsOf(['--bogus'], {}, []))).toMatch(/^UsageError: Unknown option '--bogus'/);
  });
});

describe('role permissions as etcdctl prints them', () => {
  const permission = (type: Permission['type'], key: string, rangeEnd: string | number[]): Permission => ({
    type,
    key: toBytes(key),
    rangeEnd: typeof rangeEnd === 'string' ? toBytes(rangeEnd) : new Uint8Array(rangeEnd),
  });

  it('shows a key, a range, a prefix and an open end', () => {
    expect(permissionKeysText(permission('read', 'k1', ''))).toBe('k1');
    expect(permissionKeysText(permission('read', 'a', 'z'))).toBe('[a, z)');
    expect(permissionKeysText(permission('read', 'app/', 'app0'))).toBe('[app/, app0) (prefix app/)');
    expect(permissionKeysText(permission('read', 'from/', [0]))).toBe('[from/, <open ended>');
  });

  it('lists readwrite under both headings', () => {
    expect(
      roleLines('reader', [
        permission('write', 'a', 'z'),
        permission('read', 'app/', 'app0'),
        permission('readwrite', 'k1', ''),
      ]),
    ).toEqual([
      'Role reader',
      'KV Read:',
      '\t[app/, app0) (prefix app/)',
      '\tk1',
      'KV Write:',
      '\t[a, z)',
      '\tk1',
    ]);
  });
});

describe('the new password', () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'meshos-password-'));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('comes from exactly one source', () => {
    expect(passwordSourceFrom({}, 'inline', true)).toEqual({ kind: 'text', password: 'inline' });
    expect(passwordSourceFrom({ 'new-user-password-file': 'f' }, undefined, false)).toEqual({
      kind: 'file',
      file: 'f',
    });
    expect(passwordSourceFrom({ 'new-user-password-stdin': true }, undefined, false)).toEqual({
      kind: 'stdin',
    });
    expect(passwordSourceFrom({ 'no-password': true }, undefined, true)).toEqual({ kind: 'none' });
    expect(refusal(() => passwordSourceFrom({}, undefined, true))).toMatch(
      /^AUTH_ARGUMENTS: a password is needed: --new-user-password-file FILE, --new-user-password-stdin .*--no-password/,
    );
    expect(refusal(() => passwordSourceFrom({ 'new-user-password': 'a' }, 'b', true))).toBe(
      'AUTH_ARGUMENTS: give the new password once',
    );
    expect(
      refusal(() =>
        passwordSourceFrom({ 'new-user-password-stdin': true, 'no-password': true }, undefined, true),
      ),
    ).toBe('AUTH_ARGUMENTS: give the new password once');
    expect(refusal(() => passwordSourceFrom({ 'no-password': true }, undefined, false))).toBe(
      'AUTH_ARGUMENTS: --no-password is only for user add',
    );
  });

  it('is one line, its line break dropped', () => {
    expect(passwordFromText('s3cret\n', 'stdin')).toBe('s3cret');
    expect(passwordFromText('s3cret\r\n', 'stdin')).toBe('s3cret');
    expect(passwordFromText(' spaced ', 'stdin')).toBe(' spaced ');
    expect(refusal(() => passwordFromText('one\ntwo\n', 'f'))).toBe(
      'AUTH_ARGUMENTS: the password in f must be one line',
    );
  });

  it('is read from a file or stdin, and refused when empty or unreadable', async () => {
    const file = join(directory, 'alice.password');
    await writeFile(file, 'from-file\n');
    expect(await readPassword({ kind: 'file', file }, noInput)).toBe('from-file');
    expect(await readPassword({ kind: 'stdin' }, { ...noInput, readInput: async () => 'piped\n' })).toBe(
      'piped',
    );
    await expect(
      readPassword({ kind: 'stdin' }, { ...noInput, readInput: async () => '\n' }),
    ).rejects.toThrow('the password is empty');
    await expect(
      readPassword({ kind: 'file', file: join(directory, 'missing') }, noInput),
    ).rejects.toMatchObject({
      code: 'AUTH_ARGUMENTS',
      message: expect.stringMatching(/cannot read .*missing \(ENOENT\)/),
    });
    await expect(readPassword({ kind: 'none' }, noInput)).rejects.toMatchObject({ code: 'AUTH_ARGUMENTS' });
  });

  it("splits user add's NAME:PASSWORD at the first colon", () => {
    expect(userAndInlinePassword('alice')).toEqual({ name: 'alice' });
    expect(userAndInlinePassword('alice:a:b')).toEqual({ name: 'alice', password: 'a:b' });
    expect(refusal(() => userAndInlinePassword(':pw'))).toBe('UsageError: user add needs a user name');
  });
});
