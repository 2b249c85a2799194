/** `meshos auth enable|disable|status`: etcd's authentication on and off, as etcdctl's `auth`. */
import { argumentsOf } from './auth-arguments.js';
import {
  CLIENT_TLS_OPTION_USAGE,
  type CommandIo,
  printCall,
  runSubcommand,
  type Subcommands,
} from './common.js';

export const AUTH_USAGE = `usage:
  meshos auth enable    turn auth on (user root with role root must exist: meshos user --help)
  meshos auth disable   turn auth off (root's, while auth is on)
  meshos auth status    whether auth is on, and the auth revision
options:
  --json                   machine-readable output
  --endpoints a,b,c        client endpoints (default 127.0.0.1:2379)
${CLIENT_TLS_OPTION_USAGE}`;

async function enable(argv: string[], io: CommandIo): Promise<number> {
  const { values } = argumentsOf(argv, {}, []);
  return printCall(
    io,
    values,
    (client) => client.auth.enable(),
    () => ({ enabled: true }),
    () => ['Authentication Enabled'],
  );
}

async function disable(argv: string[], io: CommandIo): Promise<number> {
  const { values } = argumentsOf(argv, {}, []);
  return printCall(
    io,
    values,
    (client) => client.auth.disable(),
    () => ({ enabled: false }),
    () => ['Authentication Disabled'],
  );
}

async function status(argv: string[], io: CommandIo): Promise<number> {
  const { values } = argumentsOf(argv, {}, []);
  return printCall(
    io,
    values,
    (client) => client.auth.status(),
    (answer) => ({ enabled: answer.enabled, authRevision: answer.authRevision }),
    (answer) => [`Authentication Status: ${answer.enabled}`, `AuthRevision: ${answer.authRevision}`],
  );
}

const SUBCOMMANDS: Subcommands = { enable, disable, status };

/** `meshos auth ...`; argv starts after `auth`. */
export async function authCommand(argv: string[], io: CommandIo): Promise<number> {
  return runSubcommand('auth', AUTH_USAGE, SUBCOMMANDS, argv, io);
}
