import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { assert, hash64 } from '../lib/index.js';

export const ED25519_SEED_BYTES = 32;
export const GROUP_SEED_BYTES = 32;

// ASN.1 DER header of a PKCS#8 ed25519 private key; the 32-byte seed follows it.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
// The raw public key is the last 32 bytes of its SPKI DER encoding.
const ED25519_PUBLIC_KEY_BYTES = 32;

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
  assert(
    seed.length === ED25519_SEED_BYTES,
    `ed25519 seed must be ${ED25519_SEED_BYTES} bytes, got ${seed.length}`,
  );
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
  assert(groupSeed.length === GROUP_SEED_BYTES, `group seed must be ${GROUP_SEED_BYTES} bytes`);
  assert(Number.isInteger(memberIndex) && memberIndex >= 0 && memberIndex <= 0xffffffff, 'bad member index');
  const index = Buffer.alloc(4);
  index.writeUInt32BE(memberIndex);
  const seed = createHash('sha256').update(groupSeed).update(index).digest();
  return identityFromSeed(new Uint8Array(seed));
}

/** Derives a 32-byte seed for a named sub-group (e.g. the forks of one parent) from a group seed. */
export function deriveSeed(groupSeed: Uint8Array, label: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(groupSeed).update(label).digest());
}
