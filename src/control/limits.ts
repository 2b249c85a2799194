/**
 * Every limit of the control plane, with its unit in the name. They are chosen so that any
 * request the control plane accepts also fits etcd 3.4's defaults (1.5 MiB requests, 128
 * operations per txn), so the same mesh runs on MeshOS voters and on an external etcd.
 */
import { assert } from '../lib/index.js';

/** Longest key, the root prefix included, in UTF-8 bytes. */
export const MAX_CONTROL_KEY_BYTES = 1_024;

/** Largest value in bytes; records bigger than this belong in a chain, not the control plane. */
export const MAX_CONTROL_VALUE_BYTES = 256 * 1024;

/** Most compares, and most operations per branch, in one transaction. */
export const MAX_CONTROL_TXN_OPERATIONS = 64;

/** Keys plus values written by one transaction (both branches counted), in bytes. */
export const MAX_CONTROL_TXN_BYTES = 1_024 * 1_024;

/** Most entries one range answers; a larger listing pages with `startAfter`. */
export const MAX_CONTROL_RANGE_LIMIT = 10_000;

/** Shortest lease a caller may ask for; both MeshOS and etcd raise shorter grants to about this. */
export const MIN_CONTROL_LEASE_TTL_SECONDS = 2;

/** Longest lease a caller may ask for (a day); longer-lived state is not leased. */
export const MAX_CONTROL_LEASE_TTL_SECONDS = 24 * 60 * 60;

/** A keep-alive renews its lease this many times per TTL, so one lost renewal costs nothing. */
export const LEASE_RENEWALS_PER_TTL = 3;

/** Consecutive failed re-creations of a broken watch before it ends with CONTROL_UNAVAILABLE. */
export const WATCH_RESUME_MAX_ATTEMPTS = 30;

/**
 * Budget of one call on an etcd endpoint list, retries included: long enough to ride through a
 * leader election (etcd's default election timeout is 1 s; MeshOS's is similar).
 */
export const CONTROL_CALL_TIMEOUT_MS = 10_000;

/** Attempts of one call on an etcd endpoint list; backoff caps each wait, the budget bounds them all. */
export const CONTROL_CALL_MAX_ATTEMPTS = 40;

/** Grants tried with fresh random ids when etcd answers that the id is taken. */
export const LEASE_GRANT_MAX_ATTEMPTS = 8;

/** etcd 3.4's request size limit, which every control-plane request stays under. */
export const ETCD_MAX_REQUEST_BYTES = 1.5 * 1024 * 1024;

/** etcd 3.4's limit on operations in one txn list. */
export const ETCD_MAX_TXN_OPERATIONS = 128;

assert(MAX_CONTROL_VALUE_BYTES + MAX_CONTROL_KEY_BYTES <= MAX_CONTROL_TXN_BYTES, 'one put must fit a txn');
assert(MAX_CONTROL_TXN_BYTES < ETCD_MAX_REQUEST_BYTES, 'a full txn must fit etcd 3.4 requests');
assert(MAX_CONTROL_TXN_OPERATIONS <= ETCD_MAX_TXN_OPERATIONS, 'txn operations must fit etcd 3.4');
assert(MIN_CONTROL_LEASE_TTL_SECONDS <= MAX_CONTROL_LEASE_TTL_SECONDS, 'lease TTL bounds are ordered');
assert(LEASE_RENEWALS_PER_TTL >= 2, 'a keep-alive must survive one lost renewal');
