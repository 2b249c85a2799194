/** Limits of the auth store, with their units in their names. */

/** Longest user or role name (UTF-8 bytes); a user's name travels in each of its log entries. */
export const MAX_AUTH_NAME_BYTES = 255;
/** Most permissions one role holds. */
export const MAX_PERMISSIONS_PER_ROLE = 1024;
/** Most roles one user holds. */
export const MAX_ROLES_PER_USER = 256;
/** Longest key or range end in a permission (bytes), as the KV's own key limit. */
export const MAX_PERMISSION_KEY_BYTES = 64 * 1024;
/** How long a token is accepted after it was issued (etcd's `--auth-token-ttl` default). */
export const AUTH_TOKEN_TTL_MS = 300_000;
/** Bytes of the cluster's token-signing secret. */
export const TOKEN_SECRET_BYTES = 32;
/** The user and role that pass every check, as etcd's. */
export const ROOT_NAME = 'root';
