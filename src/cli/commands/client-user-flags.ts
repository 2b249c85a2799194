/**
 * `--user NAME[:PASSWORD]` and `--password PASSWORD` (etcdctl's names): the user a client command
 * acts as on a cluster with auth on. The client authenticates with them and sends its token.
 */
import { MeshError } from '../../lib/index.js';

export const CLIENT_USER_OPTION = {
  user: { type: 'string' },
  password: { type: 'string' },
} as const;

export interface ClientUserValues {
  readonly user?: string | undefined;
  readonly password?: string | undefined;
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
    return undefined;
  }
  const colon = values.user.indexOf(':');
  const user = colon < 0 ? values.user : values.user.slice(0, colon);
  const inline = colon < 0 ? undefined : values.user.slice(colon + 1);
  if (user === '') throw new ClientUserFlagError('--user needs a user name');
  if (inline !== undefined && values.password !== undefined)
    throw new ClientUserFlagError(
      'give the password once: --user NAME:PASSWORD or --user NAME --password PASSWORD',
    );
  const password = inline ?? values.password;
  if (password === undefined)
    throw new ClientUserFlagError(
      '--user NAME needs a password: --user NAME:PASSWORD or --password PASSWORD',
    );
  return { user, password };
}
