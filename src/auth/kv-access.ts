/**
 * What a key-value request needs from its user, as etcd checks it: read on every range it reads
 * (ranges, txn compares, the previous values a put or delete returns), write on every key or
 * range it changes, write on every key attached to a lease it revokes; alarms are root's alone.
 * Pure: the checks read the auth state they are given.
 */
import {
  bytesToBinary,
  type KeyRange,
  type KvCommand,
  type RequestOp,
  resolveRange,
  type WatchRequest,
} from '../kv/index.js';
import type { AuthStateView } from './auth-store.js';
import { type AuthError, PermissionDeniedError, UserEmptyError } from './errors.js';
import { requestInterval } from './key-intervals.js';
import type { Access } from './permission-types.js';

/** One thing a request needs: `access` to every key of `range`. */
interface Need {
  readonly access: Access;
  readonly range: KeyRange;
}

/**
 * The refusal for `user` running `command`, or undefined when it may. `leaseKeys` answers the
 * keys attached to a lease (for a revoke). A request whose range does not even resolve is let
 * through: the store refuses it with its own error. The user '' is a client that sent no
 * identity (its member saw auth off when it took the request): refused, as etcd's empty user.
 */
export function kvCommandRefusal(
  auth: AuthStateView,
  user: string,
  command: KvCommand,
  leaseKeys: (id: number) => readonly Uint8Array[],
): AuthError | undefined {
  if (user === '') return new UserEmptyError();
  if (auth.isRoot(user)) return undefined;
  if (command.type === 'alarm') return new PermissionDeniedError(user, 'raise or clear alarms');
  if (command.type === 'compact' || command.type === 'leaseGrant') return undefined;
  const needs: Need[] = [];
  try {
    if (command.type === 'leaseRevoke') {
      for (const key of leaseKeys(command.id))
        needs.push({ access: 'write', range: { start: bytesToBinary(key), end: null, single: true } });
    } else collectNeeds(command, needs);
  } catch {
    return undefined;
  }
  for (const need of needs) {
    if (!auth.permits(user, need.access, requestInterval(need.range)))
      return new PermissionDeniedError(user, `${need.access} ${describeRange(need.range)}`);
  }
  return undefined;
}

/** The refusal for `user` watching what `request` names (read on its range), or undefined. */
export function watchRefusal(
  auth: AuthStateView,
  user: string,
  request: WatchRequest,
): PermissionDeniedError | undefined {
  return kvCommandRefusal(auth, user, { type: 'range', key: request.key, ...rangeFields(request) }, () => []);
}

function rangeFields(request: WatchRequest): { rangeEnd?: Uint8Array; prefix?: boolean } {
  return {
    ...(request.rangeEnd === undefined ? {} : { rangeEnd: request.rangeEnd }),
    ...(request.prefix === undefined ? {} : { prefix: request.prefix }),
  };
}

function collectNeeds(op: RequestOp, needs: Need[]): void {
  switch (op.type) {
    case 'range':
      needs.push({ access: 'read', range: resolveRange(op.key, op.rangeEnd, op.prefix) });
      return;
    case 'put': {
      const range = resolveRange(op.key, undefined, undefined);
      needs.push({ access: 'write', range });
      if (op.prevKv === true) needs.push({ access: 'read', range });
      return;
    }
    case 'deleteRange': {
      const range = resolveRange(op.key, op.rangeEnd, op.prefix);
      needs.push({ access: 'write', range });
      if (op.prevKv === true) needs.push({ access: 'read', range });
      return;
    }
    case 'txn':
      for (const compare of op.compare)
        needs.push({ access: 'read', range: resolveRange(compare.key, compare.rangeEnd, undefined) });
      for (const branch of [op.success, op.failure]) for (const inner of branch) collectNeeds(inner, needs);
      return;
  }
}

/** A range as a person reads it, keys shown as text where printable. */
function describeRange(range: KeyRange): string {
  const show = (key: string): string => JSON.stringify(key);
  if (range.single) return `key ${show(range.start)}`;
  return range.end === null
    ? `keys from ${show(range.start)}`
    : `keys [${show(range.start)}, ${show(range.end)})`;
}
