/**
 * Salted, slow password hashes with node:crypto's scrypt, computed on the node that receives the
 * password (only the hash is proposed). Stored as `scrypt$N$r$p$salt$hash` (base64 parts), so
 * the cost can change later without breaking stored hashes. Hashing and checking run in libuv's
 * thread pool: the event loop keeps serving meanwhile.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/** scrypt's cost (N = 2^14, r 8, p 1: 16 MiB and ~50 ms per hash on an idle core). */
const SCRYPT_COST = 16_384;
const SCRYPT_BLOCK_SIZE = 8;
const SCRYPT_PARALLELISM = 1;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
/** Highest cost accepted from a stored hash, so a corrupt one cannot ask for gigabytes. */
const MAX_SCRYPT_COST = 1 << 20;

function derive(
  password: string,
  salt: Buffer,
  cost: number,
  blockSize: number,
  parallelism: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      password,
      salt,
      HASH_BYTES,
      { N: cost, r: blockSize, p: parallelism, maxmem: 256 * cost * blockSize + 1024 * 1024 },
      (error, key) => (error === null ? resolve(key) : reject(error)),
    );
  });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, SCRYPT_COST, SCRYPT_BLOCK_SIZE, SCRYPT_PARALLELISM);
  return [
    'scrypt',
    SCRYPT_COST,
    SCRYPT_BLOCK_SIZE,
    SCRYPT_PARALLELISM,
    salt.toString('base64'),
    hash.toString('base64'),
  ].join('$');
}

/** Whether `password` matches `stored`; a malformed stored hash matches nothing. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [cost, blockSize, parallelism] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![cost, blockSize, parallelism].every((value) => Number.isSafeInteger(value) && value > 0))
    return false;
  if (cost > MAX_SCRYPT_COST || blockSize > 32 || parallelism > 16) return false;
  const expected = Buffer.from(parts[5] as string, 'base64');
  if (expected.byteLength !== HASH_BYTES) return false;
  const actual = await derive(
    password,
    Buffer.from(parts[4] as string, 'base64'),
    cost,
    blockSize,
    parallelism,
  );
  return timingSafeEqual(actual, expected);
}
