/**
 * `meshos user add|delete|get|list|passwd|grant-role|revoke-role`: users and the roles they hold,
 * as etcdctl's `user` (same arguments where they fit, same text output). A new password comes from
 * a file, standard input or a flag, never from a prompt (docs/SECURITY.md).
 */
import { argumentsOf, NEW_PASSWORD_OPTION, passwordSourceFrom, readPassword } from './auth-arguments.js';
import {
  CLIENT_TLS_OPTION_USAGE,
  type CommandIo,
  printCall,
  runSubcommand,
  type Subcommands,
  UsageError,
} from './common.js';
import { permissionJson, roleLines } from './role.js';

export const USER_USAGE = `usage:
  meshos user add NAME [--new-user-password-file FILE | --new-user-password-stdin | --no-password]
  meshos user delete NAME
  meshos user get NAME [--detail]
  meshos user list
  meshos user passwd NAME [--new-user-password-file FILE | --new-user-password-stdin]
  meshos user grant-role NAME ROLE
  meshos user revoke-role NAME ROLE
the new password (one line; a trailing line break is dropped):
  --new-user-password-file FILE   read from FILE
  --new-user-password-stdin       read from standard input
  --new-user-password PASSWORD, user add NAME:PASSWORD
                                  on the command line, as etcdctl takes it (kept in shell history)
  --no-password                   none: the user logs in with a client certificate only (user add)
options:
  --detail                 user get: also each role's permissions
  --json                   machine-readable output
  --endpoints a,b,c        client endpoints (default 127.0.0.1:2379)
${CLIENT_TLS_OPTION_USAGE}
with auth on, these are root's (--user root); a user may get itself and change its own password`;

/** `NAME` or `NAME:PASSWORD` (etcdctl's form of user add), split at the first colon. */
export function userAndInlinePassword(text: string): { readonly name: string; readonly password?: string } {
  const colon = text.indexOf(':');
  const name = colon < 0 ? text : text.slice(0, colon);
  if (name === '') throw new UsageError('user add needs a user name');
  return colon < 0 ? { name } : { name, password: text.slice(colon + 1) };
}

async function add(argv: string[], io: CommandIo): Promise<number> {
  const { values, args } = argumentsOf(argv, { ...NEW_PASSWORD_OPTION, 'no-password': { type: 'boolean' } }, [
    'NAME',
  ]);
  const { name, password: inline } = userAndInlinePassword(args[0] ?? '');
  const source = passwordSourceFrom(values, inline, true);
  const password = source.kind === 'none' ? { noPassword: true as const } : await readPassword(source, io);
  return printCall(
    io,
    values,
    (client) => client.auth.userAdd(name, password),
    () => ({ user: name, created: true }),
    () => [`User ${name} created`],
  );
}

async function remove(argv: string[], io: CommandIo): Promise<number> {
  const { values, args } = argumentsOf(argv, {}, ['NAME']);
  const [name = ''] = args;
  return printCall(
    io,
    values,
    (client) => client.auth.userDelete(name),
    () => ({ user: name, deleted: true }),
    () => [`User ${name} deleted`],
  );
}

async function get(argv: string[], io: CommandIo): Promise<number> {
  const { values, args } = argumentsOf(argv, { detail: { type: 'boolean' } }, ['NAME']);
  const [name = ''] = args;
  return printCall(
    io,
    values,
    async (client) => {
      const roles = await client.auth.userGet(name);
      if (values.detail !== true) return { roles, details: [] };
      const details = [];
      for (const role of roles) details.push({ role, permissions: await client.auth.roleGet(role) });
      return { roles, details };
    },
    ({ roles, details }) => ({
      user: name,
      roles,
      ...(values.detail === true
        ? {
            details: details.map(({ role, permissions }) => ({
              role,
              permissions: permissions.map(permissionJson),
            })),
          }
        : {}),
    }),
    ({ roles, details }) =>
      values.detail === true
        ? [
            `User: ${name}`,
            ...details.flatMap(({ role, permissions }) => ['', ...roleLines(role, permissions)]),
          ]
        : [`User: ${name}`, `Roles:${roles.map((role) => ` ${role}`).join('')}`],
  );
}

async function list(argv: string[], io: CommandIo): Promise<number> {
  const { values } = argumentsOf(argv, {}, []);
  return printCall(
    io,
    values,
    (client) => client.auth.userList(),
    (users) => ({ users }),
    (users) => users,
  );
}

async function passwd(argv: string[], io: CommandIo): Promise<number> {
  const { values, args } = argumentsOf(argv, NEW_PASSWORD_OPTION, ['NAME']);
  const [name = ''] = args;
  const password = await readPassword(passwordSourceFrom(values, undefined, false), io);
  return printCall(
    io,
    values,
    (client) => client.auth.userChangePassword(name, password),
    () => ({ user: name, passwordChanged: true }),
    () => ['Password updated'],
  );
}

async function grantRole(argv: string[], io: CommandIo): Promise<number> {
  const { values, args } = argumentsOf(argv, {}, ['NAME', 'ROLE']);
  const [name = '', role = ''] = args;
  return printCall(
    io,
    values,
    (client) => client.auth.userGrantRole(name, role),
    () => ({ user: name, granted: role }),
    () => [`Role ${role} is granted to user ${name}`],
  );
}

async function revokeRole(argv: string[], io: CommandIo): Promise<number> {
  const { values, args } = argumentsOf(argv, {}, ['NAME', 'ROLE']);
  const [name = '', role = ''] = args;
  return printCall(
    io,
    values,
    (client) => client.auth.userRevokeRole(name, role),
    () => ({ user: name, revoked: role }),
    () => [`Role ${role} is revoked from user ${name}`],
  );
}

const SUBCOMMANDS: Subcommands = {
  add,
  delete: remove,
  get,
  list,
  passwd,
  'grant-role': grantRole,
  'revoke-role': revokeRole,
};

/** `meshos user ...`; argv starts after `user`. */
export async function userCommand(argv: string[], io: CommandIo): Promise<number> {
  return runSubcommand('user', USER_USAGE, SUBCOMMANDS, argv, io);
}
