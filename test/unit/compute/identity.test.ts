import { describe, expect, it } from 'vitest';
import { identityFromSeed, memberIdentity } from '../../../src/compute/index.js';
import { hash64 } from '../../../src/lib/index.js';
import { seedOf } from './fixtures.js';

describe('daemon identities', () => {
  it('derives the same ed25519 key and origin from the same group seed and index', () => {
    const first = memberIdentity(seedOf(3), 2);
    const again = memberIdentity(seedOf(3), 2);
    expect(again.publicKey).toEqual(first.publicKey);
    expect(again.originHash).toBe(first.originHash);
    expect(first.publicKey).toHaveLength(32);
  });

  it('gives every member index and every seed its own origin', () => {
    const origins = new Set<bigint>();
    for (const seed of [1, 2])
      for (let index = 0; index < 8; index++) origins.add(memberIdentity(seedOf(seed), index).originHash);
    expect(origins.size).toBe(16);
  });

  it('makes the origin the hash of the raw public key', () => {
    const identity = identityFromSeed(seedOf(9));
    expect(identity.originHash).toBe(hash64(identity.publicKey));
  });

  it('produces a key that signs and verifies like any ed25519 key', async () => {
    const { sign, verify, createPublicKey } = await import('node:crypto');
    const identity = identityFromSeed(seedOf(4));
    const message = Buffer.from('hello');
    const signature = sign(null, message, identity.privateKey);
    expect(verify(null, message, createPublicKey(identity.privateKey), signature)).toBe(true);
  });
});
