import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clientCredentialsFrom } from '../../../src/cli/commands/client-user-flags.js';
import { isMeshError } from '../../../src/lib/index.js';

function refusal(values: { user?: string; password?: string; 'password-file'?: string }): string {
  try {
    return JSON.stringify(clientCredentialsFrom(values));
  } catch (error) {
    return isMeshError(error) ? `${error.code}: ${error.message}` : String(error);
  }
}

describe('--user and --password', () => {
  it('take the password after the first colon of --user, or from --password', () => {
    expect(clientCredentialsFrom({ user: 'alice:s3:cret' })).toEqual({ user: 'alice', password: 's3:cret' });
    expect(clientCredentialsFrom({ user: 'alice', password: 'pw' })).toEqual({
      user: 'alice',
      password: 'pw',
    });
    expect(clientCredentialsFrom({})).toBeUndefined();
  });

  it('refuse a user without password, a password without user, and two passwords', () => {
    expect(refusal({ user: 'alice' })).toMatch(/^CLIENT_USER_FLAGS: --user NAME needs a password/);
    expect(refusal({ password: 'pw' })).toBe('CLIENT_USER_FLAGS: --password needs --user');
    expect(refusal({ user: 'alice:a', password: 'b' })).toMatch(/^CLIENT_USER_FLAGS: give the password once/);
    expect(refusal({ user: ':pw' })).toBe('CLIENT_USER_FLAGS: --user needs a user name');
  });

  it('read --password-file: one line, its line break dropped; refused unreadable, two-line or with another password', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'meshos-user-flags-'));
    try {
      const file = join(directory, 'root.password');
      await writeFile(file, 'root-secret\n');
      expect(clientCredentialsFrom({ user: 'root', 'password-file': file })).toEqual({
        user: 'root',
        password: 'root-secret',
      });
      const twoLines = join(directory, 'two-lines');
      await writeFile(twoLines, 'a\nb\n');
      expect(refusal({ user: 'root', 'password-file': twoLines })).toBe(
        `CLIENT_USER_FLAGS: --password-file: ${twoLines} must hold one line`,
      );
      expect(refusal({ user: 'root', 'password-file': join(directory, 'missing') })).toMatch(
        /^CLIENT_USER_FLAGS: --password-file: cannot read .*missing \(ENOENT\)$/,
      );
      expect(refusal({ user: 'root:pw', 'password-file': file })).toMatch(
        /^CLIENT_USER_FLAGS: give the password once/,
      );
      expect(refusal({ 'password-file': file })).toBe('CLIENT_USER_FLAGS: --password-file needs --user');
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
