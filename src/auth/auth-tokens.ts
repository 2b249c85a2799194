/**
 * Tokens any member accepts: `payload.signature`, the payload (base64url JSON) naming the user,
 * the generation of its password and when the token expires; the signature an HMAC-SHA256 with
 * the cluster's secret, which is replicated through Raft with AuthEnable. A token dies when it
 * expires, when its user is deleted, or when the user's password changes (a new generation).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AuthStateView } from './auth-store.js';
import { InvalidAuthTokenError } from './errors.js';
import { AUTH_TOKEN_TTL_MS, TOKEN_SECRET_BYTES } from './limits.js';

/** A new cluster secret (hex), proposed with AuthEnable; kept only if the cluster has none. */
export function newTokenSecret(): string {
  return randomBytes(TOKEN_SECRET_BYTES).toString('hex');
}

interface TokenPayload {
  readonly user: string;
  readonly generation: number;
  readonly expiresAtMs: number;
}

function sign(secret: string, payload: string): string {
  return createHmac('sha256', Buffer.from(secret, 'hex')).update(payload).digest('base64url');
}

export function issueToken(
  auth: AuthStateView,
  user: string,
  nowMs: number,
  ttlMs = AUTH_TOKEN_TTL_MS,
): string {
  const record = auth.user(user);
  const secret = auth.tokenSecret;
  if (record === undefined || secret === undefined)
    throw new InvalidAuthTokenError('no such user or no secret');
  const payload: TokenPayload = { user, generation: record.generation, expiresAtMs: nowMs + ttlMs };
  const encoded = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${encoded}.${sign(secret, encoded)}`;
}

/**
 * What a token says of itself, unchecked: a node without the secret (a worker) reads the user to
 * ask the cluster about, which checks the signature; undefined when it is not a MeshOS token.
 */
export function tokenClaims(token: string): { user: string; expiresAtMs: number } | undefined {
  const dot = token.indexOf('.');
  if (dot <= 0) return undefined;
  try {
    const payload = JSON.parse(
      Buffer.from(token.slice(0, dot), 'base64url').toString('utf8'),
    ) as Partial<TokenPayload>;
    if (typeof payload.user !== 'string' || typeof payload.expiresAtMs !== 'number') return undefined;
    return { user: payload.user, expiresAtMs: payload.expiresAtMs };
  } catch {
    return undefined;
  }
}

/** The user a token names, or `InvalidAuthTokenError` saying why it is not accepted. */
export function tokenUser(auth: AuthStateView, token: string, nowMs: number): string {
  const secret = auth.tokenSecret;
  if (secret === undefined) throw new InvalidAuthTokenError('the cluster has no token secret');
  const dot = token.indexOf('.');
  if (dot <= 0) throw new InvalidAuthTokenError('malformed');
  const encoded = token.slice(0, dot);
  const signature = Buffer.from(token.slice(dot + 1), 'base64url');
  const expected = Buffer.from(sign(secret, encoded), 'base64url');
  if (signature.byteLength !== expected.byteLength || !timingSafeEqual(signature, expected))
    throw new InvalidAuthTokenError('bad signature');
  let payload: Partial<TokenPayload>;
  try {
    payload = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidAuthTokenError('malformed payload');
  }
  if (typeof payload.user !== 'string' || typeof payload.expiresAtMs !== 'number')
    throw new InvalidAuthTokenError('malformed payload');
  if (payload.expiresAtMs <= nowMs) throw new InvalidAuthTokenError('expired');
  const record = auth.user(payload.user);
  if (record === undefined || record.generation !== payload.generation)
    throw new InvalidAuthTokenError('its user was deleted or changed password');
  return payload.user;
}
