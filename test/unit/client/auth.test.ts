/** `client.auth` against an in-process node: users, roles, permission ranges and typed refusals. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeshClient, toBytes } from '../../../src/client/index.js';
import { startTestNode, type TestNode } from './cluster-fixture.js';

describe('client.auth', () => {
  let node: TestNode;
  let client: MeshClient;
  beforeAll(async () => {
    node = await startTestNode();
    client = await MeshClient.connect({ endpoints: [node.address] });
  });
  afterAll(async () => {
    client.close();
    await node.stop();
  });

  it('adds users and roles, grants ranges as etcd stores them, and enables auth', async () => {
    await client.auth.userAdd('root', 'root-secret');
    await client.auth.userGrantRole('root', 'root');
    await client.auth.roleAdd('reader');
    await client.auth.roleGrantPermission('reader', 'read', 'app/', { prefix: true });
    await client.auth.roleGrantPermission('reader', 'write', 'logs/', { fromKey: true });
    await client.auth.roleGrantPermission('reader', 'readwrite', 'a', { rangeEnd: 'c' });
    await client.auth.userAdd('cert-only', { noPassword: true });
    await client.auth.userGrantRole('cert-only', 'reader');
    expect(await client.auth.roleGet('reader')).toEqual([
      { type: 'readwrite', key: toBytes('a'), rangeEnd: toBytes('c') },
      { type: 'read', key: toBytes('app/'), rangeEnd: toBytes('app0') },
      { type: 'write', key: toBytes('logs/'), rangeEnd: new Uint8Array([0]) },
    ]);
    expect(await client.auth.userGet('cert-only')).toEqual(['reader']);
    expect(await client.auth.userList()).toEqual(['cert-only', 'root']);
    await client.auth.roleRevokePermission('reader', 'a', { rangeEnd: 'c' });
    expect((await client.auth.roleGet('reader')).map((permission) => permission.type)).toEqual([
      'read',
      'write',
    ]);
    await expect(client.auth.roleRevokePermission('reader', 'a', { rangeEnd: 'c' })).rejects.toMatchObject({
      code: 'AUTH_PERMISSION_NOT_GRANTED',
    });
    expect((await client.auth.status()).enabled).toBe(false);
    await client.auth.enable();
    const root = await MeshClient.connect({
      endpoints: [node.address],
      credentials: { user: 'root', password: 'root-secret' },
    });
    try {
      const status = await root.auth.status();
      expect(status.enabled).toBe(true);
      expect(status.authRevision).toBeGreaterThan(0);
      await expect(client.auth.roleList()).rejects.toMatchObject({ code: 'AUTH_USER_EMPTY' });
      expect(await root.auth.roleList()).toEqual(['reader']);
      await root.auth.disable();
    } finally {
      root.close();
    }
  });

  it('refuses a permission range given two ways, or an unknown type, before sending', async () => {
    await expect(
      client.auth.roleGrantPermission('reader', 'read', 'k', { prefix: true, fromKey: true }),
    ).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringMatching(/prefix and fromKey/),
    });
    await expect(
      client.auth.roleRevokePermission('reader', 'k', { prefix: true, rangeEnd: 'z' }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(
      client.auth.roleGrantPermission('reader', 'all' as unknown as 'read', 'k'),
    ).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringMatching(/read, write or readwrite/),
    });
  });
});
