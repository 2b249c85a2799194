/**
 * What the control plane needs from the store under it, in stored form (byte keys with the
 * root in front, already checked). Each backend implements it over its own store and rejects
 * only with `ControlPlaneError`s (see error-map.ts); `StoreControlPlane` does the rest once.
 */
import type { ControlCompareOperator, ControlPlaneKind } from './control-plane.js';
import type { StoreRange } from './keys.js';

/** A stored key as both the node's KV and the etcd client answer it. */
export interface StoreKeyValue {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
  readonly lease: number;
}

export interface StoreRangeAnswer {
  readonly kvs: readonly StoreKeyValue[];
  readonly revision: number;
  readonly more: boolean;
}

export interface StoreCompare {
  readonly key: Uint8Array;
  readonly target: 'value' | 'version' | 'create' | 'mod';
  readonly operator: ControlCompareOperator;
  readonly operand: Uint8Array | number;
}

export type StoreOp =
  | { readonly type: 'put'; readonly key: Uint8Array; readonly value: Uint8Array; readonly lease: number }
  | { readonly type: 'delete'; readonly range: StoreRange }
  | { readonly type: 'get'; readonly key: Uint8Array };

export type StoreOpResult =
  | { readonly type: 'put' }
  | { readonly type: 'delete'; readonly deleted: number }
  | { readonly type: 'get'; readonly kv: StoreKeyValue | undefined };

export interface StoreTxn {
  readonly compare: readonly StoreCompare[];
  readonly success: readonly StoreOp[];
  readonly failure: readonly StoreOp[];
}

export interface StoreTxnAnswer {
  readonly succeeded: boolean;
  readonly revision: number;
  readonly results: readonly StoreOpResult[];
}

export interface StoreEvent {
  readonly type: 'put' | 'delete';
  readonly kv: StoreKeyValue;
}

/**
 * One watch on the store from a given revision. `next` answers events in revision order; it
 * rejects with CONTROL_COMPACTED, with a retryable CONTROL_UNAVAILABLE when the watch broke
 * (the caller re-opens it), and answers `undefined` once `close` was called.
 */
export interface StoreWatch {
  next(): Promise<StoreEvent | undefined>;
  close(): void;
}

export interface ControlStore {
  readonly kind: ControlPlaneKind;
  /** The store's current revision (linearizable where the store offers it). */
  currentRevision(): Promise<number>;
  range(
    range: StoreRange,
    options: { readonly limit: number; readonly revision: number },
  ): Promise<StoreRangeAnswer>;
  put(key: Uint8Array, value: Uint8Array, lease: number): Promise<number>;
  deleteRange(range: StoreRange): Promise<{ readonly revision: number; readonly deleted: number }>;
  txn(request: StoreTxn): Promise<StoreTxnAnswer>;
  /** Resolves once the watch is established, delivering from `startRevision` on. */
  watch(range: StoreRange, startRevision: number): Promise<StoreWatch>;
  leaseGrant(ttlSeconds: number): Promise<{ readonly id: number; readonly ttlSeconds: number }>;
  leaseRevoke(id: number): Promise<void>;
  /** Renews once; answers the TTL, or rejects with CONTROL_LEASE_NOT_FOUND. */
  leaseRenew(id: number): Promise<number>;
  /** Seconds left is -1 when the lease does not exist. */
  leaseTimeToLive(id: number): Promise<{ readonly ttlSeconds: number; readonly grantedTtlSeconds: number }>;
  close(): Promise<void>;
}
