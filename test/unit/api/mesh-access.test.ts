import { describe, expect, it } from 'vitest';
import { meshAccess, TOKEN_METADATA } from '../../../src/api/index.js';
import { AuthRefusals, AuthStore, issueToken } from '../../../src/auth/index.js';
import { bytesToBinary, utf8 } from '../../../src/kv/index.js';
import { isMeshError } from '../../../src/lib/index.js';

function metadataWith(token: string | undefined) {
  return { get: (key: string) => (key === TOKEN_METADATA && token !== undefined ? [token] : []) };
}

function codeOf(run: () => void): string {
  try {
    run();
    return 'allowed';
  } catch (error) {
    return isMeshError(error) ? error.code : String(error);
  }
}

describe('mesh API access by control-plane key', () => {
  const auth = new AuthStore();
  for (const command of [
    { type: 'userAdd', name: 'root', passwordHash: 'h' },
    { type: 'userGrantRole', name: 'root', role: 'root' },
    { type: 'roleAdd', name: 'orders' },
    {
      type: 'roleGrantPermission',
      name: 'orders',
      permission: { type: 'readwrite', key: '/meshos/v1/chains/orders', rangeEnd: '' },
    },
    {
      type: 'roleGrantPermission',
      name: 'orders',
      permission: { type: 'read', key: '/meshos/v1/daemons/', rangeEnd: '/meshos/v1/daemons0' },
    },
    {
      // As etcdctl grants it: the key's UTF-8 bytes, one character each.
      type: 'roleGrantPermission',
      name: 'orders',
      permission: { type: 'write', key: bytesToBinary(utf8('/meshos/v1/chains/commandes-é')), rangeEnd: '' },
    },
    { type: 'userAdd', name: 'alice', passwordHash: 'h' },
    { type: 'userGrantRole', name: 'alice', role: 'orders' },
  ] as const)
    auth.apply(command);
  const refusals = new AuthRefusals();
  const access = meshAccess(() => ({ auth, authRefusals: refusals }), '/meshos/v1/');

  it('checks nothing while auth is off', () => {
    expect(codeOf(() => access(metadataWith(undefined), 'write', 'chains', 'payments', 'test'))).toBe(
      'allowed',
    );
  });

  it('maps chain and daemon names to their keys and List to the whole prefix', () => {
    auth.apply({ type: 'authEnable', tokenSecret: 'ab'.repeat(32) });
    const alice = metadataWith(issueToken(auth, 'alice', Date.now()));
    expect(codeOf(() => access(alice, 'write', 'chains', 'orders', 'test'))).toBe('allowed');
    expect(codeOf(() => access(alice, 'read', 'chains', 'orders', 'test'))).toBe('allowed');
    expect(codeOf(() => access(alice, 'write', 'chains', 'orders2', 'test'))).toBe('AUTH_PERMISSION_DENIED');
    expect(codeOf(() => access(alice, 'read', 'chains', undefined, 'test'))).toBe('AUTH_PERMISSION_DENIED');
    expect(codeOf(() => access(alice, 'write', 'chains', 'commandes-é', 'test'))).toBe('allowed');
    expect(codeOf(() => access(alice, 'write', 'chains', 'commandes-è', 'test'))).toBe(
      'AUTH_PERMISSION_DENIED',
    );
    expect(codeOf(() => access(alice, 'read', 'daemons', undefined, 'test'))).toBe('allowed');
    expect(codeOf(() => access(alice, 'write', 'daemons', 'counter', 'test'))).toBe('AUTH_PERMISSION_DENIED');
    expect(codeOf(() => access(metadataWith(undefined), 'read', 'blobs', 'x', 'test'))).toBe(
      'AUTH_USER_EMPTY',
    );
    const root = metadataWith(issueToken(auth, 'root', Date.now()));
    expect(codeOf(() => access(root, 'write', 'blobs', undefined, 'test'))).toBe('allowed');
    expect(refusals.byCode().get('AUTH_PERMISSION_DENIED')).toBe(4);
    expect(refusals.byCode().get('AUTH_USER_EMPTY')).toBe(1);
  });
});
