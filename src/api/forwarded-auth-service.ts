/**
 * etcd's Authenticate and AuthStatus on a port without an auth store (a worker's): forwarded to
 * the control plane, so a client given a worker's endpoint with `--user` gets a token any voter
 * and the worker accept. User and role management stays the voters'.
 */
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '../lib/index.js';
import { unary } from './grpc-call.js';

export interface AuthForwarder {
  /** A token for `user`, from the control plane (its refusal is thrown as it answered). */
  authenticate(user: string, password: string): Promise<string>;
  currentStatus(): Promise<{ enabled: boolean; revision: number }>;
}

export function forwardedAuthService(
  forwarder: AuthForwarder,
  logger: Logger,
): grpc.UntypedServiceImplementation {
  return {
    Authenticate: unary('Authenticate', logger, async (request: { name: string; password: string }) => ({
      header: {},
      token: await forwarder.authenticate(request.name, request.password),
    })),
    AuthStatus: unary('AuthStatus', logger, async () => {
      const status = await forwarder.currentStatus();
      return { header: {}, enabled: status.enabled, authRevision: String(status.revision) };
    }),
  };
}
