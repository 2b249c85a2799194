/**
 * What a snapshot stream (Maintenance.Snapshot) carries and what `snapshot save` writes, as etcd's
 * do: the data, then its SHA-256. etcd's data is a bbolt file, a whole number of 512-byte pages,
 * and etcdctl refuses a download whose length is not 512·n + 32 ("sha256 checksum not found"), so
 * our data is followed by zero bytes up to the next multiple of 512 and the digest covers them too.
 * The data says its own length (the node snapshot's header), so the padding is told apart.
 */
import { createHash } from 'node:crypto';

/** Length of the SHA-256 digest that ends a snapshot stream and file. */
export const SNAPSHOT_DIGEST_BYTES = 32;
/** The data (padded) is a whole number of these, as a bbolt file is of its pages. */
export const SNAPSHOT_ALIGNMENT_BYTES = 512;

/**
 * What follows `data` in a sealed snapshot: zero bytes up to the next multiple of
 * `SNAPSHOT_ALIGNMENT_BYTES`, then the SHA-256 of the data and that padding. A stream sends the
 * data as it is and this after it, with no copy of the data.
 */
export function sealedSnapshotTail(data: Uint8Array): Uint8Array {
  const padding = paddedLength(data.length) - data.length;
  const tail = new Uint8Array(padding + SNAPSHOT_DIGEST_BYTES);
  const digest = createHash('sha256').update(data).update(tail.subarray(0, padding)).digest();
  tail.set(digest, padding);
  return tail;
}

/** `data` followed by its `sealedSnapshotTail`, in one buffer (a file's whole content). */
export function sealSnapshot(data: Uint8Array): Uint8Array {
  const tail = sealedSnapshotTail(data);
  const whole = new Uint8Array(data.length + tail.length);
  whole.set(data, 0);
  whole.set(tail, data.length);
  return whole;
}

function paddedLength(dataBytes: number): number {
  return Math.ceil(dataBytes / SNAPSHOT_ALIGNMENT_BYTES) * SNAPSHOT_ALIGNMENT_BYTES;
}

/** The problem with a sealed snapshot's length or digest, or undefined when it checks out. */
export function sealedSnapshotProblem(whole: Uint8Array): string | undefined {
  if (whole.length % SNAPSHOT_ALIGNMENT_BYTES !== SNAPSHOT_DIGEST_BYTES) {
    return `its length ${whole.length} is not ${SNAPSHOT_ALIGNMENT_BYTES}·n + ${SNAPSHOT_DIGEST_BYTES} (no SHA-256 at its end)`;
  }
  const paddedBytes = whole.length - SNAPSHOT_DIGEST_BYTES;
  const digest = createHash('sha256').update(whole.subarray(0, paddedBytes)).digest();
  if (!digest.equals(whole.subarray(paddedBytes))) return 'its SHA-256 digest does not match its data';
  return undefined;
}

/** The padded data of a sealed snapshot (without its digest); check it first. */
export function sealedSnapshotData(whole: Uint8Array): Uint8Array {
  return whole.subarray(0, Math.max(0, whole.length - SNAPSHOT_DIGEST_BYTES));
}
