/**
 * MeshOS's own services on the client port (chains, daemons, blobs) checked against the same
 * roles as the KV, by the control-plane key of what a call touches: chain NAME is the key
 * `<root>chains/NAME` (`/meshos/v1/chains/NAME` by default), daemon NAME `<root>daemons/NAME`,
 * blob ID `<root>blobs/ID`; a call over every one of a kind (List) needs the whole prefix
 * (`/meshos/v1/chains/`). Reading calls need read, changing calls write; root passes all.
 */
import { type Access, PermissionDeniedError, requestInterval } from '../auth/index.js';
import { bytesToBinary, prefixRangeEnd, utf8 } from '../kv/index.js';
import type { RequestMetadata } from './grpc-server/index.js';
import type { KvBackend } from './kv-backend.js';
import { callerOf } from './request-auth.js';

export type MeshResourceKind = 'chains' | 'daemons' | 'blobs';

/** Checks one call; throws the typed refusal (counted and logged by the backend's refusals). */
export type MeshAccessCheck = (
  metadata: RequestMetadata | undefined,
  access: Access,
  kind: MeshResourceKind,
  /** Undefined for a call over every resource of the kind. */
  name: string | undefined,
  what: string,
) => void;

/** No checks: a port without an auth store (a worker's, or a test's). */
export const OPEN_MESH_ACCESS: MeshAccessCheck = () => {};

/**
 * Checks against the auth store of `source()` (the node's backend, once it exists; none means
 * no checks, as on a worker) under the control-plane `root`.
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
    // Keys as the auth store holds them: each byte of the UTF-8 key one character.
    const key = utf8(`${root}${kind}/${name ?? ''}`);
    const start = bytesToBinary(key);
    const range =
      name === undefined
        ? { start, end: bytesToBinary(prefixRangeEnd(key)), single: false }
        : { start, end: start, single: true };
    if (backend.auth.permits(user, access, requestInterval(range))) return;
    const refusal = new PermissionDeniedError(user, `${access} ${kind} ${name ?? '(all)'}`);
    backend.authRefusals.record(refusal, what);
    throw refusal;
  };
}
