/**
 * MeshOS's own services on the client port (chains, daemons, blobs) checked against the same
 * roles as the KV, by the control-plane key of what a call touches: chain NAME is the key
 * `<root>chains/NAME` (`/meshos/v1/chains/NAME` by default), daemon NAME `<root>daemons/NAME`,
 * blob ID `<root>blobs/ID`; a call over every one of a kind (List) needs the whole prefix
 * (`/meshos/v1/chains/`). Reading calls need read, changing calls write; root passes all.
 */
import { type Access, type KeyInterval, PermissionDeniedError, requestInterval } from '../auth/index.js';
import { bytesToBinary, prefixRangeEnd, utf8 } from '../kv/index.js';
import type { RequestMetadata } from './grpc-server/index.js';
import type { KvBackend } from './kv-backend.js';
import { callerOf } from './request-auth.js';

export type MeshResourceKind = 'chains' | 'daemons' | 'blobs';

/**
 * Checks one call; throws (or rejects with) the typed refusal, counted and logged by the node's
 * refusals. A voter answers at once; a worker may have to ask the control plane first.
 */
export type MeshAccessCheck = (
  metadata: RequestMetadata | undefined,
  access: Access,
  kind: MeshResourceKind,
  /** Undefined for a call over every resource of the kind. */
  name: string | undefined,
  what: string,
) => void | Promise<void>;

/**
 * The key interval a call on `kind` `name` touches (every key of the kind for undefined), as the
 * auth store holds keys: each byte of the UTF-8 key one character.
 */
export function meshResourceInterval(
  root: string,
  kind: MeshResourceKind,
  name: string | undefined,
): KeyInterval {
  const key = utf8(`${root}${kind}/${name ?? ''}`);
  const start = bytesToBinary(key);
  return requestInterval(
    name === undefined
      ? { start, end: bytesToBinary(prefixRangeEnd(key)), single: false }
      : { start, end: start, single: true },
  );
}

/** No checks: a port without an auth store (a test's, or a worker's given no control-plane client). */
export const OPEN_MESH_ACCESS: MeshAccessCheck = () => {};

/**
 * Checks against the auth store of `source()` (the voter's backend, once it exists) under the
 * control-plane `root`. Workers check through the control plane (src/mesh/worker-callers.ts).
 */
export function meshAccess(
  source: () => Pick<KvBackend, 'auth' | 'authRefusals'> | undefined,
  root: string,
): MeshAccessCheck {
  return (metadata, access, kind, name, what) => {
    const backend = source();
    if (backend === undefined) return;
    const user = callerOf(backend, metadata, what);
    if (user === undefined) return;
    if (backend.auth.permits(user, access, meshResourceInterval(root, kind, name))) return;
    const refusal = new PermissionDeniedError(user, `${access} ${kind} ${name ?? '(all)'}`);
    backend.authRefusals.record(refusal, what);
    throw refusal;
  };
}
