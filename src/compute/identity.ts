import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { describeValue, hash64, InputProblems } from '../lib/index.js';

export const ED25519_SEED_BYTES = 32;
export const GROUP_SEED_BYTES = 32;
/** A member index is written as 4 bytes into the member's seed. */
const MAX_MEMBER_INDEX = 0xffff_ffff;

// ASN.1 DER header of a PKCS#8 ed25519 private key; the 32-byte seed follows it.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
// The raw public key is the last 32 bytes of its SPKI DER encoding.
export const ED25519_PUBLIC_KEY_BYTES = 32;

/**
 * Who a daemon is: an ed25519 key pair and the origin hash derived from its public key.
 * The origin hash names the daemon's causal chain and is how the runtime addresses it.
 */
export interface DaemonIdentity {
  readonly publicKey: Uint8Array;
  readonly privateKey: KeyObject;
  readonly originHash: bigint;
}

/** The origin hash of a public key: the 64-bit hash of its 32 raw bytes. */
export function originHashOf(publicKey: Uint8Array): bigint {
  return hash64(publicKey);
}

/** Derives an identity from a 32-byte ed25519 seed; the same seed always gives the same identity. */
export function identityFromSeed(seed: Uint8Array): DaemonIdentity {
  const problems = new InputProblems();
  problems.bytes('seed', seed, ED25519_SEED_BYTES);
  problems.throwIfAny('ed25519 seed');
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const publicKey = new Uint8Array(spki.subarray(spki.length - ED25519_PUBLIC_KEY_BYTES));
  return { publicKey, privateKey, originHash: originHashOf(publicKey) };
}

/**
 * The identity of member `memberIndex` of a group: its ed25519 seed is
 * SHA-256(groupSeed || memberIndex as 4 big-endian bytes). A promoted or re-spawned member
 * therefore keeps its origin, and every node derives the same identities from the seed.
 */
export function memberIdentity(groupSeed: Uint8Array, memberIndex: number): DaemonIdentity {
  const problems = new InputProblems();
  problems.bytes('groupSeed', groupSeed, GROUP_SEED_BYTES);
  problems.integer('memberIndex', memberIndex, 0, MAX_MEMBER_INDEX);
  problems.throwIfAny('member identity');
  const index = Buffer.alloc(4);
  index.writeUInt32BE(memberIndex);
  const seed = createHash('sha256').update(groupSeed).update(index).digest();
  return identityFromSeed(new Uint8Array(seed));
}

/** Derives a 32-byte seed for a named sub-group (e.g. the forks of one parent) from a group seed. */
export function deriveSeed(groupSeed: Uint8Array, label: string): Uint8Array {
  const problems = new InputProblems();
  problems.bytes('groupSeed', groupSeed, GROUP_SEED_BYTES);
  if (typeof label !== 'string') problems.add(`label must be a string, got ${describeValue(label)}`);
  problems.throwIfAny('derived seed');
  return new Uint8Array(createHash('sha256').update(groupSeed).update(label).digest());
}

/** Records what is wrong with a value given as a `DaemonIdentity`. */
export function identityProblems(problems: InputProblems, field: string, identity: DaemonIdentity): void {
  if (!problems.record(field, identity)) return;
  if (typeof identity.originHash !== 'bigint') problems.add(`${field}.originHash must be a bigint`);
  problems.bytes(`${field}.publicKey`, identity.publicKey, ED25519_PUBLIC_KEY_BYTES);
  if (typeof identity.privateKey !== 'object' || identity.privateKey === null) {
    problems.add(`${field}.privateKey must be a KeyObject`);
  }
}
