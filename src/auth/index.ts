export {
  type AuthCommand,
  checkAuthName,
  decodeAuthCommand,
  encodeAuthCommand,
  type Permission,
} from './auth-commands.js';
export {
  type AuthSnapshotState,
  type AuthStateView,
  AuthStore,
  decodeAuthSnapshot,
  type RoleRecord,
  type UserRecord,
} from './auth-store.js';
export { issueToken, newTokenSecret, tokenClaims, tokenUser } from './auth-tokens.js';
export {
  AuthError,
  AuthFailedError,
  BadAuthRequestError,
  InvalidAuthManagementError,
  InvalidAuthTokenError,
  PermissionDeniedError,
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
export { type RequestCredentials, requestUser } from './identity.js';
export {
  coveredBy,
  type KeyInterval,
  mergeIntervals,
  permissionInterval,
  requestInterval,
} from './key-intervals.js';
export { kvCommandRefusal, watchRefusal } from './kv-access.js';
export { AUTH_TOKEN_TTL_MS, MAX_AUTH_NAME_BYTES, ROOT_NAME } from './limits.js';
export { hashPassword, verifyPassword } from './password-hash.js';
export { type Access, grantsAccess, PERMISSION_TYPES, type PermissionType } from './permission-types.js';
export { type AuthRefusal, AuthRefusals } from './refusals.js';
