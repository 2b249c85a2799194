/**
 * The kinds of key-range permission a role holds, and which access each grants. A leaf that
 * imports nothing: the client (src/client/auth.ts) and the CLI's role command read it without
 * loading the auth store and src/kv under it.
 */
export type PermissionType = 'read' | 'write' | 'readwrite';
export const PERMISSION_TYPES: readonly PermissionType[] = ['read', 'write', 'readwrite'];

export type Access = 'read' | 'write';

/** Whether a permission of `type` grants `access` (readwrite grants both). */
export function grantsAccess(type: PermissionType, access: Access): boolean {
  return type === 'readwrite' || type === access;
}
