/**
 * `ControlPlane`: the one interface the mesh keeps its shared state through (nodes, chains,
 * daemons, placement, reconcile). Keys are strings relative to the plane's root prefix (see
 * keyspace.ts); values are bytes. Every method resolves with its answer or rejects with a
 * `ControlPlaneError` (errors.ts). Two backends implement it: the node's own Raft KV in-process,
 * and any etcd v3 endpoint list (MeshOS voters seen from a worker, or an external etcd).
 */

/** One stored key as the control plane answers it. */
export interface ControlEntry {
  /** The key, relative to the plane's root. */
  readonly key: string;
  readonly value: Uint8Array;
  /** Revision that created the key in its current life. */
  readonly createRevision: number;
  /** Revision of the key's last change. */
  readonly modRevision: number;
  /** Puts since the key was created (1 after the first). */
  readonly version: number;
  /** Lease the key is attached to, 0 for none. */
  readonly lease: number;
}

export interface ControlGetOptions {
  /** Read the key as it was at this revision (0 or unset: now). */
  readonly revision?: number;
}

export interface ControlRangeOptions {
  /** Most entries answered (1 to MAX_CONTROL_RANGE_LIMIT); unset: the maximum. */
  readonly limit?: number;
  /** Read as of this revision (0 or unset: now); paging a listing passes the first page's revision. */
  readonly revision?: number;
  /** Answer only keys sorting after this one (a previous page's last key). */
  readonly startAfter?: string;
}

export interface ControlRangeAnswer {
  /** Entries in key order. */
  readonly entries: readonly ControlEntry[];
  /** The revision the listing is a snapshot of; watch from `revision + 1` to follow it. */
  readonly revision: number;
  /** More keys matched than `limit` allowed. */
  readonly more: boolean;
}

export interface ControlPutOptions {
  /** Attach the key to this lease; the key is deleted when the lease ends. */
  readonly lease?: number;
}

export interface ControlWriteAnswer {
  /** The store's revision after the write. */
  readonly revision: number;
}

export interface ControlDeleteAnswer extends ControlWriteAnswer {
  readonly deleted: number;
}

/** What a compare looks at: the value, or one of the key's counters (0 for an absent key). */
export type ControlCompareTarget = 'value' | 'version' | 'createRevision' | 'modRevision';
export type ControlCompareOperator = '=' | '!=' | '<' | '>';

export type ControlCompare =
  | {
      readonly key: string;
      readonly target: 'value';
      readonly operator: ControlCompareOperator;
      readonly operand: Uint8Array;
    }
  | {
      readonly key: string;
      readonly target: 'version' | 'createRevision' | 'modRevision';
      readonly operator: ControlCompareOperator;
      readonly operand: number;
    };

export type ControlTxnOp =
  | { readonly type: 'put'; readonly key: string; readonly value: Uint8Array; readonly lease?: number }
  | { readonly type: 'delete'; readonly key: string; readonly prefix?: boolean }
  | { readonly type: 'get'; readonly key: string };

export type ControlTxnOpResult =
  | { readonly type: 'put' }
  | { readonly type: 'delete'; readonly deleted: number }
  | { readonly type: 'get'; readonly entry: ControlEntry | undefined };

/** If every compare holds, `success` runs; otherwise `failure`. All of it is one atomic revision. */
export interface ControlTxn {
  readonly compare: readonly ControlCompare[];
  readonly success: readonly ControlTxnOp[];
  readonly failure?: readonly ControlTxnOp[];
}

export interface ControlTxnAnswer {
  readonly succeeded: boolean;
  /** The store's revision after the txn (unchanged when the branch only read). */
  readonly revision: number;
  /** One result per operation of the branch that ran, in order. */
  readonly results: readonly ControlTxnOpResult[];
}

export type ControlEvent =
  | { readonly type: 'put'; readonly entry: ControlEntry }
  | { readonly type: 'delete'; readonly key: string; readonly revision: number };

export interface ControlWatchOptions {
  /** First revision to deliver (a listing's revision + 1); unset: changes after the watch starts. */
  readonly fromRevision?: number;
}

/**
 * A prefix watch: every put and delete under the prefix, in revision order, each exactly once
 * (a broken connection is resumed from the last delivered revision). Iterate with `for await`;
 * `break` or `cancel()` ends it. It throws `ControlCompactedError` when the revision it needs was
 * compacted (re-list, then watch from the listing's revision + 1), `ControlUnavailableError` when
 * it could not be resumed, `ControlClosedError` when the plane closed.
 */
export interface ControlWatch extends AsyncIterable<ControlEvent> {
  /** The next revision this watch will deliver from. */
  readonly nextRevision: number;
  cancel(): void;
}

export interface ControlLeaseGrant {
  readonly id: number;
  /** The TTL the store granted (it may raise a short one). */
  readonly ttlSeconds: number;
}

export interface ControlLeaseTimeToLive {
  readonly id: number;
  /** Seconds left before the lease expires. */
  readonly remainingSeconds: number;
  readonly grantedTtlSeconds: number;
}

/** Why a keep-alive stopped keeping its lease. */
export type LeaseLossReason =
  /** The store no longer has the lease (it expired or was revoked). */
  | 'not-found'
  /** No renewal succeeded before the lease's TTL ran out: it must be presumed expired. */
  | 'deadline-passed';

export interface LeaseLoss {
  readonly leaseId: number;
  readonly reason: LeaseLossReason;
  /** The last renewal failure. */
  readonly error: Error;
}

export interface KeepAliveOptions {
  /** Called once, when the lease is lost; not called after `stop()`. */
  readonly onLost?: (loss: LeaseLoss) => void;
}

/** Renews a lease in the background (LEASE_RENEWALS_PER_TTL times per TTL) until stopped or lost. */
export interface LeaseKeepAlive {
  readonly leaseId: number;
  /** Resolves with the loss when the lease is lost; never resolves if stopped first. */
  readonly lost: Promise<LeaseLoss>;
  /** Renewals that succeeded so far. */
  readonly renewals: number;
  /**
   * Until when (this node's clock) the lease is certainly alive: the last successful renewal's
   * send time plus its TTL. A holder that acts only while the lease lives (an active daemon)
   * stops by then, before the store can expire the lease and let another take over.
   */
  readonly aliveUntilMs: number;
  /** Stops renewing; the lease then expires by itself unless revoked. */
  stop(): void;
}

/** Which store a plane runs on, for status pages and logs. */
export type ControlPlaneKind = 'in-process' | 'etcd';

export interface ControlPlane {
  readonly kind: ControlPlaneKind;
  /** The root prefix every key lives under, e.g. `/meshos/v1/`. */
  readonly root: string;

  get(key: string, options?: ControlGetOptions): Promise<ControlEntry | undefined>;
  /** Entries whose key starts with `prefix` ('' for the whole root). */
  range(prefix: string, options?: ControlRangeOptions): Promise<ControlRangeAnswer>;
  put(key: string, value: Uint8Array, options?: ControlPutOptions): Promise<ControlWriteAnswer>;
  delete(key: string): Promise<ControlDeleteAnswer>;
  deletePrefix(prefix: string): Promise<ControlDeleteAnswer>;
  txn(request: ControlTxn): Promise<ControlTxnAnswer>;
  /** Resolves once the watch is established: changes after that are delivered. */
  watch(prefix: string, options?: ControlWatchOptions): Promise<ControlWatch>;

  grantLease(ttlSeconds: number): Promise<ControlLeaseGrant>;
  /** Deletes the lease and every key attached to it (CONTROL_LEASE_NOT_FOUND if gone). */
  revokeLease(id: number): Promise<void>;
  /** Undefined when the lease does not exist. */
  leaseTimeToLive(id: number): Promise<ControlLeaseTimeToLive | undefined>;
  /** Renews once; answers the TTL restarted (CONTROL_LEASE_NOT_FOUND if gone). */
  renewLease(id: number): Promise<number>;
  keepAlive(id: number, options?: KeepAliveOptions): LeaseKeepAlive;

  /** Ends watches and keep-alives and releases connections; later calls fail with CONTROL_CLOSED. */
  close(): Promise<void>;
}
