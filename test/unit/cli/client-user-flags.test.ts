import { describe, expect, it } from 'vitest';
import { clientCredentialsFrom } from '../../../src/cli/commands/client-user-flags.js';
import { isMeshError } from '../../../src/lib/index.js';

function refusal(values: { user?: string; password?: string }): string {
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
});
