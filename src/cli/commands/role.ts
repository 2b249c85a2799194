/**
 * `meshos role add|delete|get|list|grant-permission|revoke-permission`: roles and their key-range
 * permissions, as etcdctl's `role` (same arguments, same text output).
 */
// The leaf, not src/auth's index: that loads the auth store and src/kv, which a client never runs.
import { grantsAccess } from '../../auth/permission-types.js';
import {
  bytesToText,
  type Permission,
  type PermissionRangeOptions,
  permissionRangeEnd,
  prefixRangeEnd,
  toBytes,
} from '../../client/index.js';
import { argumentsOf, permissionRangeFrom, permissionTypeFrom } from './auth-arguments.js';
import {
  CLIENT_TLS_OPTION_USAGE,
  type CommandIo,
  printCall,
  runSubcommand,
  type Subcommands,
} from './common.js';

export const ROLE_USAGE = `usage:
  meshos role add ROLE
  meshos role delete ROLE
  meshos role get ROLE
  meshos role list
  meshos role grant-permission ROLE read|write|readwrite KEY [RANGE_END] [--prefix | --from-key]
  meshos role revoke-permission ROLE KEY [RANGE_END] [--prefix | --from-key]
      KEY alone: that key; KEY RANGE_END: [KEY, RANGE_END); --prefix: every key starting with KEY;
      --from-key: every key from KEY on. A revoke names the same keys as the grant did.
options:
  --json                   machine-readable output
  --endpoints a,b,c        client endpoints (default 127.0.0.1:2379)
${CLIENT_TLS_OPTION_USAGE}
with auth on, these are root's (--user root); a user may get a role it holds`;

const RANGE_OPTION = { prefix: { type: 'boolean' }, 'from-key': { type: 'boolean' } } as const;

/** A permission's keys as `--json` shows them: text, range end "" for one key, "\0" for every key from key on. */
export function permissionJson(permission: Permission): Record<string, unknown> {
  return {
    type: permission.type,
    key: bytesToText(permission.key),
    rangeEnd: bytesToText(permission.rangeEnd),
  };
}

/** One permission's keys as etcdctl prints them: `k`, `[k, e)`, `[k, e) (prefix k)`, `[k, <open ended>`. */
export function permissionKeysText(permission: Permission): string {
  const key = bytesToText(permission.key);
  if (permission.rangeEnd.length === 0) return key;
  const openEnded = permission.rangeEnd.length === 1 && permission.rangeEnd[0] === 0;
  const range = openEnded ? `[${key}, <open ended>` : `[${key}, ${bytesToText(permission.rangeEnd)})`;
  const isPrefix =
    permission.key.length > 0 && Buffer.from(prefixRangeEnd(permission.key)).equals(permission.rangeEnd);
  return isPrefix ? `${range} (prefix ${key})` : range;
}

/** A role as `role get` prints it: its name, then the keys it may read and those it may write. */
export function roleLines(role: string, permissions: readonly Permission[]): string[] {
  const keysOf = (type: 'read' | 'write') =>
    permissions
      .filter((permission) => grantsAccess(permission.type, type))
      .map((permission) => `\t${permissionKeysText(permission)}`);
  return [`Role ${role}`, 'KV Read:', ...keysOf('read'), 'KV Write:', ...keysOf('write')];
}

async function add(argv: string[], io: CommandIo): Promise<number> {
  const { values, args } = argumentsOf(argv, {}, ['ROLE']);
  const [role = ''] = args;
  return printCall(
    io,
    values,
    (client) => client.auth.roleAdd(role),
    () => ({ role, created: true }),
    () => [`Role ${role} created`],
  );
}

async function remove(argv: string[], io: CommandIo): Promise<number> {
  const { values, args } = argumentsOf(argv, {}, ['ROLE']);
  const [role = ''] = args;
  return printCall(
    io,
    values,
    (client) => client.auth.roleDelete(role),
    () => ({ role, deleted: true }),
    () => [`Role ${role} deleted`],
  );
}

async function get(argv: string[], io: CommandIo): Promise<number> {
  const { values, args } = argumentsOf(argv, {}, ['ROLE']);
  const [role = ''] = args;
  return printCall(
    io,
    values,
    (client) => client.auth.roleGet(role),
    (permissions) => ({ role, permissions: permissions.map(permissionJson) }),
    (permissions) => roleLines(role, permissions),
  );
}

async function list(argv: string[], io: CommandIo): Promise<number> {
  const { values } = argumentsOf(argv, {}, []);
  return printCall(
    io,
    values,
    (client) => client.auth.roleList(),
    (roles) => ({ roles }),
    (roles) => roles,
  );
}

async function grantPermission(argv: string[], io: CommandIo): Promise<number> {
  const { values, args } = argumentsOf(argv, RANGE_OPTION, ['ROLE', 'TYPE', 'KEY'], ['RANGE_END']);
  const [role = '', typeText = '', key = '', rangeEnd] = args;
  const type = permissionTypeFrom(typeText);
  const range = permissionRangeFrom(key, rangeEnd, values);
  return printCall(
    io,
    values,
    (client) => client.auth.roleGrantPermission(role, type, key, range),
    () => ({ role, granted: { type, ...keysJson(key, range) } }),
    () => [`Role ${role} updated`],
  );
}

async function revokePermission(argv: string[], io: CommandIo): Promise<number> {
  const { values, args } = argumentsOf(argv, RANGE_OPTION, ['ROLE', 'KEY'], ['RANGE_END']);
  const [role = '', key = '', rangeEnd] = args;
  const range = permissionRangeFrom(key, rangeEnd, values);
  const keys = keysJson(key, range);
  return printCall(
    io,
    values,
    (client) => client.auth.roleRevokePermission(role, key, range),
    () => ({ role, revoked: keys }),
    () => [
      keys.rangeEnd === ''
        ? `Permission of key ${key} is revoked from role ${role}`
        : `Permission of range ${keys.rangeEnd === '\0' ? `[${key}, <open ended>` : `[${key}, ${keys.rangeEnd})`} is revoked from role ${role}`,
    ],
  );
}

/** The key and range end a grant or revoke sends, as text. */
function keysJson(key: string, range: PermissionRangeOptions): { key: string; rangeEnd: string } {
  return { key, rangeEnd: bytesToText(permissionRangeEnd(toBytes(key), range)) };
}

const SUBCOMMANDS: Subcommands = {
  add,
  delete: remove,
  get,
  list,
  'grant-permission': grantPermission,
  'revoke-permission': revokePermission,
};

/** `meshos role ...`; argv starts after `role`. */
export async function roleCommand(argv: string[], io: CommandIo): Promise<number> {
  return runSubcommand('role', ROLE_USAGE, SUBCOMMANDS, argv, io);
}
