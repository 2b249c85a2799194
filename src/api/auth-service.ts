/**
 * The Auth service, for a cluster without authentication: AuthStatus says disabled, AuthDisable
 * succeeds, Authenticate answers etcd's "authentication is not enabled"; user and role management
 * and AuthEnable answer UNIMPLEMENTED.
 */
import type * as grpc from '@grpc/grpc-js';
import { type Logger, MeshError } from '../lib/index.js';
import { responseHeader } from './convert-header.js';
import { unary } from './grpc-call.js';
import type { KvBackend } from './kv-backend.js';

export class AuthNotEnabledError extends MeshError {
  constructor() {
    super('AUTH_NOT_ENABLED', 'authentication is not enabled');
  }
}

export function authService(backend: KvBackend, logger: Logger): grpc.UntypedServiceImplementation {
  return {
    AuthStatus: unary('AuthStatus', logger, async () => ({
      header: responseHeader(backend),
      enabled: false,
      authRevision: 0,
    })),
    AuthDisable: unary('AuthDisable', logger, async () => ({ header: responseHeader(backend) })),
    Authenticate: unary('Authenticate', logger, async () => {
      throw new AuthNotEnabledError();
    }),
  };
}
