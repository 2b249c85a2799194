/**
 * Changes to the auth store: what goes through the Raft log. Passwords never do: the node that
 * receives a request hashes the password first (`password-hash.ts`) and proposes the hash.
 * Commands travel as JSON (they are rare and small), keys in base64; `decodeAuthCommand`
 * checks every field, so a malformed entry is a typed error, never a crash.
 */
import { Buffer } from 'node:buffer';
import { binaryToBytes, bytesToBinary } from '../kv/index.js';
import { BadAuthRequestError } from './errors.js';
import { MAX_AUTH_NAME_BYTES, MAX_PERMISSION_KEY_BYTES } from './limits.js';
import { PERMISSION_TYPES, type PermissionType } from './permission-types.js';

/** Keys are binary strings (one char per byte); `rangeEnd` '' for one key, '\0' for "from key". */
export interface Permission {
  readonly type: PermissionType;
  readonly key: string;
  readonly rangeEnd: string;
}

export type AuthCommand =
  /** `tokenSecret` (hex) is kept only if the cluster has none yet. */
  | { readonly type: 'authEnable'; readonly tokenSecret: string }
  | { readonly type: 'authDisable' }
  /** `passwordHash` undefined: a user without password (client certificates only), as etcd's `--no-password`. */
  | { readonly type: 'userAdd'; readonly name: string; readonly passwordHash?: string }
  | { readonly type: 'userDelete'; readonly name: string }
  | { readonly type: 'userChangePassword'; readonly name: string; readonly passwordHash: string }
  | { readonly type: 'userGrantRole'; readonly name: string; readonly role: string }
  | { readonly type: 'userRevokeRole'; readonly name: string; readonly role: string }
  | { readonly type: 'roleAdd'; readonly name: string }
  | { readonly type: 'roleDelete'; readonly name: string }
  | { readonly type: 'roleGrantPermission'; readonly name: string; readonly permission: Permission }
  | {
      readonly type: 'roleRevokePermission';
      readonly name: string;
      readonly key: string;
      readonly rangeEnd: string;
    };

export function encodeAuthCommand(command: AuthCommand): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(toWire(command)));
}

export function decodeAuthCommand(bytes: Uint8Array): AuthCommand {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new BadAuthRequestError(`auth command is not JSON: ${String(error)}`);
  }
  return fromWire(parsed);
}

/** Checks a user or role name; the same check runs before proposing and when applying. */
export function checkAuthName(what: string, name: unknown): string {
  if (typeof name !== 'string') throw new BadAuthRequestError(`${what} name must be a string`);
  const bytes = new TextEncoder().encode(name).byteLength;
  if (bytes > MAX_AUTH_NAME_BYTES)
    throw new BadAuthRequestError(`${what} name is ${bytes} bytes, more than ${MAX_AUTH_NAME_BYTES}`);
  return name;
}

export function checkPermissionKey(what: string, key: string): string {
  if (key.length > MAX_PERMISSION_KEY_BYTES)
    throw new BadAuthRequestError(
      `permission ${what} is ${key.length} bytes, more than ${MAX_PERMISSION_KEY_BYTES}`,
    );
  return key;
}

type Wire = Record<string, unknown>;

function toWire(command: AuthCommand): Wire {
  switch (command.type) {
    case 'roleGrantPermission':
      return {
        type: command.type,
        name: command.name,
        permission: {
          type: command.permission.type,
          key: base64(command.permission.key),
          rangeEnd: base64(command.permission.rangeEnd),
        },
      };
    case 'roleRevokePermission':
      return { ...command, key: base64(command.key), rangeEnd: base64(command.rangeEnd) };
    default:
      return { ...command };
  }
}

function fromWire(value: unknown): AuthCommand {
  if (typeof value !== 'object' || value === null)
    throw new BadAuthRequestError('auth command is not an object');
  const wire = value as Wire;
  const name = (): string => checkAuthName('user or role', wire.name);
  const text = (field: string): string => {
    const found = wire[field];
    if (typeof found !== 'string')
      throw new BadAuthRequestError(`auth command field ${field} must be a string`);
    return found;
  };
  switch (wire.type) {
    case 'authEnable':
      return { type: 'authEnable', tokenSecret: text('tokenSecret') };
    case 'authDisable':
      return { type: 'authDisable' };
    case 'userAdd':
      return wire.passwordHash === undefined
        ? { type: 'userAdd', name: name() }
        : { type: 'userAdd', name: name(), passwordHash: text('passwordHash') };
    case 'userDelete':
    case 'roleAdd':
    case 'roleDelete':
      return { type: wire.type, name: name() };
    case 'userChangePassword':
      return { type: 'userChangePassword', name: name(), passwordHash: text('passwordHash') };
    case 'userGrantRole':
    case 'userRevokeRole':
      return { type: wire.type, name: name(), role: checkAuthName('role', wire.role) };
    case 'roleGrantPermission':
      return { type: 'roleGrantPermission', name: name(), permission: permissionFromWire(wire.permission) };
    case 'roleRevokePermission':
      return {
        type: 'roleRevokePermission',
        name: name(),
        key: checkPermissionKey('key', fromBase64(text('key'))),
        rangeEnd: checkPermissionKey('range end', fromBase64(text('rangeEnd'))),
      };
    default:
      throw new BadAuthRequestError(`unknown auth command ${String(wire.type)}`);
  }
}

function permissionFromWire(value: unknown): Permission {
  if (typeof value !== 'object' || value === null)
    throw new BadAuthRequestError('permission is not an object');
  const wire = value as Wire;
  if (!PERMISSION_TYPES.includes(wire.type as PermissionType))
    throw new BadAuthRequestError(`permission type ${String(wire.type)} is not read, write or readwrite`);
  if (typeof wire.key !== 'string' || typeof wire.rangeEnd !== 'string')
    throw new BadAuthRequestError('permission key and range end must be strings');
  return {
    type: wire.type as PermissionType,
    key: checkPermissionKey('key', fromBase64(wire.key)),
    rangeEnd: checkPermissionKey('range end', fromBase64(wire.rangeEnd)),
  };
}

export function base64(binary: string): string {
  return Buffer.from(binaryToBytes(binary)).toString('base64');
}

export function fromBase64(text: string): string {
  return bytesToBinary(Buffer.from(text, 'base64'));
}
