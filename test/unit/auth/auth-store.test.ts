import { describe, expect, it } from 'vitest';
import { type AuthCommand, AuthStore, kvCommandRefusal, watchRefusal } from '../../../src/auth/index.js';
import { utf8 } from '../../../src/kv/index.js';
import { isMeshError } from '../../../src/lib/index.js';
import { rootAndAlice } from './fixtures.js';

function storeWith(...commands: AuthCommand[]): AuthStore {
  const store = new AuthStore();
  for (const command of commands) store.apply(command);
  return store;
}

function refusedCode(store: AuthStore, command: AuthCommand): string {
  try {
    store.apply(command);
    return 'applied';
  } catch (error) {
    return isMeshError(error) ? error.code : String(error);
  }
}

const rootSetUp = rootAndAlice('reader', 'read');

describe('AuthStore', () => {
  it('enables auth only with a root user holding the root role', () => {
    const store = new AuthStore();
    expect(refusedCode(store, { type: 'authEnable', tokenSecret: 'aa' })).toBe('AUTH_ROOT_USER_MISSING');
    store.apply({ type: 'userAdd', name: 'root', passwordHash: 'h' });
    expect(refusedCode(store, { type: 'authEnable', tokenSecret: 'aa' })).toBe('AUTH_ROOT_ROLE_MISSING');
    store.apply({ type: 'userGrantRole', name: 'root', role: 'root' });
    store.apply({ type: 'authEnable', tokenSecret: 'aa' });
    expect(store.enabled).toBe(true);
    expect(store.tokenSecret).toBe('aa');
    // A later enable keeps the first secret: tokens issued meanwhile stay valid.
    store.apply({ type: 'authEnable', tokenSecret: 'bb' });
    expect(store.tokenSecret).toBe('aa');
  });

  it('refuses changes that would lock root out while auth is on, and etcd-style mistakes', () => {
    const store = storeWith(...rootSetUp, { type: 'authEnable', tokenSecret: 'aa' });
    expect(refusedCode(store, { type: 'userDelete', name: 'root' })).toBe('AUTH_INVALID_MANAGEMENT');
    expect(refusedCode(store, { type: 'userRevokeRole', name: 'root', role: 'root' })).toBe(
      'AUTH_INVALID_MANAGEMENT',
    );
    expect(refusedCode(store, { type: 'userAdd', name: 'alice' })).toBe('AUTH_USER_EXISTS');
    expect(refusedCode(store, { type: 'userAdd', name: '' })).toBe('AUTH_USER_EMPTY');
    expect(refusedCode(store, { type: 'userDelete', name: 'bob' })).toBe('AUTH_USER_NOT_FOUND');
    expect(refusedCode(store, { type: 'roleAdd', name: 'reader' })).toBe('AUTH_ROLE_EXISTS');
    expect(refusedCode(store, { type: 'userGrantRole', name: 'alice', role: 'nope' })).toBe(
      'AUTH_ROLE_NOT_FOUND',
    );
    expect(refusedCode(store, { type: 'userRevokeRole', name: 'alice', role: 'root' })).toBe(
      'AUTH_ROLE_NOT_GRANTED',
    );
    expect(
      refusedCode(store, { type: 'roleRevokePermission', name: 'reader', key: 'other/', rangeEnd: '' }),
    ).toBe('AUTH_PERMISSION_NOT_GRANTED');
    expect(
      refusedCode(store, {
        type: 'roleGrantPermission',
        name: 'reader',
        permission: { type: 'read', key: 'z', rangeEnd: 'a' },
      }),
    ).toBe('AUTH_INVALID_MANAGEMENT');
  });

  it('bumps the revision on each change only, and the password generation on password changes', () => {
    const store = storeWith(...rootSetUp);
    expect(store.revision).toBe(rootSetUp.length);
    const generation = store.user('alice')?.generation;
    refusedCode(store, { type: 'userAdd', name: 'alice' });
    expect(store.revision).toBe(rootSetUp.length);
    store.apply({ type: 'userChangePassword', name: 'alice', passwordHash: 'h2' });
    expect(store.user('alice')?.generation).toBeGreaterThan(generation ?? Infinity);
  });

  it('checks reads, writes, txns and watches against the roles, and a revoke applies at once', () => {
    const store = storeWith(...rootSetUp, { type: 'authEnable', tokenSecret: 'aa' });
    const refused = (command: Parameters<typeof kvCommandRefusal>[2]) =>
      kvCommandRefusal(store, 'alice', command, () => [utf8('app/x')])?.code;
    expect(refused({ type: 'range', key: utf8('app/x') })).toBeUndefined();
    expect(refused({ type: 'range', key: utf8('app/'), prefix: true })).toBeUndefined();
    expect(refused({ type: 'range', key: utf8('other/y') })).toBe('AUTH_PERMISSION_DENIED');
    expect(refused({ type: 'put', key: utf8('app/x'), value: utf8('v') })).toBe('AUTH_PERMISSION_DENIED');
    expect(refused({ type: 'deleteRange', key: utf8('app/x') })).toBe('AUTH_PERMISSION_DENIED');
    expect(refused({ type: 'leaseRevoke', id: 7 })).toBe('AUTH_PERMISSION_DENIED');
    expect(refused({ type: 'leaseGrant', id: 0, ttlSeconds: 10 })).toBeUndefined();
    expect(refused({ type: 'alarm', action: 'deactivate', memberId: 1, alarm: 'NOSPACE' })).toBe(
      'AUTH_PERMISSION_DENIED',
    );
    const txn = (compareKey: string, successKey: string) =>
      refused({
        type: 'txn',
        compare: [{ key: utf8(compareKey), target: 'version', result: 'equal', number: 0 }],
        success: [{ type: 'range', key: utf8(successKey) }],
        failure: [],
      });
    expect(txn('app/a', 'app/b')).toBeUndefined();
    expect(txn('other/a', 'app/b')).toBe('AUTH_PERMISSION_DENIED');
    expect(txn('app/a', 'other/b')).toBe('AUTH_PERMISSION_DENIED');
    expect(watchRefusal(store, 'alice', { key: utf8('app/'), prefix: true })).toBeUndefined();
    expect(watchRefusal(store, 'alice', { key: utf8('a'), rangeEnd: utf8('\0') })?.code).toBe(
      'AUTH_PERMISSION_DENIED',
    );
    // Root passes everything; an unknown user nothing.
    expect(
      kvCommandRefusal(store, 'root', { type: 'put', key: utf8('other/y'), value: utf8('') }, () => []),
    ).toBe(undefined);
    expect(kvCommandRefusal(store, 'ghost', { type: 'range', key: utf8('app/x') }, () => [])?.code).toBe(
      'AUTH_PERMISSION_DENIED',
    );
    store.apply({ type: 'userRevokeRole', name: 'alice', role: 'reader' });
    expect(refused({ type: 'range', key: utf8('app/x') })).toBe('AUTH_PERMISSION_DENIED');
  });

  it('a readwrite grant on a prefix permits writes and prevKv reads inside it', () => {
    const store = storeWith(...rootSetUp, {
      type: 'roleGrantPermission',
      name: 'reader',
      permission: { type: 'readwrite', key: 'app/w/', rangeEnd: 'app/w0' },
    });
    store.apply({ type: 'authEnable', tokenSecret: 'aa' });
    const put = (key: string) =>
      kvCommandRefusal(
        store,
        'alice',
        { type: 'put', key: utf8(key), value: utf8('v'), prevKv: true },
        () => [],
      )?.code;
    expect(put('app/w/1')).toBeUndefined();
    expect(put('app/x')).toBe('AUTH_PERMISSION_DENIED');
  });

  it('round-trips through its snapshot, keys in bytes included', () => {
    const store = storeWith(...rootSetUp, {
      type: 'roleGrantPermission',
      name: 'reader',
      permission: { type: 'write', key: '\u00ff\u0000k', rangeEnd: '\0' },
    });
    store.apply({ type: 'authEnable', tokenSecret: 'aa' });
    const copy = new AuthStore();
    copy.restore(store.snapshot());
    expect(copy.snapshot()).toEqual(store.snapshot());
    expect(copy.enabled).toBe(true);
    expect(copy.role('reader')?.permissions).toEqual(store.role('reader')?.permissions);
    copy.restore(new Uint8Array());
    expect(copy.enabled).toBe(false);
    expect(copy.users()).toEqual([]);
  });
});
