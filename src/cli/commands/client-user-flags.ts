/**
 * `--user NAME[:PASSWORD]` and `--password PASSWORD` (etcdctl's names): the user a client command
 * acts as on a cluster with auth on. The client authenticates with them and sends its token.
 * `--password-file FILE` keeps the password out of the command line (and the shell's history).
 */
import { readFileSync } from 'node:fs';
import { MeshError } from '../../lib/index.js';

export const CLIENT_USER_OPTION = {
  user: { type: 'string' },
  password: { type: 'string' },
  'password-file': { type: 'string' },
} as const;

export interface ClientUserValues {
  readonly user?: string | undefined;
  readonly password?: string | undefined;
  readonly 'password-file'?: string | undefined;
}

/** A password as a file or stdin holds it: one line, its line break dropped; undefined if more lines. */
export function passwordLine(text: string): string | undefined {
  const password = text.replace(/\r?\n$/, '');
  return /[\r\n]/.test(password) ? undefined : password;
}

/** The flags do not name a user and a password together. */
export class ClientUserFlagError extends MeshError {
  constructor(message: string) {
    super('CLIENT_USER_FLAGS', message);
  }
}

/** The credentials the flags give; undefined without `--user`. Never prompts: scripts run these. */
export function clientCredentialsFrom(
  values: ClientUserValues,
): { readonly user: string; readonly password: string } | undefined {
  if (values.user === undefined) {
    if (values.password !== undefined) throw new ClientUserFlagError('--password needs --user');
    if (values['password-file'] !== undefined) throw new ClientUserFlagError('--password-file needs --user');
    return undefined;
  }
  const colon = values.user.indexOf(':');
  const user = colon < 0 ? values.user : values.user.slice(0, colon);
  const inline = colon < 0 ? undefined : values.user.slice(colon + 1);
  if (user === '') throw new ClientUserFlagError('--user needs a user name');
  const given = [inline, values.password, values['password-file']].filter((value) => value !== undefined);
  if (given.length > 1)
    throw new ClientUserFlagError(
      'give the password once: --user NAME:PASSWORD, --password PASSWORD or --password-file FILE',
    );
  const file = values['password-file'];
  const password = file === undefined ? (inline ?? values.password) : passwordFromFile(file);
  if (password === undefined)
    throw new ClientUserFlagError(
      '--user NAME needs a password: --user NAME:PASSWORD, --password PASSWORD or --password-file FILE',
    );
  return { user, password };
}

function passwordFromFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ClientUserFlagError(
      `--password-file: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  const password = passwordLine(text);
  if (password === undefined) throw new ClientUserFlagError(`--password-file: ${file} must hold one line`);
  return password;
}
