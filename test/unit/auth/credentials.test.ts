import { describe, expect, it } from 'vitest';
import {
  AUTH_TOKEN_TTL_MS,
  AuthStore,
  hashPassword,
  issueToken,
  requestUser,
  verifyPassword,
} from '../../../src/auth/index.js';
import { isMeshError } from '../../../src/lib/index.js';

function codeOf(run: () => unknown): string {
  try {
    run();
    return 'accepted';
  } catch (error) {
    return isMeshError(error) ? error.code : String(error);
  }
}

function enabledStore(secret = 'ab'.repeat(32)): AuthStore {
  const store = new AuthStore();
  store.apply({ type: 'userAdd', name: 'root', passwordHash: 'h' });
  store.apply({ type: 'userGrantRole', name: 'root', role: 'root' });
  store.apply({ type: 'userAdd', name: 'alice', passwordHash: 'h' });
  store.apply({ type: 'authEnable', tokenSecret: secret });
  return store;
}

describe('passwords', () => {
  it('hash with a fresh salt each time and verify only the right password', async () => {
    const first = await hashPassword('s3cret');
    const second = await hashPassword('s3cret');
    expect(first).not.toBe(second);
    expect(first).not.toContain('s3cret');
    expect(await verifyPassword('s3cret', first)).toBe(true);
    expect(await verifyPassword('wrong', first)).toBe(false);
    expect(await verifyPassword('s3cret', 'scrypt$1$1$1$x$y')).toBe(false);
  });
});

describe('tokens and request identity', () => {
  it('a token names its user on any member holding the same replicated secret', () => {
    const issuer = enabledStore();
    const other = new AuthStore();
    other.restore(issuer.snapshot());
    const token = issueToken(issuer, 'alice', 1_000);
    expect(requestUser(other, { token }, 2_000)).toBe('alice');
  });

  it('refuses expired, forged, and voided tokens, and requests without identity', () => {
    const store = enabledStore();
    const token = issueToken(store, 'alice', 1_000);
    expect(codeOf(() => requestUser(store, { token }, 1_000 + AUTH_TOKEN_TTL_MS))).toBe('AUTH_INVALID_TOKEN');
    const [payload, signature] = token.split('.') as [string, string];
    const forged = `${Buffer.from(JSON.stringify({ user: 'root', generation: 1, expiresAtMs: 9e15 })).toString('base64url')}.${signature}`;
    expect(codeOf(() => requestUser(store, { token: forged }, 2_000))).toBe('AUTH_INVALID_TOKEN');
    expect(
      codeOf(() => requestUser(enabledStore('cd'.repeat(32)), { token: `${payload}.${signature}` }, 2_000)),
    ).toBe('AUTH_INVALID_TOKEN');
    store.apply({ type: 'userChangePassword', name: 'alice', passwordHash: 'h2' });
    expect(codeOf(() => requestUser(store, { token }, 2_000))).toBe('AUTH_INVALID_TOKEN');
    expect(codeOf(() => requestUser(store, {}, 2_000))).toBe('AUTH_USER_EMPTY');
  });

  it('takes the token user first, else the client certificate common name', () => {
    const store = enabledStore();
    const token = issueToken(store, 'alice', 1_000);
    expect(requestUser(store, { token, certificateCommonName: 'root' }, 2_000)).toBe('alice');
    expect(requestUser(store, { certificateCommonName: 'root' }, 2_000)).toBe('root');
    expect(codeOf(() => requestUser(store, { certificateCommonName: 'mallory' }, 2_000))).toBe(
      'AUTH_USER_NOT_FOUND',
    );
  });
});
