/**
 * etcd's Auth service: auth on and off, users, roles and their key-range permissions, and
 * Authenticate. Changes go through the Raft log (passwords hashed here first: only the hash is
 * replicated); reads come from the auth store after a linearizable barrier. With auth on, the
 * management calls are root's, except a user reading itself or its roles and changing its own
 * password, as in etcd.
 */
import type * as grpc from '@grpc/grpc-js';
import {
  type AuthCommand,
  AuthFailedError,
  BadAuthRequestError,
  checkAuthName,
  hashPassword,
  issueToken,
  newTokenSecret,
  type Permission,
  type PermissionType,
  RoleNotFoundError,
  UserNotFoundError,
  verifyPassword,
} from '../auth/index.js';
import { binaryToBytes, bytesToBinary } from '../kv/index.js';
import { type Logger, MeshError } from '../lib/index.js';
import { responseHeader } from './convert-header.js';
import { unary } from './grpc-call.js';
import type { RequestMetadata } from './grpc-server/index.js';
import type { KvBackend, RequestOptions } from './kv-backend.js';
import { requireRoot } from './request-auth.js';

export class AuthNotEnabledError extends MeshError {
  constructor() {
    super('AUTH_NOT_ENABLED', 'authentication is not enabled');
  }
}

/** Permission types as etcd's auth.proto names them (the loader gives enum names). */
const PERMISSION_TYPE_FROM_PB: Readonly<Record<string, PermissionType>> = {
  Read: 'read',
  Write: 'write',
  Readwrite: 'readwrite',
  READ: 'read',
  WRITE: 'write',
  READWRITE: 'readwrite',
};
const PERMISSION_TYPE_TO_PB: Readonly<Record<PermissionType, string>> = {
  read: 'Read',
  write: 'Write',
  readwrite: 'Readwrite',
};

interface PbPermission {
  readonly permType: string | number;
  readonly key: Uint8Array;
  readonly range_end: Uint8Array;
}

function permissionFromPb(perm: PbPermission | null | undefined): Permission {
  if (perm === null || perm === undefined) throw new BadAuthRequestError('permission not given');
  const type =
    typeof perm.permType === 'number'
      ? (['read', 'write', 'readwrite'] as const)[perm.permType]
      : PERMISSION_TYPE_FROM_PB[perm.permType];
  if (type === undefined) throw new BadAuthRequestError(`unknown permission type ${String(perm.permType)}`);
  return {
    type,
    key: bytesToBinary(perm.key ?? new Uint8Array()),
    rangeEnd: bytesToBinary(perm.range_end ?? new Uint8Array()),
  };
}

function permissionToPb(permission: Permission): PbPermission {
  return {
    permType: PERMISSION_TYPE_TO_PB[permission.type],
    key: binaryToBytes(permission.key),
    range_end: binaryToBytes(permission.rangeEnd),
  };
}

export function authService(backend: KvBackend, logger: Logger): grpc.UntypedServiceImplementation {
  const header = () => ({ header: responseHeader(backend) });
  /** A root-only change (or the caller's own, where `allowed` says so), through the log. */
  const change = async (
    method: string,
    metadata: RequestMetadata,
    options: RequestOptions,
    command: AuthCommand,
    allowed?: (user: string) => boolean,
  ) => {
    requireRoot(backend, metadata, method, allowed);
    await backend.changeAuth(command, options);
    return header();
  };
  const method = <Request>(
    name: string,
    handler: (request: Request, metadata: RequestMetadata, options: RequestOptions) => Promise<object>,
  ) => unary(name, logger, handler);
  return {
    AuthStatus: method('AuthStatus', async (_request, _metadata, options) => {
      const auth = await backend.currentAuth(options);
      return { ...header(), enabled: auth.enabled, authRevision: String(auth.revision) };
    }),
    AuthEnable: method('AuthEnable', async (_request, metadata, options) => {
      if (backend.auth.enabled) requireRoot(backend, metadata, 'AuthEnable');
      await backend.changeAuth({ type: 'authEnable', tokenSecret: newTokenSecret() }, options);
      return header();
    }),
    AuthDisable: method('AuthDisable', (_request, metadata, options) =>
      change('AuthDisable', metadata, options, { type: 'authDisable' }),
    ),
    Authenticate: method(
      'Authenticate',
      async (request: { name: string; password: string }, _metadata, options) => {
        const auth = await backend.currentAuth(options);
        if (!auth.enabled) throw new AuthNotEnabledError();
        const user = auth.user(request.name);
        const matches =
          user?.passwordHash !== undefined && (await verifyPassword(request.password, user.passwordHash));
        // The password was checked against this generation: a change meanwhile voids the check.
        if (user === undefined || !matches || backend.auth.user(user.name)?.generation !== user.generation) {
          const refusal = new AuthFailedError();
          backend.authRefusals.record(refusal, `Authenticate as ${JSON.stringify(request.name)}`);
          throw refusal;
        }
        return { ...header(), token: issueToken(backend.auth, user.name, Date.now()) };
      },
    ),
    UserAdd: method(
      'UserAdd',
      async (
        request: { name: string; password: string; options?: { no_password?: boolean } | null },
        metadata,
        options,
      ) => {
        requireRoot(backend, metadata, 'UserAdd');
        const name = checkAuthName('user', request.name);
        const noPassword = request.options?.no_password === true;
        if (!noPassword && request.password === '') throw new BadAuthRequestError('password is empty');
        const command: AuthCommand = noPassword
          ? { type: 'userAdd', name }
          : { type: 'userAdd', name, passwordHash: await hashPassword(request.password) };
        return change('UserAdd', metadata, options, command);
      },
    ),
    UserDelete: method('UserDelete', (request: { name: string }, metadata, options) =>
      change('UserDelete', metadata, options, { type: 'userDelete', name: request.name }),
    ),
    UserChangePassword: method(
      'UserChangePassword',
      async (request: { name: string; password: string }, metadata, options) => {
        const self = (user: string) => user === request.name;
        requireRoot(backend, metadata, 'UserChangePassword', self);
        if (request.password === '') throw new BadAuthRequestError('password is empty');
        const passwordHash = await hashPassword(request.password);
        return change(
          'UserChangePassword',
          metadata,
          options,
          { type: 'userChangePassword', name: request.name, passwordHash },
          self,
        );
      },
    ),
    UserGrantRole: method('UserGrantRole', (request: { user: string; role: string }, metadata, options) =>
      change('UserGrantRole', metadata, options, {
        type: 'userGrantRole',
        name: request.user,
        role: request.role,
      }),
    ),
    UserRevokeRole: method('UserRevokeRole', (request: { name: string; role: string }, metadata, options) =>
      change('UserRevokeRole', metadata, options, {
        type: 'userRevokeRole',
        name: request.name,
        role: request.role,
      }),
    ),
    UserGet: method('UserGet', async (request: { name: string }, metadata, options) => {
      requireRoot(backend, metadata, 'UserGet', (user) => user === request.name);
      const user = (await backend.currentAuth(options)).user(request.name);
      if (user === undefined) throw new UserNotFoundError(request.name);
      return { ...header(), roles: [...user.roles] };
    }),
    UserList: method('UserList', async (_request, metadata, options) => {
      requireRoot(backend, metadata, 'UserList');
      const auth = await backend.currentAuth(options);
      return { ...header(), users: auth.users().map((user) => user.name) };
    }),
    RoleAdd: method('RoleAdd', (request: { name: string }, metadata, options) =>
      change('RoleAdd', metadata, options, { type: 'roleAdd', name: checkAuthName('role', request.name) }),
    ),
    RoleDelete: method('RoleDelete', (request: { role: string }, metadata, options) =>
      change('RoleDelete', metadata, options, { type: 'roleDelete', name: request.role }),
    ),
    RoleGet: method('RoleGet', async (request: { role: string }, metadata, options) => {
      requireRoot(
        backend,
        metadata,
        'RoleGet',
        (user) => backend.auth.user(user)?.roles.includes(request.role) ?? false,
      );
      const role = (await backend.currentAuth(options)).role(request.role);
      if (role === undefined) throw new RoleNotFoundError(request.role);
      return { ...header(), perm: role.permissions.map(permissionToPb) };
    }),
    RoleList: method('RoleList', async (_request, metadata, options) => {
      requireRoot(backend, metadata, 'RoleList');
      const auth = await backend.currentAuth(options);
      return { ...header(), roles: auth.roles().map((role) => role.name) };
    }),
    RoleGrantPermission: method(
      'RoleGrantPermission',
      (request: { name: string; perm: PbPermission | null }, metadata, options) =>
        change('RoleGrantPermission', metadata, options, {
          type: 'roleGrantPermission',
          name: request.name,
          permission: permissionFromPb(request.perm),
        }),
    ),
    RoleRevokePermission: method(
      'RoleRevokePermission',
      (request: { role: string; key: Uint8Array; range_end: Uint8Array }, metadata, options) =>
        change('RoleRevokePermission', metadata, options, {
          type: 'roleRevokePermission',
          name: request.role,
          key: bytesToBinary(request.key ?? new Uint8Array()),
          rangeEnd: bytesToBinary(request.range_end ?? new Uint8Array()),
        }),
    ),
  };
}
