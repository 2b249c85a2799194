/**
 * Operating errors of authentication and roles. They are `KvError`s so that a refusal decided
 * while a command applies travels in the state machine's result (and through a forwarded
 * proposal) like any other; each code maps to etcd's gRPC status and message in the API layer.
 */
import { KvError } from '../kv/index.js';

export class AuthError extends KvError {}

export class AuthFailedError extends AuthError {
  constructor() {
    super('AUTH_FAILED', 'authentication failed, invalid user ID or password');
  }
}

export class InvalidAuthTokenError extends AuthError {
  constructor(reason: string) {
    super('AUTH_INVALID_TOKEN', `invalid auth token: ${reason}`);
  }
}

/** Auth is on and the request named no user (no token, no client certificate). */
export class UserEmptyError extends AuthError {
  constructor() {
    super('AUTH_USER_EMPTY', 'user name is empty');
  }
}

export class PermissionDeniedError extends AuthError {
  constructor(user: string, what: string) {
    super('AUTH_PERMISSION_DENIED', `permission denied: user ${user} may not ${what}`, {
      details: { user, what },
    });
  }
}

export class UserNotFoundError extends AuthError {
  constructor(name: string) {
    super('AUTH_USER_NOT_FOUND', `user ${name} not found`, { details: { name } });
  }
}

export class UserExistsError extends AuthError {
  constructor(name: string) {
    super('AUTH_USER_EXISTS', `user ${name} already exists`, { details: { name } });
  }
}

export class RoleNotFoundError extends AuthError {
  constructor(name: string) {
    super('AUTH_ROLE_NOT_FOUND', `role ${name} not found`, { details: { name } });
  }
}

export class RoleExistsError extends AuthError {
  constructor(name: string) {
    super('AUTH_ROLE_EXISTS', `role ${name} already exists`, { details: { name } });
  }
}

export class RoleNotGrantedError extends AuthError {
  constructor(user: string, role: string) {
    super('AUTH_ROLE_NOT_GRANTED', `role ${role} is not granted to user ${user}`, {
      details: { user, role },
    });
  }
}

export class PermissionNotGrantedError extends AuthError {
  constructor(role: string) {
    super('AUTH_PERMISSION_NOT_GRANTED', `that permission is not granted to role ${role}`, {
      details: { role },
    });
  }
}

export class RoleEmptyError extends AuthError {
  constructor() {
    super('AUTH_ROLE_EMPTY', 'role name is empty');
  }
}

export class RootUserMissingError extends AuthError {
  constructor() {
    super('AUTH_ROOT_USER_MISSING', 'root user does not exist');
  }
}

export class RootRoleMissingError extends AuthError {
  constructor() {
    super('AUTH_ROOT_ROLE_MISSING', 'root user does not have root role');
  }
}

/** A change that would lock everyone out (deleting root, or its root role, while auth is on). */
export class InvalidAuthManagementError extends AuthError {
  constructor(reason: string) {
    super('AUTH_INVALID_MANAGEMENT', `invalid auth management: ${reason}`);
  }
}

/** A user or role name, password hash or permission that does not validate. */
export class BadAuthRequestError extends AuthError {
  constructor(reason: string) {
    super('AUTH_BAD_REQUEST', reason);
  }
}
