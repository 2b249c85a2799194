/**
 * Uninitialized bytes carved from Node's shared allocation pool: about ten times cheaper than
 * `new Uint8Array` for small sizes. Only for bytes that are filled completely, written out
 * (to a socket or a file) or copied by their receiver (a proposal: the Raft log copies entries
 * below 4 KiB, and larger ones are not pooled) and dropped: one slice kept alive holds its whole
 * pool chunk, so anything stored (log entries, keys, values) must own its memory.
 */
export function scratchBytes(size: number): Uint8Array {
  return Buffer.allocUnsafe(size);
}

/**
 * `scratchBytes` as a plain Uint8Array rather than a Buffer, for pooled bytes that are also
 * decoded (a proposal): views of a Buffer are Buffers, whose `slice` does not copy.
 */
export function pooledBytes(size: number): Uint8Array {
  const pooled = Buffer.allocUnsafe(size);
  return new Uint8Array(pooled.buffer, pooled.byteOffset, size);
}

/** A DataView over exactly `bytes`, wherever it sits in its ArrayBuffer. */
export function dataViewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
