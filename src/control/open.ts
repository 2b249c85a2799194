/**
 * Chooses the control plane's store at start: the node's own Raft KV in-process (a voter), or
 * an etcd v3 endpoint list (a worker reaching MeshOS voters, or any node on an external etcd).
 */
import type { KvBackend } from '../api/index.js';
import { type ClientTlsOptions, MeshClient } from '../client/index.js';
import { type Clock, type Random, SystemClock, systemRandom, ValidationError } from '../lib/index.js';
import type { ControlPlane } from './control-plane.js';
import { EtcdStore } from './etcd-store.js';
import { InProcessStore } from './in-process-store.js';
import { ControlKeys, rootProblems } from './keys.js';
import { DEFAULT_CONTROL_ROOT } from './keyspace.js';
import { CONTROL_CALL_MAX_ATTEMPTS, CONTROL_CALL_TIMEOUT_MS } from './limits.js';
import type { ControlStore } from './store.js';
import { StoreControlPlane } from './store-control-plane.js';

interface CommonOptions {
  /** Root prefix of every key; default DEFAULT_CONTROL_ROOT (`/meshos/v1/`). */
  readonly root?: string;
  /** Timers of keep-alives and watch resumes. */
  readonly clock?: Clock;
  readonly random?: Random;
}

export interface InProcessControlPlaneOptions extends CommonOptions {
  readonly kind: 'in-process';
  /** The node's key-value backend (a `MeshNode`'s `backend`). */
  readonly backend: KvBackend;
}

export interface EtcdControlPlaneOptions extends CommonOptions {
  readonly kind: 'etcd';
  /** host:port or http://host:port of the store's members (MeshOS voters or etcd). */
  readonly endpoints: readonly string[];
  /** Budget of each call, retries included (CONTROL_CALL_TIMEOUT_MS otherwise). */
  readonly timeoutMs?: number;
  /** Attempts per call, the first included (CONTROL_CALL_MAX_ATTEMPTS otherwise). */
  readonly maxAttempts?: number;
  /** Identity for exactly-once writes on MeshOS (random otherwise). */
  readonly clientId?: string;
  /** TLS to the endpoints (an etcd serving https), with a client certificate for mutual TLS. */
  readonly tls?: ClientTlsOptions;
  /** The etcd user to act as when the store's auth is on (a token kept fresh by the client). */
  readonly credentials?: { readonly user: string; readonly password: string };
}

export type ControlPlaneOptions = InProcessControlPlaneOptions | EtcdControlPlaneOptions;

async function openStore(options: ControlPlaneOptions, root: string, random: Random): Promise<ControlStore> {
  if (options.kind === 'in-process') return new InProcessStore(options.backend);
  const client = await MeshClient.connect({
    endpoints: options.endpoints,
    random,
    timeoutMs: options.timeoutMs ?? CONTROL_CALL_TIMEOUT_MS,
    maxAttempts: options.maxAttempts ?? CONTROL_CALL_MAX_ATTEMPTS,
    ...(options.clientId === undefined ? {} : { clientId: options.clientId }),
    ...(options.tls === undefined ? {} : { tls: options.tls }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
  });
  return new EtcdStore(client, random, new TextEncoder().encode(root));
}

/** Opens a control plane; a bad root or endpoint list is a `ValidationError` listing every problem. */
export async function openControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const root = options.root ?? DEFAULT_CONTROL_ROOT;
  const problems = rootProblems(root);
  if (options.kind !== 'in-process' && options.kind !== 'etcd') {
    problems.push(`kind must be 'in-process' or 'etcd', got ${JSON.stringify(options)}`);
  }
  if (problems.length > 0) throw new ValidationError('control plane options', problems);
  const random = options.random ?? systemRandom();
  const store = await openStore(options, root, random);
  return new StoreControlPlane({
    store,
    keys: new ControlKeys(root),
    clock: options.clock ?? new SystemClock(),
    random,
  });
}
