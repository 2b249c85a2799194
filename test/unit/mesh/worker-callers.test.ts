import { describe, expect, it } from 'vitest';
import { meshResourceInterval } from '../../../src/api/index.js';
import { type AuthCommand, AuthStore, issueToken, tokenUser } from '../../../src/auth/index.js';
import type { AuthClient, Permission } from '../../../src/client/index.js';
import { binaryToBytes } from '../../../src/kv/index.js';
import { isMeshError, ManualClock, MeshError } from '../../../src/lib/index.js';
import { CALLER_AUTH_STATUS_MAX_AGE_MS, ControlPlaneCallers } from '../../../src/mesh/worker-callers.js';

const ROOT = '/meshos/v1/';
const orders = meshResourceInterval(ROOT, 'chains', 'orders');
const payments = meshResourceInterval(ROOT, 'chains', 'payments');

/**
 * The control plane's Auth service as a voter answers it, over a real auth store: UserGet and
 * RoleGet check the token they are made with (or take the worker's own user), and count calls.
 */
class FakeControlPlane {
  readonly auth = new AuthStore();
  calls = 0;
  constructor(
    private readonly clock: ManualClock,
    private readonly workerIsRoot: boolean,
  ) {}

  apply(...commands: AuthCommand[]): void {
    for (const command of commands) this.auth.apply(command);
  }

  private caller(token: string | undefined): string | undefined {
    return token === undefined ? undefined : tokenUser(this.auth, token, this.clock.wallMs());
  }

  client(): AuthClient {
    return {
      status: async () => {
        this.calls += 1;
        return { enabled: this.auth.enabled, authRevision: this.auth.revision };
      },
      userGet: async (user: string, options: { token?: string } = {}) => {
        this.calls += 1;
        const caller = this.caller(options.token);
        if (caller === undefined ? !this.workerIsRoot : caller !== user && !this.auth.isRoot(caller))
          throw new MeshError('AUTH_PERMISSION_DENIED', 'permission denied');
        const record = this.auth.user(user);
        if (record === undefined) throw new MeshError('AUTH_USER_NOT_FOUND', 'user name not found');
        return [...record.roles];
      },
      roleGet: async (role: string): Promise<Permission[]> => {
        this.calls += 1;
        return (this.auth.role(role)?.permissions ?? []).map((permission) => ({
          type: permission.type,
          key: binaryToBytes(permission.key),
          rangeEnd: binaryToBytes(permission.rangeEnd),
        }));
      },
    } as unknown as AuthClient;
  }
}

async function codeOf(run: () => void | Promise<void>): Promise<string> {
  try {
    await run();
    return 'allowed';
  } catch (error) {
    return isMeshError(error) ? error.code : String(error);
  }
}

function setUp(workerIsRoot = false) {
  const clock = new ManualClock();
  const plane = new FakeControlPlane(clock, workerIsRoot);
  plane.apply(
    { type: 'userAdd', name: 'root', passwordHash: 'h' },
    { type: 'userGrantRole', name: 'root', role: 'root' },
    { type: 'roleAdd', name: 'orders-reader' },
    {
      type: 'roleGrantPermission',
      name: 'orders-reader',
      permission: { type: 'read', key: `${ROOT}chains/orders`, rangeEnd: '' },
    },
    { type: 'userAdd', name: 'reader', passwordHash: 'h' },
    { type: 'userGrantRole', name: 'reader', role: 'orders-reader' },
    { type: 'authEnable', tokenSecret: 'ab'.repeat(32) },
  );
  const client = plane.client();
  const callers = new ControlPlaneCallers(() => Promise.resolve(client), clock);
  const token = (user: string) => issueToken(plane.auth, user, clock.wallMs());
  return { clock, plane, callers, token };
}

describe("a worker's checks of its callers through the control plane", () => {
  it('grants what the caller holds, refuses the rest with etcd codes, and counts each refusal', async () => {
    const { callers, token } = setUp();
    const reader = { token: token('reader') };
    expect(await codeOf(() => callers.check(reader, 'read', orders, 'read orders', 'Read'))).toBe('allowed');
    expect(await codeOf(() => callers.check(reader, 'write', orders, 'append orders', 'Append'))).toBe(
      'AUTH_PERMISSION_DENIED',
    );
    expect(await codeOf(() => callers.check(reader, 'read', payments, 'read payments', 'Read'))).toBe(
      'AUTH_PERMISSION_DENIED',
    );
    expect(
      await codeOf(() => callers.check({ token: token('root') }, 'write', payments, 'w', 'Append')),
    ).toBe('allowed');
    expect(await codeOf(() => callers.check({}, 'read', orders, 'read orders', 'Read'))).toBe(
      'AUTH_USER_EMPTY',
    );
    expect(await codeOf(() => callers.check({ token: 'forged.token' }, 'read', orders, 'r', 'Read'))).toBe(
      'AUTH_INVALID_TOKEN',
    );
    const [payload] = reader.token.split('.');
    expect(await codeOf(() => callers.check({ token: `${payload}.bad` }, 'read', orders, 'r', 'Read'))).toBe(
      'AUTH_INVALID_TOKEN',
    );
    expect(Object.fromEntries(callers.refusals.byCode())).toEqual({
      AUTH_PERMISSION_DENIED: 2,
      AUTH_USER_EMPTY: 1,
      AUTH_INVALID_TOKEN: 2,
    });
  });

  it('answers from its cache while the auth revision is fresh, and reads again once it moves', async () => {
    const { clock, plane, callers, token } = setUp();
    const reader = { token: token('reader') };
    await callers.check(reader, 'read', orders, 'r', 'Read');
    const callsAfterFirst = plane.calls;
    // Fresh and known: decided at once, without a call.
    expect(callers.check(reader, 'read', orders, 'r', 'Read')).toBeUndefined();
    expect(plane.calls).toBe(callsAfterFirst);

    plane.apply({ type: 'userRevokeRole', name: 'reader', role: 'orders-reader' });
    // Until the status ages out the worker may still pass the call; then it asks and refuses.
    clock.advance(CALLER_AUTH_STATUS_MAX_AGE_MS + 1);
    expect(await codeOf(() => callers.check(reader, 'read', orders, 'r', 'Read'))).toBe(
      'AUTH_PERMISSION_DENIED',
    );
    expect(plane.calls).toBeGreaterThan(callsAfterFirst);
  });

  it('passes everything while auth is off, and refuses an expired token without asking', async () => {
    const { clock, plane, callers, token } = setUp();
    const reader = { token: token('reader') };
    clock.advance(300_001);
    const calls = plane.calls;
    expect(await codeOf(() => callers.check(reader, 'read', orders, 'r', 'Read'))).toBe('AUTH_INVALID_TOKEN');
    expect(plane.calls).toBe(calls + 1); // the status only
    plane.apply({ type: 'authDisable' });
    clock.advance(CALLER_AUTH_STATUS_MAX_AGE_MS + 1);
    expect(await codeOf(() => callers.check({}, 'write', payments, 'w', 'Append'))).toBe('allowed');
  });

  it("checks a certificate's name as the worker's own user, which must be root to read others", async () => {
    const asRoot = setUp(true);
    const reader = { certificateCommonName: 'reader' };
    expect(await codeOf(() => asRoot.callers.check(reader, 'read', orders, 'r', 'Read'))).toBe('allowed');
    expect(await codeOf(() => asRoot.callers.check(reader, 'write', orders, 'w', 'Append'))).toBe(
      'AUTH_PERMISSION_DENIED',
    );
    expect(
      await codeOf(() =>
        asRoot.callers.check({ certificateCommonName: 'mallory' }, 'read', orders, 'r', 'Read'),
      ),
    ).toBe('AUTH_USER_NOT_FOUND');
    const notRoot = setUp(false);
    const refused = await codeOf(() => notRoot.callers.check(reader, 'read', orders, 'r', 'Read'));
    expect(refused).toBe('AUTH_PERMISSION_DENIED');
  });
});
