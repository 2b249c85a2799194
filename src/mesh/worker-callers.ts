/**
 * Who calls a worker's client port, checked against the cluster's users and roles, which a
 * worker does not hold (no Raft, no auth store, and not the token secret: it never leaves the
 * voters). The worker asks the control plane instead:
 *
 * - whether auth is on and its revision (AuthStatus), at most `CALLER_AUTH_STATUS_MAX_AGE_MS`
 *   old when a call is checked, so a revoke reaches a worker's port within that time;
 * - for a caller's token: UserGet of the user the token names and RoleGet of each of its roles,
 *   made WITH that token. The voter checks the token (signature, expiry, password generation)
 *   and lets a user read itself and its roles, so the worker's own user needs no admin right;
 * - for a verified client certificate's common name: UserGet and RoleGet as the worker's own
 *   control-plane user, which only root may do for another user.
 *
 * Answers are cached per token (until the token expires) and per certificate name, and the whole
 * cache is dropped when the auth revision moves. Refusals are typed as a voter's (etcd's codes),
 * counted and logged.
 */
import {
  type Access,
  AuthError,
  AuthRefusals,
  coveredBy,
  grantsAccess,
  InvalidAuthTokenError,
  type KeyInterval,
  mergeIntervals,
  PermissionDeniedError,
  permissionInterval,
  type RequestCredentials,
  ROOT_NAME,
  tokenClaims,
  UserEmptyError,
  UserNotFoundError,
} from '../auth/index.js';
import type { AuthClient, Permission } from '../client/index.js';
import { bytesToBinary } from '../kv/index.js';
import { type Clock, isMeshError, type MeshError } from '../lib/index.js';

/** Longest a worker relies on the auth revision it last read before it asks again. */
export const CALLER_AUTH_STATUS_MAX_AGE_MS = 1_000;
/** Most callers (tokens and certificate names) whose rights a worker keeps at once. */
export const MAX_CACHED_CALLERS = 4_096;

interface CallerRights {
  readonly user: string;
  readonly root: boolean;
  readonly read: readonly KeyInterval[];
  readonly write: readonly KeyInterval[];
  /** The auth revision they were read at. */
  readonly revision: number;
  /** When the token they were read with expires, wall-clock ms (no end for a certificate name). */
  readonly expiresAtMs: number;
}

interface AuthStatusSeen {
  readonly enabled: boolean;
  readonly revision: number;
  readonly readAtMs: number;
}

/** Auth is off: every call passes. */
const AUTH_OFF = 'off';

export class ControlPlaneCallers {
  private status: AuthStatusSeen | undefined;
  private statusReading: Promise<AuthStatusSeen> | undefined;
  private readonly rights = new Map<string, CallerRights>();
  private readonly reading = new Map<string, Promise<CallerRights>>();

  constructor(
    /** The worker's client of the control plane's Auth service (connected on first use). */
    private readonly auth: () => Promise<AuthClient>,
    private readonly clock: Clock,
    /** Kept by the node across restarts of its port, for `/metrics`. */
    readonly refusals: AuthRefusals = new AuthRefusals(),
  ) {}

  /**
   * Passes when auth is off or the caller holds `access` on all of `interval`; throws or rejects
   * with the typed refusal otherwise. Synchronous when what it needs is known and fresh.
   */
  check(
    credentials: RequestCredentials,
    access: Access,
    interval: KeyInterval,
    action: string,
    what: string,
  ): void | Promise<void> {
    const known = this.known(credentials);
    if (known !== undefined) return this.decide(known, access, interval, action, what);
    return this.lookUp(credentials, what).then((found) => this.decide(found, access, interval, action, what));
  }

  /** Forwards a caller's Authenticate; a refusal is counted here too. */
  async authenticate(user: string, password: string): Promise<string> {
    const client = await this.auth();
    try {
      return await client.authenticate(user, password);
    } catch (error) {
      if (isMeshError(error) && error.code === 'AUTH_FAILED')
        this.refusals.record(error, `Authenticate as ${JSON.stringify(user)}`);
      throw error;
    }
  }

  /** Whether auth is on and its revision, as the control plane answers now. */
  async currentStatus(): Promise<{ enabled: boolean; revision: number }> {
    return this.readStatus();
  }

  /** What the cache answers without asking: the caller's rights, AUTH_OFF, or undefined. */
  private known(credentials: RequestCredentials): CallerRights | typeof AUTH_OFF | undefined {
    const status = this.status;
    if (status === undefined || this.clock.nowMs() - status.readAtMs > CALLER_AUTH_STATUS_MAX_AGE_MS)
      return undefined;
    if (!status.enabled) return AUTH_OFF;
    const key = cacheKey(credentials);
    if (key === undefined) return undefined;
    const rights = this.rights.get(key);
    if (
      rights === undefined ||
      rights.revision !== status.revision ||
      rights.expiresAtMs <= this.clock.wallMs()
    )
      return undefined;
    return rights;
  }

  private async lookUp(
    credentials: RequestCredentials,
    what: string,
  ): Promise<CallerRights | typeof AUTH_OFF> {
    const status = await this.readStatus();
    if (!status.enabled) return AUTH_OFF;
    const key = cacheKey(credentials);
    if (key === undefined) return this.refuse(new UserEmptyError(), what);
    const cached = this.known(credentials);
    if (cached !== undefined) return cached;
    let pending = this.reading.get(key);
    if (pending === undefined) {
      pending = this.readRights(credentials, status.revision).finally(() => this.reading.delete(key));
      this.reading.set(key, pending);
    }
    try {
      const rights = await pending;
      this.remember(key, rights);
      return rights;
    } catch (error) {
      if (error instanceof AuthError) return this.refuse(error, what);
      throw error;
    }
  }

  private decide(
    rights: CallerRights | typeof AUTH_OFF,
    access: Access,
    interval: KeyInterval,
    action: string,
    what: string,
  ): void {
    if (rights === AUTH_OFF || rights.root) return;
    if (coveredBy(access === 'read' ? rights.read : rights.write, interval)) return;
    this.refuse(new PermissionDeniedError(rights.user, action), what);
  }

  private refuse(error: MeshError, what: string): never {
    this.refusals.record(error, what);
    throw error;
  }

  /** One AuthStatus at a time; callers arriving meanwhile share it. */
  private readStatus(): Promise<AuthStatusSeen> {
    this.statusReading ??= (async () => {
      const client = await this.auth();
      const answer = await client.status();
      const seen = { enabled: answer.enabled, revision: answer.authRevision, readAtMs: this.clock.nowMs() };
      if (this.status !== undefined && this.status.revision !== seen.revision) this.rights.clear();
      this.status = seen;
      return seen;
    })().finally(() => {
      this.statusReading = undefined;
    });
    return this.statusReading;
  }

  private async readRights(credentials: RequestCredentials, revision: number): Promise<CallerRights> {
    const client = await this.auth();
    const token = credentials.token;
    if (token !== undefined && token !== '') {
      const claims = tokenClaims(token);
      if (claims === undefined) throw new InvalidAuthTokenError('malformed');
      if (claims.expiresAtMs <= this.clock.wallMs()) throw new InvalidAuthTokenError('expired');
      const found = await asAuthError(claims.user, () => readUser(client, claims.user, token));
      return { ...found, revision, expiresAtMs: claims.expiresAtMs };
    }
    const name = credentials.certificateCommonName ?? '';
    const found = await asAuthError(name, () => readUser(client, name, undefined));
    return { ...found, revision, expiresAtMs: Number.POSITIVE_INFINITY };
  }

  private remember(key: string, rights: CallerRights): void {
    if (rights.revision !== this.status?.revision) return;
    if (!this.rights.has(key) && this.rights.size >= MAX_CACHED_CALLERS) {
      const oldest = this.rights.keys().next().value;
      if (oldest !== undefined) this.rights.delete(oldest);
    }
    this.rights.set(key, rights);
  }
}

/** The cache's key of a caller: its token first (as a voter decides), else its certificate name. */
function cacheKey(credentials: RequestCredentials): string | undefined {
  if (credentials.token !== undefined && credentials.token !== '') return `token ${credentials.token}`;
  const name = credentials.certificateCommonName;
  return name === undefined || name === '' ? undefined : `certificate ${name}`;
}

async function readUser(
  client: AuthClient,
  user: string,
  token: string | undefined,
): Promise<Pick<CallerRights, 'user' | 'root' | 'read' | 'write'>> {
  const options = token === undefined ? {} : { token };
  const roles = await client.userGet(user, options);
  if (roles.includes(ROOT_NAME)) return { user, root: true, read: [], write: [] };
  const permissions: Permission[] = [];
  for (const role of roles) {
    try {
      permissions.push(...(await client.roleGet(role, options)));
    } catch (error) {
      // Deleted since UserGet: it grants nothing (and the revision moved, so this is read again).
      if (!isMeshError(error, 'AUTH_ROLE_NOT_FOUND')) throw error;
    }
  }
  const intervalsFor = (access: Access) =>
    mergeIntervals(
      permissions
        .filter((permission) => grantsAccess(permission.type, access))
        .map((permission) =>
          permissionInterval(bytesToBinary(permission.key), bytesToBinary(permission.rangeEnd)),
        ),
    );
  return { user, root: false, read: intervalsFor('read'), write: intervalsFor('write') };
}

/** The control plane's refusal of a lookup as the refusal of the caller (etcd's codes). */
async function asAuthError<T>(user: string, lookup: () => Promise<T>): Promise<T> {
  try {
    return await lookup();
  } catch (error) {
    if (!isMeshError(error)) throw error;
    switch (error.code) {
      case 'AUTH_INVALID_TOKEN':
        throw new InvalidAuthTokenError('refused by the control plane');
      case 'AUTH_USER_NOT_FOUND':
        throw new UserNotFoundError(user);
      case 'AUTH_PERMISSION_DENIED':
      case 'AUTH_USER_EMPTY':
        // Only a certificate's name is looked up as the worker itself: its user is not root.
        throw new PermissionDeniedError(
          user,
          'be looked up by this worker: its --control-plane-user needs the root role to let certificate users in',
        );
      default:
        throw error;
    }
  }
}
