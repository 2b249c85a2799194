/**
 * Who a request acts as when auth is on: the user its token names, else the user named by the
 * common name of its verified client certificate (as etcd, when client-cert auth is on), else
 * nobody (refused). The one place that decides it.
 */
import type { AuthStateView } from './auth-store.js';
import { tokenUser } from './auth-tokens.js';
import { UserEmptyError, UserNotFoundError } from './errors.js';

export interface RequestCredentials {
  /** The `token` metadata, when sent. */
  readonly token?: string;
  /** The verified client certificate's common name, when the port checks client certificates. */
  readonly certificateCommonName?: string;
}

/** The user `credentials` authenticate; throws `InvalidAuthTokenError` or `UserEmptyError`. */
export function requestUser(auth: AuthStateView, credentials: RequestCredentials, nowMs: number): string {
  if (credentials.token !== undefined && credentials.token !== '')
    return tokenUser(auth, credentials.token, nowMs);
  const commonName = credentials.certificateCommonName;
  if (commonName !== undefined && commonName !== '') {
    if (auth.user(commonName) === undefined) throw new UserNotFoundError(commonName);
    return commonName;
  }
  throw new UserEmptyError();
}
