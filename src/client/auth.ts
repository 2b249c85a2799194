/**
 * `client.auth`: etcd's Auth service (auth on and off, users, roles and their key-range
 * permissions), as etcdctl's `auth`, `user` and `role` commands use it. Calls go where every call
 * goes and fail over like them; a change is retried only when the node said it was not applied
 * (not leader, unreachable). With auth on, changes are root's (a user may read itself and its
 * roles, and change its own password): connect with root's `credentials`. A node checking
 * callers it holds no auth state for (a worker's port) authenticates for them and reads a
 * caller's user and roles with the caller's own token (`AuthLookupOptions.token`).
 */
import * as grpc from '@grpc/grpc-js';
// The leaf, not src/auth's index: that loads the auth store and src/kv, which a client never runs.
import { PERMISSION_TYPES, type PermissionType } from '../auth/permission-types.js';
import { ValidationError } from '../lib/index.js';
import type { PbResponseHeader } from '../protocol/index.js';
import { TOKEN_METADATA } from './auth-token.js';
import { ALL_KEYS_RANGE_END, rangeEndFor, toBytes } from './bytes.js';
import { headerFromPb, toNumber } from './convert.js';
import type { EndpointConnection } from './endpoint.js';
import { errorFromGrpc, type MeshClientError, UnavailableError } from './errors.js';
import { DEFAULT_CALL_TIMEOUT_MS } from './limits.js';
import type { ServiceTransport } from './service-transport.js';
import type { Bytes, CallOptions, ResponseHeader } from './types.js';

export { PERMISSION_TYPES, type PermissionType } from '../auth/permission-types.js';

/**
 * One key-range permission of a role: the key alone (`rangeEnd` empty), the range
 * `[key, rangeEnd)`, or every key from `key` on (`rangeEnd` "\0").
 */
export interface Permission {
  readonly type: PermissionType;
  readonly key: Uint8Array;
  readonly rangeEnd: Uint8Array;
}

/** The keys a permission covers: one key, a range (`rangeEnd`), a prefix or every key from `key` on. */
export interface PermissionRangeOptions {
  /** Every key starting with the key (stored as the range it stands for). */
  readonly prefix?: boolean;
  /** Every key at or after the key (range end "\0"). */
  readonly fromKey?: boolean;
  /** End of the half-open range [key, rangeEnd). */
  readonly rangeEnd?: Bytes;
}

export interface AuthStatus {
  readonly header: ResponseHeader;
  readonly enabled: boolean;
  /** Bumped by every change of users, roles or the enabled flag. */
  readonly authRevision: number;
}

export interface AuthLookupOptions extends CallOptions {
  /** A caller's token to make the call with instead of this client's own. */
  readonly token?: string;
}

/** The password of a new user, or none (a user that only logs in with a client certificate). */
export type NewUserPassword = string | { readonly noPassword: true };

/** Permission types as etcd's auth.proto spells them (the loader gives and takes enum names). */
const PERMISSION_TYPE_TO_PB: Readonly<Record<PermissionType, string>> = {
  read: 'Read',
  write: 'Write',
  readwrite: 'Readwrite',
};
const PERMISSION_TYPE_FROM_PB: Readonly<Record<string, PermissionType>> = {
  Read: 'read',
  Write: 'write',
  Readwrite: 'readwrite',
};

interface PbPermission {
  readonly permType: string;
  readonly key: Uint8Array;
  readonly range_end: Uint8Array;
}

/** The range end a permission is stored with for `options` (empty for one key). */
export function permissionRangeEnd(key: Uint8Array, options: PermissionRangeOptions): Uint8Array {
  const given = [
    options.prefix === true ? 'prefix' : undefined,
    options.fromKey === true ? 'fromKey' : undefined,
    options.rangeEnd === undefined ? undefined : 'rangeEnd',
  ].filter((name) => name !== undefined);
  if (given.length > 1)
    throw new ValidationError('permission range', [`${given.join(' and ')} do not go together: give one`]);
  if (options.fromKey === true) return ALL_KEYS_RANGE_END;
  return rangeEndFor(key, options);
}

function permissionFromPb(pb: PbPermission): Permission {
  return {
    // An unknown name cannot come from a node that loaded the same .proto; read is the narrowest.
    type: PERMISSION_TYPE_FROM_PB[pb.permType] ?? 'read',
    key: new Uint8Array(pb.key ?? []),
    rangeEnd: new Uint8Array(pb.range_end ?? []),
  };
}

export class AuthClient {
  constructor(private readonly transport: ServiceTransport) {}

  /** Turns auth on; refused until user `root` exists and holds role `root`. */
  async enable(options: CallOptions = {}): Promise<ResponseHeader> {
    return this.change('AuthEnable', {}, options);
  }

  async disable(options: CallOptions = {}): Promise<ResponseHeader> {
    return this.change('AuthDisable', {}, options);
  }

  /** A token for `user`: AUTH_FAILED for a wrong name or password, AUTH_NOT_ENABLED with auth off. */
  async authenticate(user: string, password: string, options: CallOptions = {}): Promise<string> {
    // Made as nobody ('' token): a refusal is the caller's, not a reason to renew this client's token.
    const answer = await this.unary<{ token: string }>(
      'Authenticate',
      { name: user, password },
      { ...options, token: '' },
    );
    return answer.token;
  }

  async status(options: CallOptions = {}): Promise<AuthStatus> {
    const pb = await this.unary<{ header: PbResponseHeader; enabled: boolean; authRevision: string }>(
      'AuthStatus',
      {},
      options,
    );
    return { header: headerFromPb(pb.header), enabled: pb.enabled, authRevision: toNumber(pb.authRevision) };
  }

  async userAdd(name: string, password: NewUserPassword, options: CallOptions = {}): Promise<ResponseHeader> {
    const request =
      typeof password === 'string'
        ? { name, password }
        : { name, password: '', options: { no_password: password.noPassword } };
    return this.change('UserAdd', request, options);
  }

  async userDelete(name: string, options: CallOptions = {}): Promise<ResponseHeader> {
    return this.change('UserDelete', { name }, options);
  }

  /** The roles user `name` holds. */
  async userGet(name: string, options: AuthLookupOptions = {}): Promise<readonly string[]> {
    return (await this.unary<{ roles: string[] }>('UserGet', { name }, options)).roles;
  }

  /** Every user's name, sorted. */
  async userList(options: CallOptions = {}): Promise<readonly string[]> {
    return (await this.unary<{ users: string[] }>('UserList', {}, options)).users;
  }

  /** A new password for `name`; the tokens it had stop working. */
  async userChangePassword(
    name: string,
    password: string,
    options: CallOptions = {},
  ): Promise<ResponseHeader> {
    return this.change('UserChangePassword', { name, password }, options);
  }

  async userGrantRole(user: string, role: string, options: CallOptions = {}): Promise<ResponseHeader> {
    return this.change('UserGrantRole', { user, role }, options);
  }

  async userRevokeRole(user: string, role: string, options: CallOptions = {}): Promise<ResponseHeader> {
    return this.change('UserRevokeRole', { name: user, role }, options);
  }

  async roleAdd(name: string, options: CallOptions = {}): Promise<ResponseHeader> {
    return this.change('RoleAdd', { name }, options);
  }

  async roleDelete(name: string, options: CallOptions = {}): Promise<ResponseHeader> {
    return this.change('RoleDelete', { role: name }, options);
  }

  /** The permissions role `name` holds, in key order. */
  async roleGet(name: string, options: AuthLookupOptions = {}): Promise<readonly Permission[]> {
    const pb = await this.unary<{ perm: PbPermission[] }>('RoleGet', { role: name }, options);
    return pb.perm.map(permissionFromPb);
  }

  /** Every role's name, sorted. */
  async roleList(options: CallOptions = {}): Promise<readonly string[]> {
    return (await this.unary<{ roles: string[] }>('RoleList', {}, options)).roles;
  }

  /** Grants `type` on `key` (one key, or the range `range` says) to role `role`. */
  async roleGrantPermission(
    role: string,
    type: PermissionType,
    key: Bytes,
    range: PermissionRangeOptions & CallOptions = {},
  ): Promise<ResponseHeader> {
    if (!PERMISSION_TYPES.includes(type))
      throw new ValidationError('permission', [
        `type must be read, write or readwrite, got '${String(type)}'`,
      ]);
    const start = toBytes(key);
    const perm: PbPermission = {
      permType: PERMISSION_TYPE_TO_PB[type],
      key: start,
      range_end: permissionRangeEnd(start, range),
    };
    return this.change('RoleGrantPermission', { name: role, perm }, range);
  }

  /** Takes back the permission of role `role` on exactly this key or range, whatever its type. */
  async roleRevokePermission(
    role: string,
    key: Bytes,
    range: PermissionRangeOptions & CallOptions = {},
  ): Promise<ResponseHeader> {
    const start = toBytes(key);
    return this.change(
      'RoleRevokePermission',
      { role, key: start, range_end: permissionRangeEnd(start, range) },
      range,
    );
  }

  private async change(method: string, request: object, options: CallOptions): Promise<ResponseHeader> {
    return headerFromPb((await this.unary<{ header: PbResponseHeader }>(method, request, options)).header);
  }

  private unary<Response>(method: string, request: object, options: AuthLookupOptions): Promise<Response> {
    this.transport.checkOpen();
    if (options.token !== undefined) return this.unaryWithToken(method, request, options.token, options);
    return this.transport.call(`auth.${method}`, options, (connection, deadline) =>
      connection.unary<Response>('auth', method, request, new grpc.Metadata(), deadline),
    );
  }

  /**
   * One call made with a caller's token (or '' for none), on one endpoint after another while
   * the failure is retryable. Not through the client's retry loop: a refused token is the
   * caller's, and must not make this client authenticate again.
   */
  private async unaryWithToken<Response>(
    method: string,
    request: object,
    token: string,
    options: CallOptions,
  ): Promise<Response> {
    const budgetMs = options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    const deadlineMs = this.transport.clock.nowMs() + budgetMs;
    let lastError: MeshClientError | undefined;
    for (let index = 0; index < this.transport.maxAttempts; index++) {
      this.transport.checkOpen();
      const remainingMs = deadlineMs - this.transport.clock.nowMs();
      if (remainingMs <= 0) break;
      const connection: EndpointConnection = this.transport.pick();
      const metadata = new grpc.Metadata();
      // Present even when empty: the client's interceptor then does not add its own token.
      metadata.set(TOKEN_METADATA, token);
      try {
        return await connection.unary<Response>(
          'auth',
          method,
          request,
          metadata,
          new Date(Date.now() + remainingMs),
        );
      } catch (error) {
        const typed = errorFromGrpc(error, connection.address);
        if (!typed.retryable) throw typed;
        lastError = typed;
        this.transport.failed(connection.address);
      }
    }
    throw lastError ?? new UnavailableError(`auth.${method}: no endpoint answered within ${budgetMs} ms`);
  }
}
