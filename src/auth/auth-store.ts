/**
 * The replicated auth state of a node: users (with their password hashes), roles (with their
 * key-range permissions), whether auth is on, the auth revision (bumped by every change, as
 * etcd's) and the cluster's token-signing secret. Applying is deterministic and pure; checks
 * read this state directly, so a change takes effect on a member the moment it applies there.
 */
import { type AuthCommand, base64, fromBase64, type Permission } from './auth-commands.js';
import {
  AuthError,
  BadAuthRequestError,
  InvalidAuthManagementError,
  PermissionNotGrantedError,
  RoleEmptyError,
  RoleExistsError,
  RoleNotFoundError,
  RoleNotGrantedError,
  RootRoleMissingError,
  RootUserMissingError,
  UserEmptyError,
  UserExistsError,
  UserNotFoundError,
} from './errors.js';
import { coveredBy, type KeyInterval, mergeIntervals, permissionInterval } from './key-intervals.js';
import { MAX_PERMISSIONS_PER_ROLE, MAX_ROLES_PER_USER, ROOT_NAME } from './limits.js';
import { type Access, grantsAccess, PERMISSION_TYPES } from './permission-types.js';

export interface UserRecord {
  readonly name: string;
  /** Undefined for a user without password (it signs in by client certificate only). */
  readonly passwordHash?: string;
  /** Sorted. */
  readonly roles: readonly string[];
  /** The auth revision that set the user's password: tokens issued before it are refused. */
  readonly generation: number;
}

export interface RoleRecord {
  readonly name: string;
  /** Sorted by key, then range end. */
  readonly permissions: readonly Permission[];
}

/** What request handlers read of the auth store. */
export interface AuthStateView {
  readonly enabled: boolean;
  readonly revision: number;
  readonly tokenSecret: string | undefined;
  user(name: string): UserRecord | undefined;
  role(name: string): RoleRecord | undefined;
  users(): readonly UserRecord[];
  roles(): readonly RoleRecord[];
  isRoot(user: string): boolean;
  permits(user: string, access: Access, interval: KeyInterval): boolean;
}

const SNAPSHOT_VERSION = 1;

export class AuthStore implements AuthStateView {
  private enabledNow = false;
  private revisionNow = 0;
  private secret: string | undefined;
  private readonly userTable = new Map<string, UserRecord>();
  private readonly roleTable = new Map<string, RoleRecord>();
  /** Merged permitted intervals per access and user; dropped by every change, so never stale. */
  private readonly permitted = new Map<string, KeyInterval[]>();

  get enabled(): boolean {
    return this.enabledNow;
  }

  get revision(): number {
    return this.revisionNow;
  }

  get tokenSecret(): string | undefined {
    return this.secret;
  }

  user(name: string): UserRecord | undefined {
    return this.userTable.get(name);
  }

  role(name: string): RoleRecord | undefined {
    return this.roleTable.get(name);
  }

  users(): readonly UserRecord[] {
    return [...this.userTable.values()].sort((left, right) => compareText(left.name, right.name));
  }

  roles(): readonly RoleRecord[] {
    return [...this.roleTable.values()].sort((left, right) => compareText(left.name, right.name));
  }

  isRoot(user: string): boolean {
    return this.userTable.get(user)?.roles.includes(ROOT_NAME) ?? false;
  }

  permits(user: string, access: Access, interval: KeyInterval): boolean {
    if (this.isRoot(user)) return true;
    const cacheKey = `${access}\n${user}`;
    let merged = this.permitted.get(cacheKey);
    if (merged === undefined) {
      merged = mergeIntervals(this.grantedIntervals(user, access));
      this.permitted.set(cacheKey, merged);
    }
    return coveredBy(merged, interval);
  }

  private grantedIntervals(user: string, access: Access): KeyInterval[] {
    const intervals: KeyInterval[] = [];
    for (const roleName of this.userTable.get(user)?.roles ?? []) {
      for (const permission of this.roleTable.get(roleName)?.permissions ?? []) {
        if (grantsAccess(permission.type, access))
          intervals.push(permissionInterval(permission.key, permission.rangeEnd));
      }
    }
    return intervals;
  }

  /** Applies one change; a refused change throws its `AuthError` and leaves the state as it was. */
  apply(command: AuthCommand): void {
    this.change(command);
    this.revisionNow += 1;
    this.permitted.clear();
  }

  private change(command: AuthCommand): void {
    switch (command.type) {
      case 'authEnable': {
        const root = this.userTable.get(ROOT_NAME);
        if (root === undefined) throw new RootUserMissingError();
        if (!root.roles.includes(ROOT_NAME)) throw new RootRoleMissingError();
        this.enabledNow = true;
        this.secret ??= command.tokenSecret;
        return;
      }
      case 'authDisable':
        this.enabledNow = false;
        return;
      case 'userAdd': {
        if (command.name === '') throw new UserEmptyError();
        if (this.userTable.has(command.name)) throw new UserExistsError(command.name);
        this.userTable.set(command.name, {
          name: command.name,
          ...(command.passwordHash === undefined ? {} : { passwordHash: command.passwordHash }),
          roles: [],
          generation: this.revisionNow + 1,
        });
        return;
      }
      case 'userDelete':
        this.existingUser(command.name);
        if (this.enabledNow && command.name === ROOT_NAME)
          throw new InvalidAuthManagementError('the root user cannot be deleted while auth is enabled');
        this.userTable.delete(command.name);
        return;
      case 'userChangePassword': {
        const user = this.existingUser(command.name);
        this.userTable.set(user.name, {
          ...user,
          passwordHash: command.passwordHash,
          generation: this.revisionNow + 1,
        });
        return;
      }
      case 'userGrantRole': {
        const user = this.existingUser(command.name);
        if (command.role !== ROOT_NAME && !this.roleTable.has(command.role))
          throw new RoleNotFoundError(command.role);
        if (user.roles.includes(command.role)) return;
        if (user.roles.length >= MAX_ROLES_PER_USER)
          throw new BadAuthRequestError(`user ${user.name} holds ${MAX_ROLES_PER_USER} roles already`);
        this.userTable.set(user.name, { ...user, roles: [...user.roles, command.role].sort(compareText) });
        return;
      }
      case 'userRevokeRole': {
        const user = this.existingUser(command.name);
        if (!user.roles.includes(command.role)) throw new RoleNotGrantedError(user.name, command.role);
        if (this.enabledNow && user.name === ROOT_NAME && command.role === ROOT_NAME)
          throw new InvalidAuthManagementError(
            'the root role cannot be revoked from root while auth is enabled',
          );
        this.userTable.set(user.name, { ...user, roles: user.roles.filter((role) => role !== command.role) });
        return;
      }
      case 'roleAdd':
        if (command.name === '') throw new RoleEmptyError();
        if (this.roleTable.has(command.name)) throw new RoleExistsError(command.name);
        this.roleTable.set(command.name, { name: command.name, permissions: [] });
        return;
      case 'roleDelete':
        this.existingRole(command.name);
        if (this.enabledNow && command.name === ROOT_NAME)
          throw new InvalidAuthManagementError('the root role cannot be deleted while auth is enabled');
        this.roleTable.delete(command.name);
        for (const user of this.userTable.values()) {
          if (user.roles.includes(command.name))
            this.userTable.set(user.name, {
              ...user,
              roles: user.roles.filter((role) => role !== command.name),
            });
        }
        return;
      case 'roleGrantPermission': {
        const role = this.existingRole(command.name);
        const { key, rangeEnd } = command.permission;
        if (rangeEnd !== '' && rangeEnd !== '\0' && rangeEnd <= key)
          throw new InvalidAuthManagementError('the permission range end is not after its key');
        const others = role.permissions.filter((held) => held.key !== key || held.rangeEnd !== rangeEnd);
        if (others.length >= MAX_PERMISSIONS_PER_ROLE)
          throw new BadAuthRequestError(
            `role ${role.name} holds ${MAX_PERMISSIONS_PER_ROLE} permissions already`,
          );
        this.roleTable.set(role.name, {
          name: role.name,
          permissions: sortPermissions([...others, command.permission]),
        });
        return;
      }
      case 'roleRevokePermission': {
        const role = this.existingRole(command.name);
        const others = role.permissions.filter(
          (held) => held.key !== command.key || held.rangeEnd !== command.rangeEnd,
        );
        if (others.length === role.permissions.length) throw new PermissionNotGrantedError(role.name);
        this.roleTable.set(role.name, { name: role.name, permissions: others });
        return;
      }
    }
  }

  private existingUser(name: string): UserRecord {
    if (name === '') throw new UserEmptyError();
    const user = this.userTable.get(name);
    if (user === undefined) throw new UserNotFoundError(name);
    return user;
  }

  private existingRole(name: string): RoleRecord {
    if (name === '') throw new RoleEmptyError();
    const role = this.roleTable.get(name);
    if (role === undefined) throw new RoleNotFoundError(name);
    return role;
  }

  /** The whole state as JSON bytes, for the node's snapshot. */
  snapshot(): Uint8Array {
    return new TextEncoder().encode(
      JSON.stringify({
        version: SNAPSHOT_VERSION,
        enabled: this.enabledNow,
        revision: this.revisionNow,
        ...(this.secret === undefined ? {} : { tokenSecret: this.secret }),
        users: this.users(),
        roles: this.roles().map((role) => ({
          name: role.name,
          permissions: role.permissions.map((permission) => ({
            type: permission.type,
            key: base64(permission.key),
            rangeEnd: base64(permission.rangeEnd),
          })),
        })),
      }),
    );
  }

  /** Replaces the state with a snapshot's (see `decodeAuthSnapshot`). */
  restore(bytes: Uint8Array): void {
    this.restoreState(decodeAuthSnapshot(bytes));
  }

  /** Replaces the state with a decoded snapshot's: decoding first lets a bad snapshot change nothing. */
  restoreState(state: AuthSnapshotState): void {
    this.enabledNow = state.enabled;
    this.revisionNow = state.revision;
    this.secret = state.tokenSecret;
    this.userTable.clear();
    for (const user of state.users) this.userTable.set(user.name, user);
    this.roleTable.clear();
    for (const role of state.roles) this.roleTable.set(role.name, role);
    this.permitted.clear();
  }
}

/** Empty bytes (a node snapshot from before auth existed) decode as no users, no roles, auth off. */
export function decodeAuthSnapshot(bytes: Uint8Array): AuthSnapshotState {
  return bytes.byteLength === 0 ? emptySnapshot() : parseSnapshot(bytes);
}

export interface AuthSnapshotState {
  enabled: boolean;
  revision: number;
  tokenSecret: string | undefined;
  users: UserRecord[];
  roles: RoleRecord[];
}

function emptySnapshot(): AuthSnapshotState {
  return { enabled: false, revision: 0, tokenSecret: undefined, users: [], roles: [] };
}

class AuthSnapshotError extends AuthError {
  constructor(reason: string) {
    super('AUTH_SNAPSHOT_CORRUPT', `auth snapshot section is corrupt: ${reason}`);
  }
}

function parseSnapshot(bytes: Uint8Array): AuthSnapshotState {
  let parsed: {
    version?: unknown;
    enabled?: unknown;
    revision?: unknown;
    tokenSecret?: unknown;
    users?: unknown;
    roles?: unknown;
  };
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new AuthSnapshotError(String(error));
  }
  if (parsed.version !== SNAPSHOT_VERSION) throw new AuthSnapshotError(`version ${String(parsed.version)}`);
  if (typeof parsed.enabled !== 'boolean' || !Number.isSafeInteger(parsed.revision))
    throw new AuthSnapshotError('enabled or revision missing');
  if (!Array.isArray(parsed.users) || !Array.isArray(parsed.roles))
    throw new AuthSnapshotError('no users or roles');
  const users = (parsed.users as UserRecord[]).map((user) => {
    if (
      typeof user?.name !== 'string' ||
      !Array.isArray(user.roles) ||
      !Number.isSafeInteger(user.generation)
    )
      throw new AuthSnapshotError('a user record is malformed');
    return user;
  });
  const roles = (parsed.roles as { name: unknown; permissions: unknown }[]).map((role) => {
    if (typeof role?.name !== 'string' || !Array.isArray(role.permissions))
      throw new AuthSnapshotError('a role record is malformed');
    return {
      name: role.name,
      permissions: (role.permissions as { type: unknown; key: unknown; rangeEnd: unknown }[]).map(
        (permission) => {
          if (
            !PERMISSION_TYPES.includes(permission?.type as Permission['type']) ||
            typeof permission.key !== 'string' ||
            typeof permission.rangeEnd !== 'string'
          )
            throw new AuthSnapshotError(`a permission of role ${role.name} is malformed`);
          return {
            type: permission.type as Permission['type'],
            key: fromBase64(permission.key),
            rangeEnd: fromBase64(permission.rangeEnd),
          };
        },
      ),
    };
  });
  return {
    enabled: parsed.enabled,
    revision: parsed.revision as number,
    tokenSecret: typeof parsed.tokenSecret === 'string' ? parsed.tokenSecret : undefined,
    users,
    roles,
  };
}

function sortPermissions(permissions: Permission[]): Permission[] {
  return permissions.sort(
    (left, right) => compareText(left.key, right.key) || compareText(left.rangeEnd, right.rangeEnd),
  );
}

function compareText(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}
