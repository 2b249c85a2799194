/**
 * The client's auth token: obtained with Authenticate when the client connects, sent as the
 * `token` metadata of every call (where etcd's clients send it) by a gRPC interceptor, renewed
 * in the background once it is `AUTH_TOKEN_RENEW_MS` old (servers accept a token for 5 minutes)
 * and at once when a call is refused with `invalid auth token`.
 */
import * as grpc from '@grpc/grpc-js';
import type { Clock } from '../lib/index.js';

/** Metadata key of the token (etcd's). */
export const TOKEN_METADATA = 'token';
/** Age at which a token is renewed in the background: well inside the server's 5 minute TTL. */
export const AUTH_TOKEN_RENEW_MS = 60_000;

export class AuthTokenHolder {
  private token: string | undefined;
  private obtainedAtMs = 0;
  private renewing: Promise<void> | undefined;

  constructor(
    /** Asks a node for a token; undefined when the cluster's auth is off. */
    private readonly authenticate: () => Promise<string | undefined>,
    private readonly clock: Clock,
  ) {}

  /** Gets a fresh token (one renewal at a time; callers share it). */
  renew(): Promise<void> {
    this.renewing ??= this.authenticate()
      .then((token) => {
        this.token = token;
        this.obtainedAtMs = this.clock.nowMs();
      })
      .finally(() => {
        this.renewing = undefined;
      });
    return this.renewing;
  }

  /** Adds the token to every call's metadata, and renews an old one without holding the call. */
  interceptor(): grpc.Interceptor {
    return (options, nextCall) =>
      new grpc.InterceptingCall(nextCall(options), {
        start: (metadata, listener, next) => {
          // A call that carries a token already makes it as someone else (client.auth's lookups).
          if (this.token !== undefined && metadata.get(TOKEN_METADATA).length === 0) {
            metadata.set(TOKEN_METADATA, this.token);
            if (this.clock.nowMs() - this.obtainedAtMs > AUTH_TOKEN_RENEW_MS)
              this.renew().catch(() => {
                // The current token still works a while; a refused call renews again.
              });
          }
          next(metadata, listener);
        },
      });
  }
}
